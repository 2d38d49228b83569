"""Runs on a real Temporal dev server with worker processes (issue 16).

Each test starts its own workers (separate processes serving ``temporal_app.py``) on its own task
queue; the store is a SQLite file the workers and this test share.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from determinism import assert_replays
from temporal_app import ApproveAll, make_supervisor

from agentorch.store import open_store
from agentorch.temporal import Temporal, Timeouts

TIMEOUTS = Timeouts(heartbeat_seconds=2.0, approval_poll_seconds=2.0)


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _pids(lines: list[str]) -> set[str]:
    return {line.rsplit("pid=", 1)[1] for line in lines}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentorch", *args], capture_output=True, text=True, timeout=120
    )


async def test_runs_end_to_end_on_two_worker_processes(workers, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/runs.db"
    pids = workers.app("two", store, count=2)
    supervisor = make_supervisor(store, tmp_path)
    temporal = Temporal(workers.address, task_queue="two", approve_all=True, timeouts=TIMEOUTS)
    seen: list[str] = []
    supervisor.subscribe(lambda event: seen.append(event.kind))
    results = []
    for _ in range(8):  # until both workers have served calls (the server picks who polls first)
        batch = await asyncio.gather(
            *(temporal.run(supervisor, "Book invoice 42") for _ in range(4))
        )
        results.extend(batch)
        if _pids(_lines(tmp_path / "calls.txt")) >= {str(p) for p in pids}:
            break
    assert {r.status for r in results} == {"succeeded"}
    assert results[0].output == "all done"
    assert _pids(_lines(tmp_path / "calls.txt")) == {str(p) for p in pids}
    assert len(_lines(tmp_path / "ledger.txt")) == len(results)  # each run's side effect once
    assert seen[0] == "run_started" and "run_finished" in seen  # events streamed back
    run_id = results[0].run_id
    db = open_store(store)
    record = db.get_run(run_id)
    assert record.status == "succeeded" and record.spec["temporal"]["task_queue"] == "two"
    assert db.verify_audit(run_id).ok
    kinds = [e.kind for e in db.events(run_id)]
    assert kinds[0] == "run_started"
    assert kinds[-2:] == ["run_finished", "rows_recorded"] or kinds[-1] == "run_finished"
    shown = _cli("show", run_id, "--store", store)
    assert shown.returncode == 0, shown.stderr
    assert "succeeded" in shown.stdout
    verified = _cli("audit", "verify", run_id, "--store", store)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    resumed = _cli("resume", run_id, "--store", store)  # never run here a second time
    assert resumed.returncode != 0 and "runs on Temporal" in resumed.stderr
    assert "Traceback" not in resumed.stderr
    await assert_replays(temporal, "books", supervisor, run_id)


async def test_a_killed_worker_s_call_finishes_on_the_other_once(workers, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/runs.db"
    workers.app("kill", store, count=2)
    supervisor = make_supervisor(store, tmp_path)
    temporal = Temporal(workers.address, task_queue="kill", approve_all=True, timeouts=TIMEOUTS)
    (tmp_path / "hold_research").write_text("hold")
    handle = await temporal.start(supervisor, "Book invoice 42")
    deadline = time.monotonic() + 60
    while not _lines(tmp_path / "calls.txt"):
        assert time.monotonic() < deadline, "the research call never started"
        await asyncio.sleep(0.05)
    victim = int(_pids(_lines(tmp_path / "calls.txt")).pop())
    workers.kill(victim)
    (tmp_path / "hold_research").unlink()
    result = await asyncio.wait_for(temporal.result(supervisor, handle.id), 180)
    assert result.status == "succeeded", result.error
    calls = [line.split(" pid=")[0] for line in _lines(tmp_path / "calls.txt")]
    assert calls == ["research", "research", "book:0", "book:1", "summary"]
    assert str(victim) not in _pids(_lines(tmp_path / "calls.txt")[1:])
    assert len(_lines(tmp_path / "ledger.txt")) == 1  # the side effect ran once
    db = open_store(store)
    finished = [e.payload for e in db.events(handle.id) if e.kind == "model_call_finished"]
    keys = [p["call_key"] for p in finished]
    assert len(keys) == len(set(keys)) == 4  # every call settled once: no double charge
    research = result.usage.by_model["function:research"]
    settled = next(p for p in finished if p["model"] == "function:research")
    # the killed attempt (which may have been billed) is charged at its reservation, once
    started = [e.payload for e in db.events(handle.id) if e.kind == "model_call_started"]
    reserved = next(p for p in started if p["model"] == "function:research")["reserved_usd"]
    assert research.requests == 2
    assert research.cost_usd == pytest.approx(settled["cost_usd"] + reserved)
    assert result.usage.total.cost_usd <= 1.0
    assert db.verify_audit(handle.id).ok
    await assert_replays(temporal, "books", supervisor, handle.id)


@pytest.mark.parametrize("level", ["", "nested", "deep"], ids=["run", "child", "grandchild"])
async def test_approval_from_another_process_reaches_the_waiting_workflow(
    workers, tmp_path: Path, level: str
) -> None:
    store = f"sqlite:///{tmp_path}/runs.db"
    queue = f"approve-{level}"
    workers.app(queue, store, *([level] if level else []))
    supervisor = make_supervisor(store, tmp_path, nested=level == "nested", deep=level == "deep")
    # a long store poll: only the signal (forwarded down to the child workflows) can wake it soon
    slow = Timeouts(heartbeat_seconds=2.0, approval_poll_seconds=600.0)
    temporal = Temporal(workers.address, task_queue=queue, timeouts=slow)
    handle = await temporal.start(supervisor, "Book invoice 42")
    db = open_store(store)
    deadline = time.monotonic() + 60
    while db.get_run(handle.id).status != "waiting_approval":
        assert time.monotonic() < deadline, "the run never waited for an approval"
        await asyncio.sleep(0.1)
    assert len(db.approvals(handle.id, pending_only=True)) == 1
    assert not _lines(tmp_path / "ledger.txt")  # nothing ran before the decision
    decided = _cli("approve", handle.id, "--store", store, "--json")
    assert decided.returncode == 0, decided.stdout + decided.stderr
    assert json.loads(decided.stdout)["decided"][0]["status"] == "approved"
    result = await asyncio.wait_for(temporal.result(supervisor, handle.id), 120)
    assert result.status == "succeeded", result.error
    assert len(_lines(tmp_path / "ledger.txt")) == 1
    (approval,) = db.approvals(handle.id)
    assert approval.status == "approved" and approval.approver.startswith("cli:")
    assert db.verify_audit(handle.id).ok


async def test_a_nested_supervisor_runs_as_a_child_workflow_on_the_run_s_budget(
    workers, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path}/runs.db"
    workers.app("nested", store, "nested")
    supervisor = make_supervisor(store, tmp_path, nested=True)
    temporal = Temporal(workers.address, task_queue="nested", approve_all=True, timeouts=TIMEOUTS)
    result = await asyncio.wait_for(temporal.run(supervisor, "Book invoice 42"), 120)
    assert result.status == "succeeded", result.error
    assert len(_lines(tmp_path / "ledger.txt")) == 1
    client = await temporal.connect()
    child = f"{result.run_id}/office"
    described = await client.get_workflow_handle(child).describe()
    assert described.parent_id == result.run_id and described.status.name == "COMPLETED"
    db = open_store(store)
    steps = {s.step_id: s.status for s in db.get_steps(result.run_id)}
    assert steps["office"] == "done" and steps["office.book"] == "done"
    # one ledger for the whole tree: the child's calls were reserved and settled on the run's
    assert result.usage.by_agent["bookkeeper"].requests == 2
    assert result.usage.total.requests == 4
    assert db.verify_audit(result.run_id).ok
    await assert_replays(temporal, "books", supervisor, result.run_id, (child,))


async def test_every_nesting_level_is_a_child_workflow_and_stores_what_embedded_does(
    workers, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path}/runs.db"
    workers.app("deep", store, "deep")
    supervisor = make_supervisor(store, tmp_path, deep=True)
    temporal = Temporal(workers.address, task_queue="deep", approve_all=True, timeouts=TIMEOUTS)
    result = await asyncio.wait_for(temporal.run(supervisor, "Book invoice 42"), 120)
    assert result.status == "succeeded", result.error
    assert result.output == "all done" and len(_lines(tmp_path / "ledger.txt")) == 1
    run_id = result.run_id
    office, desk = f"{run_id}/office", f"{run_id}/office.desk"
    client = await temporal.connect()
    for child, parent in ((office, run_id), (desk, office)):
        described = await client.get_workflow_handle(child).describe()
        assert described.parent_id == parent and described.status.name == "COMPLETED"
    # one ledger for the tree: the grandchild's calls were reserved and settled on the run's
    assert result.usage.by_agent["bookkeeper"].requests == 2
    assert result.usage.total.requests == 4

    # the same tree in this process: the same steps, events and audit chain in its store
    here = tmp_path / "embedded"
    here.mkdir()
    embedded = make_supervisor(
        f"sqlite:///{here}/runs.db", here, deep=True, approver=ApproveAll("cli:approve-all")
    )
    local = await embedded.run("Book invoice 42")
    assert local.status == "succeeded" and local.output == result.output
    db, local_db = open_store(store), open_store(f"sqlite:///{here}/runs.db")

    def stored(where: Any, rid: str) -> tuple[dict[str, str], list[tuple[str, str | None]]]:
        steps = {s.step_id: s.status for s in where.get_steps(rid)}
        # (each transaction ends with a ``rows_recorded`` record: workers write the journal in
        # more transactions than one process does, so those are not compared)
        events = sorted(
            (e.kind, e.payload.get("step_id"))
            for e in where.events(rid)
            if e.kind != "rows_recorded"
        )
        return steps, events

    assert stored(db, run_id) == stored(local_db, local.run_id)
    assert stored(db, run_id)[0]["office.desk.book"] == "done"
    assert db.verify_audit(run_id).ok and local_db.verify_audit(local.run_id).ok
    assert result.usage.total.cost_usd == pytest.approx(local.usage.total.cost_usd)
    await assert_replays(temporal, "books", supervisor, run_id, (office, desk))


@pytest.mark.parametrize("level", ["", "nested", "deep"], ids=["flat", "child", "grandchild"])
async def test_the_budget_stops_a_run_on_temporal_before_it_passes(
    workers, tmp_path: Path, level: str
) -> None:
    store = f"sqlite:///{tmp_path}/runs.db"
    queue = f"budget-{level}"
    workers.app(queue, store, *([level] if level else []))
    supervisor = make_supervisor(
        store, tmp_path, usd=0.0006, nested=level == "nested", deep=level == "deep"
    )
    temporal = Temporal(workers.address, task_queue=queue, approve_all=True, timeouts=TIMEOUTS)
    result = await asyncio.wait_for(temporal.run(supervisor, "Book invoice 42"), 120)
    assert result.status == "budget_exceeded", result.status
    assert result.usage.total.cost_usd <= 0.0006
    assert "summary" not in [line.split(" pid=")[0] for line in _lines(tmp_path / "calls.txt")]
    if level == "deep":  # refused to the grandchild workflow by the run's ledger, by update
        client = await temporal.connect()
        desk = await client.get_workflow_handle(f"{result.run_id}/office.desk").describe()
        assert desk.parent_id == f"{result.run_id}/office" and desk.status.name == "FAILED"


async def test_a_user_s_specialist_package_runs_in_the_workflow_sandbox(
    workers, tmp_path: Path
) -> None:
    # its prompt helper is imported lazily and takes a lock at import: shared with the worker
    store = f"sqlite:///{tmp_path}/runs.db"
    workers.app("user", store, "user")
    supervisor = make_supervisor(store, tmp_path, user=True)
    temporal = Temporal(workers.address, task_queue="user", approve_all=True, timeouts=TIMEOUTS)
    result = await asyncio.wait_for(temporal.run(supervisor, "Book invoice 42"), 120)
    assert result.status == "succeeded", result.error
    assert result.output == "all done (framed)"  # the helper framed the prompt in the workflow
    log = (tmp_path / "worker-0.log").read_text()
    assert "imported after initial workflow load" not in log, log[-2000:]
    await assert_replays(temporal, "books", supervisor, result.run_id)
