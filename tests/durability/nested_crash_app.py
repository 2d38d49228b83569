"""A nested workflow run in a subprocess by the crash tests; it kills itself with SIGKILL at a chosen point.

usage: nested_crash_app.py STORE_URL WORKDIR (run|resume RUN_ID)
The outer supervisor delegates to an inner one (``ops``: research, then book an invoice through a
side-effecting tool that needs approval), then summarises. Every model function and the tool append
a line to WORKDIR files, so the test can count what really executed.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

from agentorch import Agent, Budget, CallbackApprover, FunctionModel, Plan, Step, Supervisor, tool
from agentorch.approvals import ApprovalDecision, ApprovalRequest
from agentorch.models.testing import text_response, tool_call_response
from agentorch.models.types import ModelRequest, ToolResultMessage

store_url, workdir = sys.argv[1], Path(sys.argv[2])
mode = sys.argv[3]
run_id = sys.argv[4] if mode == "resume" else None
crash_at = os.environ.get("CRASH_AT", "")


def die(point: str) -> None:
    if crash_at == point:
        (workdir / "crashed").write_text(point)
        os.kill(os.getpid(), signal.SIGKILL)


def log(name: str, line: str) -> None:
    with open(workdir / name, "a") as f:
        f.write(line + "\n")


@tool(risk="write", idempotent=False, requires_approval=True)
def append_line(text: str) -> str:
    """Append a line to the ledger (a side effect that must happen once)."""
    log("ledger.txt", text)
    die("in_tool")
    return "appended"


def research(request: ModelRequest) -> str:
    log("calls.txt", "research")
    die("in_model")
    return "research notes"


def bookkeeper(request: ModelRequest):  # type: ignore[no-untyped-def]
    results = [m for m in request.messages if isinstance(m, ToolResultMessage)]
    log("calls.txt", f"bookkeeper:{len(results)}")
    if not results:
        return tool_call_response(("append_line", {"text": "invoice 42"}))
    return text_response("booked")


def summary(request: ModelRequest) -> str:
    log("calls.txt", "summary")
    return "all done"


class Researcher(Agent):
    name = "researcher"


class Bookkeeper(Agent):
    name = "bookkeeper"
    tools = ["append_line"]


class Summarizer(Agent):
    name = "summarizer"


def on_event(event) -> None:  # type: ignore[no-untyped-def]
    if event.kind == "step_finished" and event.step_id == "ops.research":
        die("between_inner_steps")
    if event.kind == "step_finished" and event.step_id == "ops":
        die("after_nested")
    if event.kind == "tool_call_finished":
        die("after_tool")


def decide(request: ApprovalRequest) -> ApprovalDecision:
    log("approvals.txt", f"{request.subject}:{request.step_id}")
    if request.subject == "in_doubt":
        return ApprovalDecision(
            decision="mark_done", approver="test", comment="the ledger has the line"
        )
    die("at_approval")
    return ApprovalDecision(decision="approved", approver="test")


inner = Supervisor(
    [Researcher(model=FunctionModel(research)), Bookkeeper(model=FunctionModel(bookkeeper))],
    tools=[append_line],
    plan=Plan(
        steps=[
            Step(id="research", agent="researcher", instruction="Research"),
            Step(id="book", agent="bookkeeper", instruction="Book it", depends_on=["research"]),
        ],
        final_step="book",
    ),
    approver=CallbackApprover(decide),
    name="ops",
    description="Researches and books invoices.",
)
prices = {
    f"function:{n}": {"input": 1e-6, "output": 2e-6} for n in ("research", "bookkeeper", "summary")
}
sup = Supervisor(
    [inner.as_agent(), Summarizer(model=FunctionModel(summary))],
    tools=[append_line],  # registered on both, as a user may; the inner registry governs ops
    approver=CallbackApprover(decide),
    plan=Plan(
        steps=[
            Step(id="ops", agent="ops", instruction="Book the invoice"),
            Step(id="sum", agent="summarizer", instruction="Summarise", depends_on=["ops"]),
        ],
        final_step="sum",
    ),
    store=store_url,
    on_event=on_event,
    budget=Budget(usd=1.0, prices=prices),
)
if mode == "run":
    rid = "nested" + str(int(time.time() * 1000))
    (workdir / "run_id").write_text(rid)
    result = sup.run_sync("Book the invoice", run_id=rid)
else:
    result = sup.resume_sync(run_id)
print(
    json.dumps(
        {
            "status": result.status,
            "output": result.output,
            "cost": result.usage.total.cost_usd,
            "requests": result.usage.total.requests,
            "error": result.error,
            "steps": sorted(s.step_id for s in sup.store.get_steps(result.run_id)),  # type: ignore[union-attr]
        }
    )
)
