"""The core never picks its engine: entry points do (issue 16)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import agentorch
from agentorch import Agent, FunctionModel
from agentorch.agent import AgentResult
from agentorch.models.types import Usage
from agentorch.runtime import Engine, default_engine, set_default_engine

CORE = ("agent.py", "orchestrator.py", "planner.py", "review.py", "nesting.py", "runtime.py")


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_orchestration_core_imports_no_engine() -> None:
    root = Path(agentorch.__file__).parent
    for name in CORE:
        imported = _imported_modules(root / name)
        if name == "runtime.py":  # names the default, lazily, in one function
            imported.discard("agentorch.engine")
        assert not {
            m for m in imported if m.startswith(("agentorch.engine", "agentorch.temporal"))
        }, name


class Echo(Agent):
    name = "echo"
    description = "Echoes."
    model = FunctionModel(lambda request: "hello", name="echo")


class Recording(Engine):
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def run_agent(self, agent: Any, prompt: str, **options: Any) -> AgentResult:
        self.calls.append(prompt)
        return AgentResult(output="from engine", usage=Usage(), messages=[], turns=0)


def test_agent_run_uses_the_engine_its_entry_point_gives() -> None:
    engine = Recording()
    result = Echo().run_sync("hi", engine=engine)
    assert (result.output, engine.calls) == ("from engine", ["hi"])


def test_default_engine_is_embedded_and_replaceable() -> None:
    assert type(default_engine()).__name__ == "EmbeddedEngine"
    assert Echo().run_sync("hi").output == "hello"
    engine = Recording()
    set_default_engine(engine)
    try:
        assert Echo().run_sync("hi").output == "from engine"
    finally:
        set_default_engine(None)
    assert type(default_engine()).__name__ == "EmbeddedEngine"
