"""Tool permissions and approval rules written as data (a TOML or YAML policy file).

See ``Policy`` for how the registry uses it, and the README's "Tools" section for the format.
"""

from __future__ import annotations

from agentorch.errors import PolicyError
from agentorch.policy.engine import AgentPermissions, Policy, RefusedTool, ToolPermission
from agentorch.policy.schema import PolicyFile, Selector, parse_selector, path_is_inside

__all__ = [
    "AgentPermissions",
    "Policy",
    "PolicyError",
    "PolicyFile",
    "RefusedTool",
    "Selector",
    "ToolPermission",
    "parse_selector",
    "path_is_inside",
]
