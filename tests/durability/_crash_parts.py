"""What the crash apps share: their command line, the kill switch, the specialists and the tool.

Imported by ``crash_app.py`` and ``nested_crash_app.py`` (run as scripts, so this folder is on
``sys.path``). Every model function and the side-effecting tool append a line to WORKDIR files, so
a test can count what really executed.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from agentorch import Agent, tool
from agentorch.approvals import ApprovalDecision, ApprovalRequest
from agentorch.models.testing import text_response, tool_call_response
from agentorch.models.types import ModelRequest, ToolResultMessage

store_url, workdir = sys.argv[1], Path(sys.argv[2])
mode = sys.argv[3]
run_id = sys.argv[4] if mode == "resume" else None
crash_at = os.environ.get("CRASH_AT", "")

PRICES = {
    f"function:{n}": {"input": 1e-6, "output": 2e-6} for n in ("research", "bookkeeper", "summary")
}


def die(point: str) -> None:
    if crash_at == point:
        (workdir / "crashed").write_text(point)
        os.kill(os.getpid(), signal.SIGKILL)


def _kill_inside_store_writes() -> None:
    """Kill points inside a transaction, before it commits: the tool's result written
    (``tool_result_unsaved``) and the bookkeeper's next call's intent written, the tool's result
    held for that transaction (``before_next_intent``). Either way the tool's result is not
    durable, so a resume must treat the call as in doubt and never run it again."""
    from agentorch.store._store import SQLRecordStore

    start, finish = SQLRecordStore.journal_start, SQLRecordStore.journal_finish

    def journal_start(self: SQLRecordStore, entry: Any) -> None:
        bookkeeper = entry.kind == "model" and (entry.request or {}).get("agent") == "bookkeeper"
        if bookkeeper and (workdir / "ledger.txt").exists():
            die("before_next_intent")
        start(self, entry)

    def journal_finish(self: SQLRecordStore, run_id: str, key: str, **fields: Any) -> None:
        if key.startswith("tool:"):
            die("tool_result_unsaved")
        finish(self, run_id, key, **fields)

    SQLRecordStore.journal_start = journal_start  # type: ignore[method-assign]
    SQLRecordStore.journal_finish = journal_finish  # type: ignore[method-assign]


if crash_at in ("tool_result_unsaved", "before_next_intent"):
    _kill_inside_store_writes()


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
    # The first moments after the research step's end and after the tool's result are durable:
    # each is committed with this call's intent (group commit), so the call is in flight.
    if results:
        die("after_tool")
    else:
        die("between_steps")
        die("between_inner_steps")
    log("calls.txt", f"bookkeeper:{len(results)}")
    if not results:
        return tool_call_response(("append_line", {"text": "invoice 42"}))
    return text_response("booked")


def summary(request: ModelRequest) -> str:
    # The first moment after the nested step's result is durable: it is committed with this
    # call's intent (a live view hears of the step's end only then).
    die("after_nested")
    log("calls.txt", "summary")
    time.sleep(float(os.environ.get("SUMMARY_DELAY", "0")))
    return "all done"


class Researcher(Agent):
    name = "researcher"


class Bookkeeper(Agent):
    name = "bookkeeper"
    tools = ["append_line"]


class Summarizer(Agent):
    name = "summarizer"


def decide(request: ApprovalRequest) -> ApprovalDecision:
    log("approvals.txt", f"{request.subject}:{request.step_id}")
    if request.subject == "in_doubt":
        return ApprovalDecision(
            decision="mark_done", approver="test", comment="the ledger has the line"
        )
    die("at_approval")
    return ApprovalDecision(decision="approved", approver="test")


def run_or_resume(sup: Any, prefix: str, **extra: Any) -> None:
    """Run (the run id is written first, so a test can resume a killed run) or resume; print JSON."""
    if mode == "run":
        rid = prefix + str(int(time.time() * 1000))
        (workdir / "run_id").write_text(rid)
        result = sup.run_sync("Book the invoice", run_id=rid)
    else:
        result = sup.resume_sync(run_id)
    out = {
        "status": result.status,
        "output": result.output,
        "cost": result.usage.total.cost_usd,
        "requests": result.usage.total.requests,
        "error": result.error,
    }
    print(json.dumps({**out, **{k: fn(result) for k, fn in extra.items()}}))
