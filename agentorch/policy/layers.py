"""The policies over an agent of a nested supervisor: its own supervisor's and each enclosing one's.

Each enclosing supervisor sees the agent by its path (``ops.clerk``: agent ``clerk`` of the nested
supervisor ``ops``). The stricter answer wins: a tool is refused if any level refuses it, and a
person must approve a call if any level requires it and does not approve it itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from agentorch.policy.engine import Policy
from agentorch.tools.base import Tool


@dataclass(frozen=True)
class Layer:
    """One supervisor's policy, and the prefix that turns an inner agent's name into its path."""

    policy: Policy
    prefix: str = ""

    def name(self, agent: str) -> str:
        return self.prefix + agent


class PolicyLayers:
    """Answers the registry's permission and approval questions for every level at once."""

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = tuple(layers)

    def nested(self, own: Policy | None, name: str) -> PolicyLayers:
        """The layers an agent of the nested supervisor ``name`` sees: its own policy first."""
        outer = tuple(Layer(la.policy, f"{la.prefix}{name}.") for la in self.layers)
        return PolicyLayers((Layer(own or Policy.empty()), *outer))

    def check_permission(
        self, agent: str, tool: Tool, *, declared: Sequence[str] | None
    ) -> str | None:
        for layer in self.layers:
            reason = layer.policy.check_permission(layer.name(agent), tool, declared=declared)
            if reason is not None:
                return reason
        return None

    def approval_reason(self, agent: str, tool: Tool, arguments: dict[str, Any]) -> str | None:
        reasons: list[str] = []
        for layer in self.layers:
            reason = layer.policy.approval_reason(layer.name(agent), tool, arguments)
            if reason is not None and reason not in reasons:
                reasons.append(reason)
        return "; ".join(reasons) if reasons else None

    def auto_approves(self, agent: str, tool: Tool, arguments: dict[str, Any]) -> bool:
        """Only when every level that requires approval approves the call itself."""
        requiring = [
            la
            for la in self.layers
            if la.policy.approval_reason(la.name(agent), tool, arguments) is not None
        ]
        return bool(requiring) and all(
            la.policy.auto_approves(la.name(agent), tool, arguments) for la in requiring
        )

    def asking(self, agent: str, tool: Tool, arguments: dict[str, Any]) -> list[int]:
        """The levels (0: the agent's own supervisor) whose rules need a person for this call.

        A tool that always requires approval is the agent's own supervisor's to ask about; an
        enclosing level asks only when its own policy requires it.
        """
        plain = replace(tool, requires_approval=False) if tool.requires_approval else tool
        levels = []
        for index, layer in enumerate(self.layers):
            subject = tool if index == 0 else plain
            name = layer.name(agent)
            if layer.policy.approval_reason(name, subject, arguments) is None:
                continue
            if not layer.policy.auto_approves(name, subject, arguments):
                levels.append(index)
        return levels or [0]
