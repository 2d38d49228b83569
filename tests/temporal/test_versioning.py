"""Runs recorded on older code replay on this code: the histories under ``histories/`` were
recorded by the code of an earlier version, and every behaviour change since is behind
``workflow.patched`` (``agentorch.changes``). No server needed: replay is local."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from desk_app import desk_supervisor, escalating_project, project
from temporalio.client import WorkflowHistory

from agentorch.changes import ESCALATION_ALONGSIDE
from agentorch.store import open_store
from agentorch.temporal import Temporal
from agentorch.temporal.replay import load_history
from agentorch.temporal.runtime import TemporalRuntime

HISTORIES = Path(__file__).resolve().parent / "histories"
#: desk-slot1-waiting.json: the desk app (2 notes and a priced step) run one step at a time with
#: --max-concurrent-steps 1; the priced step waited for a person holding the only slot, then was
#: approved. Recorded at e857998, before a waiting step gave its slot back.
DESK_ENV = {"DESK_NOTES": "2", "DESK_PRICED": "1"}
#: desk-escalation.json: the desk app's ``ESCALATING`` workflow (a high-risk quote beside the
#: chain note0 -> note1) run with a deferred approver, then approved with ``agentorch approve``.
#: Recorded at 08fd7c4, before an escalation waited beside the other steps: note0's result was
#: taken in, and note1 started, only after the decision.


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name, value in DESK_ENV.items():
        monkeypatch.setenv(name, value)
    db = open_store(f"sqlite:///{tmp_path}/runs.db")
    yield desk_supervisor(project(tmp_path), db)
    db.close()


def _history() -> WorkflowHistory:
    text = (HISTORIES / "desk-slot1-waiting.json").read_text()
    return WorkflowHistory.from_json("desk-slot1-waiting", text)


async def test_a_run_recorded_before_the_slot_change_replays(desk) -> None:  # type: ignore[no-untyped-def]
    assert await Temporal().check_replay(desk, histories=[_history()]) == {}


async def test_without_its_patch_the_change_would_break_the_recorded_run(
    desk,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check bites: with the change applied to the old run, its notes would start while
    the priced step waits, which its history does not have."""
    monkeypatch.setattr(TemporalRuntime, "uses_change", lambda self, change: True)
    problems = await Temporal().check_replay(desk, histories=[_history()])
    assert list(problems) == ["desk-slot1-waiting"]
    assert "nondetermin" in problems["desk-slot1-waiting"].lower()


@pytest.fixture
def escalating(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = open_store(f"sqlite:///{tmp_path}/runs.db")
    yield desk_supervisor(escalating_project(tmp_path), db)
    db.close()


def _escalation_history() -> WorkflowHistory:
    text = (HISTORIES / "desk-escalation.json").read_text()
    return WorkflowHistory.from_json("desk-escalation", text)


async def test_a_run_recorded_before_escalations_waited_alongside_replays(escalating) -> None:  # type: ignore[no-untyped-def]
    assert await Temporal().check_replay(escalating, histories=[_escalation_history()]) == {}


async def test_with_the_escalation_change_the_recorded_run_would_not_replay(
    escalating,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the change applied to the old run, note0's result would be taken in (and note1
    started) while the quote waits for its person, which its history does not have."""
    monkeypatch.setattr(
        TemporalRuntime,
        "uses_change",
        lambda self, change: change in self.changes or change == ESCALATION_ALONGSIDE,
    )
    problems = await Temporal().check_replay(escalating, histories=[_escalation_history()])
    assert list(problems) == ["desk-escalation"]
    assert "nondetermin" in problems["desk-escalation"].lower()


def test_a_saved_history_loads_under_its_file_s_name(tmp_path: Path) -> None:
    saved = tmp_path / "run123.json"
    saved.write_text(json.dumps(json.loads((HISTORIES / "desk-slot1-waiting.json").read_text())))
    assert load_history(str(saved)).workflow_id == "run123"
