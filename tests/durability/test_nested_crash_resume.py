"""Kill a run inside a nested supervisor with SIGKILL, resume it, and check nothing ran or was paid twice."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import crash_runner
import pytest
from crash_runner import lines

APP = Path(__file__).with_name("nested_crash_app.py")


#: Killed after the tool ran and before its result was durable: a person decides on resume.
IN_DOUBT = ("in_tool", "tool_result_unsaved", "before_next_intent")

run_app = partial(crash_runner.run_app, APP)  # run_app(tmp_path, *args, crash_at=...)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("clean")
    done = run_app(tmp, "run")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert result["status"] == "succeeded", result
    assert lines(tmp / "ledger.txt") == ["invoice 42"]
    assert result["steps"] == ["ops", "ops.book", "ops.research", "sum"]
    return result


@pytest.mark.parametrize(
    "point",
    [
        "in_model",
        "between_inner_steps",
        "at_approval",
        "in_tool",
        "tool_result_unsaved",
        "before_next_intent",
        "after_tool",
        "after_nested",
    ],
)
def test_a_killed_nested_run_resumes_without_rerunning_or_repaying(
    tmp_path: Path, point: str, clean: dict[str, Any]
) -> None:
    killed = run_app(tmp_path, "run", crash_at=point)
    assert killed.returncode == -9, (killed.returncode, killed.stderr[-2000:])
    assert (tmp_path / "crashed").read_text() == point
    run_id = (tmp_path / "run_id").read_text()

    resumed = run_app(tmp_path, "resume", run_id)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    result = json.loads(resumed.stdout.splitlines()[-1])
    assert result["status"] == "succeeded", result
    assert result["output"] == "all done"
    assert result["steps"] == clean["steps"]

    assert lines(tmp_path / "ledger.txt") == ["invoice 42"]  # the side effect happened once
    calls = lines(tmp_path / "calls.txt")
    # a completed inner step or model call never runs again (one killed in flight does)
    assert calls.count("research") == 1 + (point == "in_model")
    assert calls.count("bookkeeper:0") == 1
    assert calls.count("summary") == 1
    # a call killed in flight is charged at its reservation (after_nested: the summary's call,
    # whose intent is committed with the nested step's result; between_inner_steps, after_tool:
    # the bookkeeper's, committed with the research step's end or the tool's result)
    if point in ("in_model", "after_nested", "between_inner_steps", "after_tool"):
        assert result["requests"] == clean["requests"] + 1
        assert result["cost"] > clean["cost"]
    else:
        assert result["requests"] == clean["requests"]
        if point not in IN_DOUBT:  # "mark done" changes what the model sees next, not what is paid
            assert result["cost"] == pytest.approx(clean["cost"])
    approvals = lines(tmp_path / "approvals.txt")
    if point in IN_DOUBT:  # the call in doubt went to the inner supervisor's approver
        assert approvals[-1] == "in_doubt:ops.book"
    else:
        assert approvals.count("tool:ops.book") == 1 + (point == "at_approval")
