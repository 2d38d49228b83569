"""Small builders shared by the store tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentorch.store import ApprovalRecord, JournalEntry, RunRecord, StepRecord, Store


def make_run(store: Store, run_id: str = "run-1", **fields: Any) -> RunRecord:
    fields.setdefault("task", "Draft the RFP response")
    run = RunRecord(run_id=run_id, **fields)
    store.create_run(run)
    return run


def make_step(run_id: str = "run-1", step_id: str = "s1", **fields: Any) -> StepRecord:
    fields.setdefault("agent", "writer")
    return StepRecord(run_id=run_id, step_id=step_id, **fields)


def make_entry(run_id: str = "run-1", key: str = "s1/0/tool/1", **fields: Any) -> JournalEntry:
    fields.setdefault("kind", "tool")
    fields.setdefault("name", "send_email")
    return JournalEntry(run_id=run_id, key=key, **fields)


def make_approval(request_id: str = "ap-1", run_id: str = "run-1", **fields: Any) -> ApprovalRecord:
    fields.setdefault("tool", "send_email")
    fields.setdefault("arguments", {"to": "client@example.com"})
    return ApprovalRecord(request_id=request_id, run_id=run_id, **fields)


#: A fixture function that runs raw SQL on the store's database and returns the rows.
Raw = Callable[..., list[tuple[Any, ...]]]
