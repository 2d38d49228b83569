"""What a durable run commits together: a write that decides, the events reporting it and their
audit records go in one transaction, and writes with nothing outside the run between them share
one (a call's result is held for the run's next write)."""

from __future__ import annotations

import asyncio
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
    # the router's answer (held from its call) and the plan on the run's record
    assert _kinds(planned) == [
        "state_recorded",
        "model_call_finished",
        "state_recorded",
        "plan_made",
    ]
    started = next(t for t in txs if "step_started" in _kinds(t))
    # a step's start waits for its first call's intent, committed before the call runs
    assert _kinds(started) == ["state_recorded", "step_started", "model_call_started"]
    finished = next(t for t in txs if "step_finished" in _kinds(t))
    assert sum(s.startswith("INSERT INTO steps") for s in finished) == 1
    # the step's result (its row written once, settled) with the run's outcome, held for it
    assert _kinds(finished) == [
        "state_recorded",
        "step_finished",
        "state_recorded",
        "run_finished",
    ]
    # every call's intent is committed (the transaction ends) before the call runs
    intents = [t for t in txs if any(s.startswith("INSERT INTO journal") for s in t)]
    assert len(intents) == 2  # the plan and the step's answer
    assert all(_kinds(t)[-1] == "model_call_started" for t in intents)
    results = [t for t in txs if any(s.startswith("UPDATE journal") for s in t)]
    assert len(results) == 2 and all("model_call_finished" in _kinds(t) for t in results)
    assert store.verify_audit("r1").ok
    store.close()


async def test_a_held_result_is_committed_before_the_event_loop_turns(tmp_path: Path) -> None:
    """A call's result waits for the run's next write, at the latest the loop's next turn: no
    awaited effect of the run can come before it."""
    from agentorch import FunctionModel
    from agentorch.engine import EmbeddedRuntime
    from agentorch.events.bus import EventBus
    from agentorch.models.types import ModelRequest, UserMessage
    from agentorch.runtime import ModelCall
    from agentorch.store import RunRecord
    from agentorch.tools.registry import ToolRegistry

    store = open_store(str(tmp_path / "runs.db"))
    store.create_run(RunRecord(run_id="r1", task="t", status="running"))
    runtime = EmbeddedRuntime(
        run_id="r1",
        budget=Budget(allow_unpriced=True),
        bus=EventBus(),
        registry=ToolRegistry(()),
        approver=None,
        store=store,
    )
    runtime.hold_writes = True
    call = ModelCall(
        key="s/r0/m0",
        agent="solo",
        step_id="s",
        model=FunctionModel(lambda request: "the answer", name="answer"),
        request=ModelRequest(messages=(UserMessage(content="question"),)),
    )
    await runtime.call_model(call)
    assert [e.status for e in store.journal("r1")] == ["started"]  # held
    await asyncio.sleep(0)
    assert [e.status for e in store.journal("r1")] == ["completed"]
    assert [e.kind for e in store.events("r1")][-1] == "state_recorded"  # the row's record
    assert store.verify_audit("r1").ok
    store.close()


async def test_a_held_write_that_fails_on_the_loops_turn_is_retried_by_the_next_write(
    tmp_path: Path,
) -> None:
    from agentorch.engine import EmbeddedRuntime
    from agentorch.errors import StoreError
    from agentorch.events.bus import EventBus
    from agentorch.store import RunRecord, StepRecord
    from agentorch.tools.registry import ToolRegistry

    store = open_store(str(tmp_path / "runs.db"))
    store.create_run(RunRecord(run_id="r1", task="t", status="running"))
    runtime = EmbeddedRuntime(
        run_id="r1",
        budget=Budget(allow_unpriced=True),
        bus=EventBus(),
        registry=ToolRegistry(()),
        approver=None,
        store=store,
    )
    runtime.hold_writes = True
    failures = [StoreError("the store is busy")]

    def flaky() -> None:
        if failures:
            raise failures.pop()

    runtime.hold(flaky)
    with runtime.holding():
        runtime.save_step(StepRecord(run_id="r1", step_id="s", agent="a", status="running"))
        runtime.save_step(StepRecord(run_id="r1", step_id="s", agent="a", status="done"))
    await asyncio.sleep(0)  # the loop's turn: the commit fails, the writes stay held
    assert store.get_steps("r1") == []
    runtime.update_run(status="succeeded")  # the next write commits them first
    assert [s.status for s in store.get_steps("r1")] == ["done"]  # the step's last state only
    assert store.verify_audit("r1").ok
    store.close()
