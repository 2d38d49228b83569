"""Build hook: the bundled specialists, tools and examples ship in the wheel as ``agentorch/_bundled``.

They are never installed as top-level ``agents``/``tools`` packages (the OpenAI Agents SDK owns the
import name ``agents``). Editable installs leave them where they are: discovery finds them in the
source tree.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class BundledFoldersHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version == "standard":
            build_data["force_include"]["agents"] = "agentorch/_bundled/agents"
            build_data["force_include"]["tools"] = "agentorch/_bundled/tools"
            # the RFP example runs from an installed wheel: `agentorch run rfp`, `init --example rfp`
            build_data["force_include"]["examples/rfp"] = "agentorch/_bundled/examples/rfp"
