"""`agentorch run --temporal` on the real dev server: it ends as an embedded run does when the run
waits for a person (exit 3), and the workflow keeps to the run's step concurrency limit."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from desk_app import desk_supervisor
from desk_app import project as _project
from run_events import peak_steps

from agentorch.events.types import StepStarted, parse_event
from agentorch.store import open_store
from agentorch.temporal import Temporal


def _cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "agentorch", *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def _serve(workers, workflow: Path, queue: str, store: str, env: dict[str, str]) -> None:
    args = [sys.executable, "-m", "agentorch", "worker", str(workflow), "--temporal"]
    args += [workers.address, "--task-queue", queue, "--store", store]

    def serving() -> int:
        logs = [p.read_text() for p in workers.workdir.glob("worker-*.log")]
        return sum("worker serving 'desk'" in log for log in logs)

    workers.start(args, ready=serving, env=env)


async def test_a_run_waiting_for_a_person_exits_3_and_approve_continues_it(
    workers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One step at a time: the priced step waits for a person without its slot, so the notes
    run meanwhile (before, they waited behind it); the open run replays on this code."""
    workflow = _project(tmp_path)
    store = f"sqlite:///{tmp_path}/runs.db"
    env = {"DESK_NOTES": "3", "DESK_PRICED": "1"}
    _serve(workers, workflow, "desk-wait", store, env)
    started = time.monotonic()
    ran = _cli("run", str(workflow), "--temporal", workers.address, "--task-queue", "desk-wait",
               "--store", store, "--json", "--max-concurrent-steps", "1", cwd=tmp_path,
               env=env)  # fmt: skip
    # before: the command kept following the waiting workflow until its 240 s timeout
    assert ran.returncode == 3, ran.stdout[-2000:] + ran.stderr[-2000:]
    assert time.monotonic() - started < 120
    result = json.loads(ran.stdout)
    assert result["status"] == "waiting_approval" and result["exit_code"] == 3
    (pending,) = result["pending_approvals"]
    assert pending["step_id"] == "price" and pending["tool"] == "rate_card_lookup"
    assert "approve" in ran.stderr  # how it continues: approve, with no resume
    db = open_store(store)
    run_id = result["run_id"]
    # the steps that needed nobody ran before the command ended; the priced one waits
    steps = {s.step_id: s.status for s in db.get_steps(run_id)}
    assert steps == {"price": "running", "note0": "done", "note1": "done", "note2": "done"}
    events = [parse_event(record.payload) for record in db.events(run_id)]
    assert peak_steps([e for e in events if getattr(e, "step_id", "") != "price"]) == 1
    client = await Temporal(workers.address).connect()
    described = await client.get_workflow_handle(run_id).describe()
    assert described.status is not None and described.status.name == "RUNNING"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    desk = Temporal(workers.address, task_queue="desk-wait")
    assert await desk.check_replay(desk_supervisor(workflow, db)) == {}  # the open run replays

    decided = _cli("approve", run_id, "--store", store, "--json", cwd=tmp_path)
    assert decided.returncode == 0, decided.stdout + decided.stderr
    deadline = time.monotonic() + 120
    while db.get_run(run_id).status != "succeeded":
        assert time.monotonic() < deadline, db.get_run(run_id)
        time.sleep(0.3)
    assert {s.step_id: s.status for s in db.get_steps(run_id)}["price"] == "done"
    assert db.verify_audit(run_id).ok
    await _replay(workers.address, workflow, db, run_id)
    db.close()


async def test_the_workflow_keeps_the_run_s_step_concurrency_limit(
    workers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = _project(tmp_path)
    store = f"sqlite:///{tmp_path}/runs.db"
    env = {"DESK_NOTES": "6", "DESK_PRICED": "0"}
    _serve(workers, workflow, "desk-limit", store, env)
    ran = _cli("run", str(workflow), "--temporal", workers.address, "--task-queue", "desk-limit",
               "--store", store, "--json", "--max-concurrent-steps", "2", cwd=tmp_path,
               env=env)  # fmt: skip
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    run_id = json.loads(ran.stdout)["run_id"]
    db = open_store(store)
    events = [parse_event(record.payload) for record in db.events(run_id)]
    peak = peak_steps(events)
    starts = [event.step_id for event in events if isinstance(event, StepStarted)]
    # six notes of 0.3 s each, two at a time, started in plan order (without the limit: six)
    assert peak == 2 and starts == [f"note{i}" for i in range(6)]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    await _replay(workers.address, workflow, db, run_id)
    db.close()


async def _replay(address: str, workflow: Path, db: Any, run_id: str) -> None:
    """The run's history replays here with the same commands: the limit is deterministic."""
    from determinism import assert_replays

    await assert_replays(Temporal(address), "desk", desk_supervisor(workflow, db), run_id)


class _Busy:
    """A handle (and client) whose service answers every describe with a timeout."""

    def get_workflow_handle(self, run_id: str) -> _Busy:
        return self

    async def describe(self) -> Any:
        from temporalio.service import RPCError, RPCStatusCode

        raise RPCError("Timeout expired", RPCStatusCode.CANCELLED, b"")


async def test_a_busy_service_does_not_end_the_client_s_follow(tmp_path: Path) -> None:
    """A thousand runs followed at once made describe time out, which ended the client's wait
    with a traceback (the looks are hints: the next one tells)."""
    from agentorch.store.base import ApprovalRecord, RunRecord
    from agentorch.temporal._waiting import waits_for_a_person

    db = open_store(f"sqlite:///{tmp_path}/runs.db")
    db.create_run(RunRecord(run_id="run1", task="t", status="waiting_approval"))
    db.create_approval(ApprovalRecord(request_id="r1", run_id="run1", step_id="price"))
    assert await waits_for_a_person(_Busy(), db, "run1") is None  # type: ignore[arg-type]
    assert await Temporal()._check_workers_can_decrypt(_Busy(), 12.5) == 12.5  # type: ignore[arg-type]
    db.close()
