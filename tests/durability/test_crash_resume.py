"""Kill a run with SIGKILL at distinct points, resume it, and check nothing ran or was paid twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import crash_runner
import pytest
from crash_runner import lines

APP = Path(__file__).with_name("crash_app.py")


#: Killed after the tool ran and before its result was durable: a person decides on resume.
IN_DOUBT = ("in_tool", "tool_result_unsaved", "before_next_intent")
#: Killed while a model call was in flight: it is charged at its reservation and made again.
IN_FLIGHT = ("in_model", "between_steps", "after_tool")

run_app = partial(crash_runner.run_app, APP)  # run_app(tmp_path, *args, crash_at=...)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    tmp = tmp_path_factory.mktemp("clean")
    done = run_app(tmp, "run")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["status"] == "succeeded"
    assert lines(tmp / "ledger.txt") == ["invoice 42"]
    return result  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "point",
    [
        "in_model",
        "between_steps",
        "in_tool",
        "tool_result_unsaved",
        "before_next_intent",
        "after_tool",
        "at_approval",
    ],
)
def test_killed_run_resumes_without_rerunning_or_repaying(
    tmp_path: Path, point: str, clean: dict[str, float]
) -> None:
    killed = run_app(tmp_path, "run", crash_at=point)
    assert killed.returncode == -9, (killed.returncode, killed.stderr[-2000:])
    assert (tmp_path / "crashed").read_text() == point
    run_id = (tmp_path / "run_id").read_text()
    calls_before = lines(tmp_path / "calls.txt")

    resumed = run_app(tmp_path, "resume", run_id)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    result = json.loads(resumed.stdout.splitlines()[-1])
    assert result["status"] == "succeeded", result
    assert result["output"] == "all done"

    # the side effect happened exactly once, whatever the crash point
    assert lines(tmp_path / "ledger.txt") == ["invoice 42"]
    calls = lines(tmp_path / "calls.txt")
    # a step that completed before the crash never runs again
    if point != "in_model":
        assert calls.count("research") == 1
    # model calls that completed are replayed, not repeated
    assert calls.count("summary") == 1
    assert calls.count("bookkeeper:0") == 1 + (point == "in_model") * 0
    new_calls = calls[len(calls_before) :]
    assert "research" not in new_calls or point == "in_model"
    # cost is never double-counted: a resumed run pays for as many model calls as a clean run, except
    # that a call killed mid-flight is charged at its reservation (it may have been billed); a step's
    # end and a tool's result are committed with the next call's intent (between_steps, after_tool)
    if point in IN_FLIGHT:
        assert result["requests"] == clean["requests"] + 1
        assert result["cost"] > clean["cost"]
    elif point in IN_DOUBT:  # the person's "mark done" changes what the model sees next
        assert result["requests"] == clean["requests"]
        assert lines(tmp_path / "approvals.txt")[-1] == "in_doubt:book"
    else:
        assert result["requests"] == clean["requests"]
        assert result["cost"] == pytest.approx(clean["cost"])


def test_second_resume_of_a_finished_run_is_refused(tmp_path: Path) -> None:
    done = run_app(tmp_path, "run")
    assert done.returncode == 0
    again = run_app(tmp_path, "resume", (tmp_path / "run_id").read_text())
    assert again.returncode != 0
    assert "already succeeded" in again.stderr


def test_two_processes_resuming_one_run_one_wins(tmp_path: Path) -> None:
    killed = run_app(tmp_path, "run", crash_at="between_steps")
    assert killed.returncode == -9
    run_id = (tmp_path / "run_id").read_text()
    store = f"sqlite:///{tmp_path}/runs.db"
    env = {**os.environ, "SUMMARY_DELAY": "1.5"}
    procs = [
        subprocess.Popen(
            [sys.executable, str(APP), store, str(tmp_path), "resume", run_id],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes[0] == 0 and codes[1] != 0, outs
    loser = next(err for p, (_, err) in zip(procs, outs, strict=True) if p.returncode != 0)
    assert "being resumed by another process" in loser or "already succeeded" in loser
    assert lines(tmp_path / "ledger.txt") == ["invoice 42"]


@pytest.mark.parametrize("kills", [2, 3])
def test_charges_of_killed_calls_survive_repeated_kills(
    tmp_path: Path, kills: int, clean: dict[str, float]
) -> None:
    """The same model call killed in flight again and again: every killed attempt stays charged."""
    killed = run_app(tmp_path, "run", crash_at="in_model")
    assert killed.returncode == -9, killed.stderr[-2000:]
    run_id = (tmp_path / "run_id").read_text()
    for _ in range(kills - 1):
        again = run_app(tmp_path, "resume", run_id, crash_at="in_model")
        assert again.returncode == -9, again.stderr[-2000:]
    resumed = run_app(tmp_path, "resume", run_id)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    result = json.loads(resumed.stdout.splitlines()[-1])
    assert result["status"] == "succeeded"
    assert lines(tmp_path / "calls.txt").count("research") == kills + 1

    from agentorch.store import open_store

    store = open_store(f"sqlite:///{tmp_path}/runs.db")
    try:
        started = [
            e.payload
            for e in store.events(run_id)
            if e.kind == "model_call_started" and e.payload["agent"] == "researcher"
        ]
        record = store.get_run(run_id)
    finally:
        store.close()
    assert len(started) == kills + 1
    reserved = sum(p["reserved_usd"] for p in started[:kills])
    # each killed attempt is charged at its reservation, on top of what a clean run pays
    assert result["requests"] == clean["requests"] + kills
    assert result["cost"] == pytest.approx(clean["cost"] + reserved)
    assert record.usage["total"]["cost_usd"] == pytest.approx(result["cost"])
