"""Garbage-collector pressure: tuning is opt-in (the agentorch command does it, importing agentorch
does not), and a finished run leaves no reference cycle behind."""

from __future__ import annotations

import gc
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

SCRIPT = """
import gc, sys
before = gc.get_threshold()[0]
import agentorch, agentorch.supervisor
assert gc.get_threshold()[0] == before, "importing agentorch changed the collector"
from agentorch.cli import main
try:
    main(["runs", "--help"])
except SystemExit:
    pass
print(gc.get_threshold()[0], gc.get_freeze_count() > 0)
"""


def test_the_command_tunes_its_process_and_an_import_never_does() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split()[-2:] == ["50000", "True"]


def _agentorch_objects(objects: list[Any]) -> list[str]:
    """Names of the runtime's own objects (instances of its classes, its functions) among these."""
    names = []
    for obj in objects:
        if isinstance(obj, types.FunctionType | types.MethodType):
            module, name = getattr(obj, "__module__", "") or "", obj.__qualname__
        else:
            module, name = type(obj).__module__, type(obj).__qualname__
        if module.startswith("agentorch"):
            names.append(f"{module}.{name}")
    return sorted(set(names))


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("plain", "succeeded"),
        ("durable", "succeeded"),
        ("model fails", "failed"),
        ("tool fails", "succeeded"),  # the error goes back to the model, which answers
        ("over budget", "budget_exceeded"),
    ],
)
async def test_a_finished_run_leaves_no_reference_cycle_of_the_runtime(
    case: str, status: str, tmp_path: Path
) -> None:
    """A run is freed by reference counting when it ends: the cyclic collector finds none of it,
    whether the run succeeded or an error went through the runtime's frames (each error keeps
    them in its traceback).

    With thousands of runs in one process, each cycle left behind is work for the collector and
    memory held until it runs (``python -m bench run-scaling``).
    """
    from agentorch import Agent, Budget, Plan, Step, Supervisor, tool
    from agentorch.models.testing import (
        FunctionModel,
        json_response,
        text_response,
        tool_call_response,
    )
    from agentorch.models.types import ModelRequest, ToolResultMessage

    @tool
    def lookup(query: str) -> str:
        """Look a fact up."""
        if case == "tool fails":
            raise ValueError("the index is down")
        return f"fact about {query}"

    def answer(request: ModelRequest) -> Any:
        if case == "model fails":
            raise RuntimeError("provider down")
        if any(isinstance(m, ToolResultMessage) for m in request.messages):
            return text_response("done")
        return tool_call_response(("lookup", {"query": "x"}))

    plan = Plan(steps=[Step(id="s1", agent="worker", instruction="Look it up.")])

    def supervise(request: ModelRequest) -> Any:
        return json_response(plan) if request.output_schema else text_response("all done")

    agent = Agent(
        name="worker", description="Looks things up.", model=FunctionModel(answer), tools=["lookup"]
    )
    sup = Supervisor(
        [agent],
        model=FunctionModel(supervise),
        tools=[lookup],
        store=str(tmp_path / "runs.db") if case == "durable" else None,
        budget=Budget(tokens=10) if case == "over budget" else None,
    )
    try:
        assert (await sup.run("warm up")).status == status
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.disable()
        try:
            assert (await sup.run("look it up")).status == status
            gc.collect()
            left = _agentorch_objects(gc.garbage)
        finally:
            gc.enable()
            gc.set_debug(0)
            gc.garbage.clear()
    finally:
        if sup.store is not None:
            sup.store.close()
    assert left == []
