"""MCP tools go through the same registry path: one permitted, one forbidden."""

from __future__ import annotations

import sys
from pathlib import Path

from agentorch import Agent, ApproveAll, Budget, Plan, ScriptedModel, Step, Supervisor, ToolRegistry
from agentorch.events.types import BaseEvent
from agentorch.models.testing import tool_call_response
from agentorch.models.types import ToolResultMessage
from agentorch.tools.mcp import load_mcp_tools

SERVER = [sys.executable, str(Path(__file__).parents[1] / "tools" / "_mcp_demo_server.py")]


class Calculator(Agent):
    name = "calculator"
    tools = ["demo_add"]


async def test_mcp_tool_permitted_and_forbidden() -> None:
    async with load_mcp_tools(SERVER[0], args=SERVER[1:], prefix="demo", risk="read") as toolset:
        model = ScriptedModel(
            [
                tool_call_response(("demo_add", {"a": 2, "b": 3})),
                tool_call_response(("demo_shout-text", {"text": "hi"})),
                "five",
            ]
        )
        events: list[BaseEvent] = []
        sup = Supervisor(
            [Calculator(model=model)],
            tools=ToolRegistry(list(toolset)),
            approver=ApproveAll(),
            plan=Plan(steps=[Step(id="s", agent="calculator", instruction="add")], final_step="s"),
            budget=Budget(allow_unpriced=True),
            on_event=events.append,
        )
        result = await sup.run("add two and three")
    assert result.status == "succeeded", result.error
    assert [t.name for t in model.requests[0].tools] == ["demo_add"]
    first = [m for m in model.requests[1].messages if isinstance(m, ToolResultMessage)]
    assert first[-1].content.strip() == "5" and not first[-1].is_error
    second = [m for m in model.requests[2].messages if isinstance(m, ToolResultMessage)]
    assert second[-1].is_error and "not permitted" in second[-1].content
    assert any(e.kind == "permission_refused" for e in events)
