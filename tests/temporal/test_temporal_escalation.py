"""On the real dev server: while a person decides on an escalated step, the workflow goes on
with the steps that do not depend on it; the decision then starts its dependant."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from desk_app import desk_supervisor, escalating_project
from determinism import assert_replays

from agentorch.events.types import ApprovalDecided, StepFinished, StepStarted, parse_event
from agentorch.store import open_store
from agentorch.temporal import Temporal


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentorch", *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=cwd,
        env=dict(os.environ),
    )


async def test_steps_go_on_while_a_person_decides_and_the_decision_starts_the_dependant(
    workers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = escalating_project(tmp_path)
    store = f"sqlite:///{tmp_path}/runs.db"
    args = [sys.executable, "-m", "agentorch", "worker", str(workflow), "--temporal"]
    args += [workers.address, "--task-queue", "desk-escalate", "--store", store]

    def serving() -> int:
        logs = [p.read_text() for p in workers.workdir.glob("worker-*.log")]
        return sum("worker serving 'desk'" in log for log in logs)

    workers.start(args, ready=serving)
    ran = _cli("run", str(workflow), "--temporal", workers.address, "--task-queue",
               "desk-escalate", "--store", store, "--json", cwd=tmp_path)  # fmt: skip
    assert ran.returncode == 3, ran.stdout[-2000:] + ran.stderr[-2000:]
    run_id = json.loads(ran.stdout)["run_id"]
    db = open_store(store)
    # before: note0's result waited for the decision and note1 never started
    steps = {s.step_id: s.status for s in db.get_steps(run_id)}
    assert steps == {"quote": "done", "note0": "done", "note1": "done"}
    decided = _cli("approve", run_id, "--store", store, "--json", cwd=tmp_path)
    assert decided.returncode == 0, decided.stdout + decided.stderr
    deadline = time.monotonic() + 120
    while db.get_run(run_id).status != "succeeded":
        assert time.monotonic() < deadline, db.get_run(run_id)
        time.sleep(0.3)
    order = []
    for record in db.events(run_id):
        event = parse_event(record.payload)
        if isinstance(event, StepStarted | StepFinished):
            order.append(("+" if isinstance(event, StepStarted) else "-") + event.step_id)
        elif isinstance(event, ApprovalDecided):
            order.append("?" + event.decision)
    assert order.index("-note1") < order.index("?approved") < order.index("+follow")
    assert db.verify_audit(run_id).ok
    await assert_replays(Temporal(workers.address), "desk", desk_supervisor(workflow, db), run_id)
    db.close()
