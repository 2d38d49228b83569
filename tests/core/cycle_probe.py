"""Runs one run per case in a fresh interpreter and prints, as JSON, the runtime's objects the
cyclic collector found after it (``test_tuning`` checks there are none). A fresh process: what
other tests leave running (threads, loops) would otherwise count as this run's garbage."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

from agentorch import Agent, Budget, Plan, Step, Supervisor, tool
from agentorch.models.testing import FunctionModel, json_response, text_response, tool_call_response
from agentorch.models.types import ModelRequest, ToolResultMessage

#: Each case and the status its run ends with.
CASES = {
    "plain": "succeeded",
    "durable": "succeeded",
    "model fails": "failed",
    "tool fails": "succeeded",  # the error goes back to the model, which answers
    "over budget": "budget_exceeded",
}


def runtime_objects(objects: list[Any]) -> list[str]:
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


def supervisor(case: str, folder: Path) -> Supervisor:
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
    return Supervisor(
        [agent],
        model=FunctionModel(supervise),
        tools=[lookup],
        store=str(folder / "runs.db") if case == "durable" else None,
        budget=Budget(tokens=10) if case == "over budget" else None,
    )


async def left_by(case: str, folder: Path) -> list[str]:
    """The runtime's objects in reference cycles after one run of ``case`` (after a warm-up)."""
    sup = supervisor(case, folder)
    try:
        for task in ("warm up", "look it up"):
            if task != "warm up":
                gc.collect()
                gc.set_debug(gc.DEBUG_SAVEALL)
                gc.disable()
            result = await sup.run(task)
            if result.status != CASES[case]:
                return [f"the run ended {result.status}, not {CASES[case]}"]
        del result
        gc.collect()
        return runtime_objects(gc.garbage)
    finally:
        gc.enable()
        gc.set_debug(0)
        gc.garbage.clear()
        if sup.store is not None:
            sup.store.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        found = {
            case: asyncio.run(left_by(case, Path(tmp) / str(i))) for i, case in enumerate(CASES)
        }
    print(json.dumps(found))


if __name__ == "__main__":
    sys.exit(main())
