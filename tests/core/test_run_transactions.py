"""What a durable run commits together: a write that decides, the events reporting it and their
audit records go in one transaction, and writes with nothing between them share one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agentorch import Agent, Budget, Plan, ScriptedModel, Step, Supervisor
from agentorch.models.testing import json_response
from agentorch.store import open_store


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTORCH_AUDIT_KEY", "test-audit-key-0123456789abcdef")


def _transactions(statements: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    for sql in statements:
        if sql.startswith("BEGIN"):
            out.append([])
        elif sql != "COMMIT" and out:
            out[-1].append(sql)
    return out


def _kinds(tx: list[str]) -> list[str]:
    """The audit records a transaction appended, by kind (the third value of each event row)."""
    return [s.split("VALUES (")[1].split(", ")[2].strip("'") for s in tx if "INTO events" in s]


async def test_a_runs_writes_are_grouped_at_their_boundaries(tmp_path: Path) -> None:
    plan = Plan(steps=[Step(id="s1", agent="writer", instruction="write it")], final_step="s1")
    store = open_store(str(tmp_path / "runs.db"))
    supervisor = Supervisor(
        [Agent(name="writer", description="Writes.", model=ScriptedModel(["the text"]))],
        model=ScriptedModel([json_response(plan)]),
        budget=Budget(allow_unpriced=True),
        store=store,
    )
    conn: sqlite3.Connection = store._conn  # type: ignore[attr-defined]
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        result = await supervisor.run("write the text", run_id="r1")
    finally:
        conn.set_trace_callback(None)
    assert result.status == "succeeded", result.error
    txs = [t for t in _transactions(statements) if t]
    first = txs[0]
    assert first[0].startswith("INSERT INTO runs") and "lease_epoch" in first[1]
    assert _kinds(first) == ["run_started"]  # the row, its lease and its first event
    planned = next(t for t in txs if "plan_made" in _kinds(t))
    assert _kinds(planned) == ["state_recorded", "plan_made"]  # the plan on the run's record
    finished = next(t for t in txs if "step_finished" in _kinds(t))
    assert sum(s.startswith("INSERT INTO steps") for s in finished) == 2  # done, then settled
    assert _kinds(finished) == ["state_recorded", "step_finished", "state_recorded"]
    outcome = next(t for t in txs if "run_finished" in _kinds(t))
    assert _kinds(outcome) == ["state_recorded", "run_finished"]
    # the journal's boundaries stay apart: each call is journaled before it runs and after
    journal = [
        t for t in txs if any(s.startswith(("INSERT INTO journal", "UPDATE journal")) for s in t)
    ]
    assert len(journal) == 2 * 2  # the plan and the step's answer (the final step's output)
    assert store.verify_audit("r1").ok
    store.close()
