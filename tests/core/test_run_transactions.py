"""What a durable run commits together: a write that decides, the events reporting it and their
audit records go in one transaction, and writes with nothing outside the run between them share
one (a call's result is held for the run's next write)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from agentorch import Agent, Budget, Plan, ScriptedModel, Step, Supervisor
from agentorch.models.testing import json_response
from agentorch.result import RunResult
from agentorch.store import Store, open_store


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTORCH_AUDIT_KEY", "test-audit-key-0123456789abcdef")
    # Which writes share a transaction must not depend on how fast a loaded machine runs: held
    # writes wait for the run's next write here, never for the time bound (tested on its own).
    monkeypatch.setattr("agentorch._held.HOLD_FOR", 30.0)


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


def _rows(store: Store, tx: list[str]) -> list[tuple[str, str | None]]:
    """``(table, status)`` of each row the transaction's ``rows_recorded`` record names."""
    (insert,) = [s for s in tx if "INTO events" in s and "'rows_recorded'" in s]
    run_id, seq = (v.strip("'") for v in insert.split("VALUES (")[1].split(", ")[:2])
    (record,) = [r for r in store.events(run_id) if r.seq == int(seq)]
    return [(row["table"], row.get("status")) for row in record.payload["rows"]]


async def _traced_run(
    tmp_path: Path, run_id: str | None = None
) -> tuple[RunResult, list[list[str]], Store]:
    """A one-step planned run on a SQLite store: its result, its non-empty transactions (the
    statements of each) and the store (to close)."""
    plan = Plan(steps=[Step(id="s1", agent="writer", instruction="write it")], final_step="s1")
    store = open_store(str(tmp_path / "runs.db"))
    supervisor = Supervisor(
        [Agent(name="writer", description="Writes.", model=ScriptedModel(["the text"]))],
        model=ScriptedModel([json_response(plan)]),
        budget=Budget(allow_unpriced=True),
        store=store,
    )
    result, txs = await _traced(supervisor, store, "write the text", run_id)
    return result, txs, store


async def _traced(
    supervisor: Supervisor, store: Store, task: str, run_id: str | None
) -> tuple[RunResult, list[list[str]]]:
    """Run ``task``; its result (checked succeeded) and its non-empty transactions."""
    conn: sqlite3.Connection = store._conn  # type: ignore[attr-defined]
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        result = await supervisor.run(task, run_id=run_id)
    finally:
        conn.set_trace_callback(None)
    assert result.status == "succeeded", result.error
    return result, [t for t in _transactions(statements) if t]


async def test_a_runs_writes_are_grouped_at_their_boundaries(tmp_path: Path) -> None:
    _, txs, store = await _traced_run(tmp_path, run_id="r1")
    first = txs[0]
    assert first[0].startswith("INSERT INTO runs") and "lease_epoch" in first[1]
    assert _kinds(first) == ["run_started"]  # the row, its lease and its first event
    planned = next(t for t in txs if "plan_made" in _kinds(t))
    # the router's answer (held from its call) and the plan on the run's record, held for the
    # step's start and its first call's intent, committed before the call runs; the rows the
    # transaction wrote (the answer's journal entry, the run, the step) recorded last
    assert _kinds(planned) == [
        "model_call_finished",
        "plan_made",
        "step_started",
        "model_call_started",
        "rows_recorded",
    ]
    assert _rows(store, planned) == [("journal", "completed"), ("runs", None), ("steps", None)]
    finished = next(t for t in txs if "step_finished" in _kinds(t))
    assert sum(s.startswith("INSERT INTO steps") for s in finished) == 1
    # the step's answer and result (its row written once, settled) with the run's outcome,
    # held for it
    assert _kinds(finished) == [
        "model_call_finished",
        "step_finished",
        "run_finished",
        "rows_recorded",
    ]
    assert _rows(store, finished) == [("journal", "completed"), ("steps", None), ("runs", None)]
    # every call's intent is committed (the transaction ends) before the call runs
    intents = [t for t in txs if any(s.startswith("INSERT INTO journal") for s in t)]
    assert len(intents) == 2  # the plan and the step's answer
    assert all(_kinds(t)[-1] in ("model_call_started", "rows_recorded") for t in intents)
    assert all("model_call_started" in _kinds(t) for t in intents)
    results = [t for t in txs if any(s.startswith("UPDATE journal") for s in t)]
    assert len(results) == 2 and all("model_call_finished" in _kinds(t) for t in results)
    assert store.verify_audit("r1").ok
    store.close()


