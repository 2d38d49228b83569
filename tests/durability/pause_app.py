"""A two-step workflow run in a subprocess by the fencing tests; the test pauses it with SIGSTOP.

usage: pause_app.py STORE_URL WORKDIR (run|resume) RUN_ID
With PAUSE=1 the first model call writes WORKDIR/paused and waits PAUSE_WAIT seconds, so the test
can stop the process there. Each step's tool appends a line to WORKDIR/effects.txt (a side effect
that must happen once); every model call appends to WORKDIR/calls.txt. The last line of stdout is
the outcome as JSON (``{"lease_lost": ...}`` when this process lost the run to another one).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from agentorch import Agent, Budget, FunctionModel, LeaseLostError, Plan, Step, Supervisor, tool
from agentorch.models.testing import text_response, tool_call_response
from agentorch.models.types import ModelRequest, ModelResponse, ToolResultMessage

store_url, workdir, mode, run_id = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
pause = os.environ.get("PAUSE") == "1"


def log(name: str, line: str) -> None:
    with open(workdir / name, "a") as f:
        f.write(f"{line}\n")


@tool(risk="write", idempotent=False)
def effect(name: str) -> str:
    """Record that a step's side effect happened."""
    log("effects.txt", name)
    return "done"


async def worker(request: ModelRequest) -> ModelResponse:
    step = "a" if _first(request, "Do step a") else "b"
    done = any(isinstance(m, ToolResultMessage) for m in request.messages)
    log("calls.txt", f"{os.getpid()}:{step}:{int(done)}")
    global pause
    if pause:
        pause = False
        (workdir / "paused").write_text(str(os.getpid()))
        await asyncio.sleep(float(os.environ.get("PAUSE_WAIT", "30")))
    if done:
        return text_response(f"{step} finished")
    return tool_call_response(("effect", {"name": step}))


def _first(request: ModelRequest, text: str) -> bool:
    return any(text in str(getattr(m, "content", "") or "") for m in request.messages)


class Worker(Agent):
    name = "worker"
    tools = ["effect"]


plan = Plan(
    steps=[
        Step(id="a", agent="worker", instruction="Do step a"),
        Step(id="b", agent="worker", instruction="Do step b", depends_on=["a"]),
    ],
    final_step="b",
)
sup = Supervisor(
    [Worker(model=FunctionModel(worker))],
    tools=[effect],
    plan=plan,
    store=store_url,
    budget=Budget(usd=1.0, prices={"function:worker": {"input": 1e-6, "output": 2e-6}}),
)
try:
    if mode == "run":
        result = sup.run_sync("Do both steps", run_id=run_id)
    else:
        result = sup.resume_sync(run_id)
except LeaseLostError as exc:
    print(json.dumps({"lease_lost": True, "error": str(exc)}))
    sys.exit(3)
print(json.dumps({"lease_lost": False, "status": result.status, "output": result.output}))