async def test_a_run_with_a_new_id_is_created_in_its_first_calls_transaction(
    tmp_path: Path,
) -> None:
    result, txs, store = await _traced_run(tmp_path)  # an id nobody else can know yet
    first = txs[0]
    # the row, its lease and its first event, then the planner's intent: one transaction,
    # committed before the planner's call runs
    assert first[0].startswith("INSERT INTO runs") and "lease_epoch" in first[1]
    assert any(s.startswith("INSERT INTO journal") for s in first)
    assert _kinds(first) == ["run_started", "model_call_started"]
    assert store.verify_audit(result.run_id).ok
    assert store.lease_holder(result.run_id)[0] is None  # given up with the outcome
    store.close()


#: The time bound on held writes in the tests of that bound (the others raise it: ``_key``).
SHORT_HOLD = 0.01


async def test_a_held_result_is_committed_with_the_next_write_or_after_a_short_while(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call's result waits for the run's next write, at the latest ``HOLD_FOR`` seconds."""
    from agentorch.store import RunRecord

    monkeypatch.setattr("agentorch._held.HOLD_FOR", SHORT_HOLD)
    store = open_store(str(tmp_path / "runs.db"))
    store.create_run(RunRecord(run_id="r1", task="t", status="running"))
    runtime: Any = _runtime(store)
    await runtime.call_model(_call("s/r0/m0", lambda request: "the answer"))
    assert [e.status for e in store.journal("r1")] == ["started"]  # held
    await asyncio.sleep(SHORT_HOLD * 2)
    assert [e.status for e in store.journal("r1")] == ["completed"]
    assert [e.kind for e in store.events("r1")][-1] == "rows_recorded"  # the row's record
    assert store.verify_audit("r1").ok
    store.close()


async def test_a_held_write_that_fails_on_the_loops_turn_is_retried_by_the_next_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentorch.errors import StoreError
    from agentorch.store import RunRecord, StepRecord

    monkeypatch.setattr("agentorch._held.HOLD_FOR", SHORT_HOLD)
    store = open_store(str(tmp_path / "runs.db"))
    store.create_run(RunRecord(run_id="r1", task="t", status="running"))
    runtime: Any = _runtime(store)
    failures = [StoreError("the store is busy")]

    def flaky() -> None:
        if failures:
            raise failures.pop()

    runtime.hold(flaky)
    with runtime.holding():
        runtime.save_step(StepRecord(run_id="r1", step_id="s", agent="a", status="running"))
        runtime.save_step(StepRecord(run_id="r1", step_id="s", agent="a", status="done"))
    await asyncio.sleep(SHORT_HOLD * 2)  # the held writes' time: the commit fails, they stay held
    assert store.get_steps("r1") == []
    runtime.update_run(status="succeeded")  # the next write commits them first
    assert [s.status for s in store.get_steps("r1")] == ["done"]  # the step's last state only
    assert store.verify_audit("r1").ok
    store.close()


def _runtime(store: object) -> object:
    from agentorch.engine import EmbeddedRuntime
    from agentorch.events.bus import EventBus
    from agentorch.tools.registry import ToolRegistry

    runtime = EmbeddedRuntime(
        run_id="r1",
        budget=Budget(allow_unpriced=True),
        bus=EventBus(),
        registry=ToolRegistry(()),
        approver=None,
        store=store,  # type: ignore[arg-type]
    )
    runtime.hold_writes = True
    return runtime


def _call(key: str, answer: object) -> object:
    from agentorch import FunctionModel
    from agentorch.models.types import ModelRequest, UserMessage
    from agentorch.runtime import ModelCall

    return ModelCall(
        key=key,
        agent="solo",
        step_id="s",
        model=FunctionModel(answer, name="answer"),  # type: ignore[arg-type]
        request=ModelRequest(messages=(UserMessage(content="question"),)),
    )


def _committed(path: Path) -> list[tuple[str, str]]:
    """The journal as another process sees it (committed rows only)."""
    with sqlite3.connect(path) as other:
        return other.execute("SELECT key, status FROM journal ORDER BY key").fetchall()


async def test_parallel_steps_commit_their_intents_together_and_each_call_waits_for_it(
    tmp_path: Path,
) -> None:
    """Group commit: the intents parallel steps reach in one turn of the event loop share one
    transaction, and no call starts before its own intent is committed."""
    from agentorch import FunctionModel

    path = tmp_path / "runs.db"
    seen: dict[str, list[tuple[str, str]]] = {}

    def specialist(name: str) -> Agent:
        def answer(request: object) -> str:
            seen[name] = _committed(path)  # what a crash right now would leave
            return f"{name} answered"

        return Agent(name=name, description="Answers.", model=FunctionModel(answer, name=name))

    plan = Plan(
        steps=[Step(id=f"s{i}", agent=f"a{i}", instruction="answer") for i in range(3)],
    )
    store = open_store(str(path))
    supervisor = Supervisor(
        [specialist(f"a{i}") for i in range(3)],
        model=ScriptedModel([json_response(plan), "all answered"]),
        budget=Budget(allow_unpriced=True),
        store=store,
    )
    _, txs = await _traced(supervisor, store, "answer", "r1")
    for i in range(3):
        assert (f"model:s{i}/r0/m0", "started") in seen[f"a{i}"], seen
    started = [t for t in txs if "step_started" in _kinds(t)]
    assert len(started) == 1  # the three steps' starts and first intents: one transaction
    assert _kinds(started[0]).count("model_call_started") == 3
    assert store.verify_audit("r1").ok
    store.close()


async def test_a_call_whose_intent_cannot_be_committed_never_runs(tmp_path: Path) -> None:
    from agentorch.errors import StoreError
    from agentorch.store import RunRecord

    store = open_store(str(tmp_path / "runs.db"))
    store.create_run(RunRecord(run_id="r1", task="t", status="running"))
    runtime = _runtime(store)
    ran: list[object] = []

    def refuse(entry: object) -> None:
        raise StoreError("the disk is full")

    store.journal_start = refuse  # type: ignore[method-assign]
    with pytest.raises(StoreError, match="disk is full"):
        await runtime.call_model(_call("s/r0/m0", lambda request: ran.append(request) or "x"))  # type: ignore[attr-defined]
    assert ran == []
    assert runtime.budget.open_reservations == 0  # type: ignore[attr-defined]
    await asyncio.sleep(0)
    assert store.journal("r1") == []
    store.close()


async def test_a_call_cancelled_before_its_intent_is_committed_leaves_no_intent(
    tmp_path: Path,
) -> None:
    from agentorch.store import RunRecord

    store = open_store(str(tmp_path / "runs.db"))
    store.create_run(RunRecord(run_id="r1", task="t", status="running"))
    runtime = _runtime(store)
    ran: list[object] = []
    task = asyncio.create_task(
        runtime.call_model(_call("s/r0/m0", lambda request: ran.append(request) or "x"))  # type: ignore[attr-defined]
    )
    await asyncio.sleep(0)  # the call reached its intent and waits for the commit
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(2):  # the held writes' commit
        await asyncio.sleep(0)
    assert ran == [] and store.journal("r1") == []
    assert runtime.budget.open_reservations == 0  # type: ignore[attr-defined]
    assert store.verify_audit("r1").ok
    store.close()


async def test_a_read_tools_intent_is_held_and_a_write_tools_committed_before_it_runs(
    tmp_path: Path,
) -> None:
    """A read-only call that runs again after a crash changes nothing: its intent is committed
    with its result. A call with an effect runs only once its intent is committed."""
    from agentorch import FunctionModel, tool
    from agentorch.models.testing import tool_call_response
    from agentorch.models.types import ModelRequest, ToolResultMessage

    path = tmp_path / "runs.db"
    seen: dict[str, list[tuple[str, str]]] = {}

    @tool
    async def look_up(query: str) -> str:
        """Look a fact up."""
        seen["look_up"] = _committed(path)
        return "the fact"

    @tool(risk="write")
    def file_it(text: str) -> str:
        """File the text."""
        seen["file_it"] = _committed(path)
        return "filed"

    def answer(request: ModelRequest) -> object:
        done = [m for m in request.messages if isinstance(m, ToolResultMessage)]
        if not done:
            return tool_call_response(("look_up", {"query": "q"}))
        if len(done) == 1:
            return tool_call_response(("file_it", {"text": "t"}))
        return "done"

    plan = Plan(steps=[Step(id="s1", agent="clerk", instruction="file it")], final_step="s1")
    store = open_store(str(path))
    supervisor = Supervisor(
        [
            Agent(
                name="clerk",
                description="Files.",
                model=FunctionModel(answer, name="clerk"),
                tools=["look_up", "file_it"],
            )
        ],
        model=ScriptedModel([json_response(plan)]),
        tools=[look_up, file_it],
        budget=Budget(allow_unpriced=True),
        store=store,
    )
    result = await supervisor.run("file it", run_id="r1")
    assert result.status == "succeeded", result.error
    assert not any(key.startswith("tool:") for key, _ in seen["look_up"])
    assert [s for k, s in seen["file_it"] if k.startswith("tool:")] == ["completed", "started"], (
        seen
    )
    tools = {e.name: e.status for e in store.journal("r1", kind="tool")}
    assert tools == {"look_up": "completed", "file_it": "completed"}
    assert store.verify_audit("r1").ok
    store.close()
