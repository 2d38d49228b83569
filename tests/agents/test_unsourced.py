"""A draft whose answers have no approved source never ends a run as done (exit 6, with why)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _specialist_helpers import RFP, section_plan, supervisor, types

from agentorch import Plan, Step
from agentorch.cli.summary import run_outcome
from agentorch.discovery import builtin_module


def _draft_plan(category: str) -> Plan:
    plan = section_plan(category)
    return Plan(steps=plan.steps, final_step="write")


async def test_a_run_without_a_library_ends_incomplete_and_says_why(
    state: dict[str, Any], tmp_path: Path
) -> None:
    state["library"] = str(tmp_path / "library")  # as when no --library is given: not there
    result = await supervisor(_draft_plan("security")).run("Draft", files=[RFP], state=state)
    assert result.status == "succeeded", result.error  # every step did its job ...
    draft = result.output
    assert {a.status for a in draft.answers} == {"no_source"}
    outcome = run_outcome(draft)  # ... but the job is not done, and the summary says so
    assert outcome is not None and outcome["complete"] is False
    assert outcome["kind"] == "incomplete"
    assert outcome["headline"] == (
        "Draft written, NOT complete: 9 of 9 answers have no approved source "
        "(no approved-answer library was found)"
    )
    assert "approved-answer library not found" in outcome["details"][0]
    assert "--library" in outcome["details"][0]
    assert outcome["details"][1].startswith("Without an approved source: R-3.1, R-3.2")


async def test_some_answers_without_a_source_name_them(state: dict[str, Any]) -> None:
    result = await supervisor(_draft_plan("technical")).run("Draft", files=[RFP], state=state)
    assert result.status == "succeeded", result.error
    draft = result.output
    unsourced = [a.requirement_id for a in draft.answers if a.status == "no_source"]
    assert unsourced and len(unsourced) < len(draft.answers)
    outcome = run_outcome(draft)
    assert outcome is not None and not outcome["complete"]
    assert "(a person must supply them)" in outcome["headline"]
    assert outcome["details"] == ["Without an approved source: " + ", ".join(unsourced)]


def test_a_fully_sourced_draft_has_no_outcome_and_a_model_cannot_set_one() -> None:
    writer = builtin_module("agents", "writer")
    t = types()
    claimed = t.RunOutcome(kind="submitted", complete=True, headline="all done")
    answer = t.DraftAnswer(
        requirement_id="R-1", text="We do.", citations=["AA-1"], status="answered"
    )
    draft = t.SectionDraft(category="all", answers=[answer], outcome=claimed)
    assert writer.stamp_unsourced(draft, []).outcome is None
    assert "outcome" not in str(t.SectionDraft.model_json_schema())  # not shown to a model
    missing = t.DraftAnswer(requirement_id="R-2", text="-", status="no_source")
    stamped = writer.stamp_unsourced(draft.model_copy(update={"answers": [answer, missing]}), [])
    assert stamped.outcome.headline.startswith("Draft written, NOT complete: 1 of 2 answers")


async def test_a_run_ending_with_the_assembled_response_is_incomplete_too(
    state: dict[str, Any], tmp_path: Path
) -> None:
    state["library"] = str(tmp_path / "library")
    plan = section_plan("security", reviewers=False)
    edit = Step(id="edit", agent="editor", instruction="Assemble.", depends_on=["parse", "write"])
    result = await supervisor(Plan(steps=[*plan.steps, edit], final_step="edit")).run(
        "Draft the response", files=[RFP], state=state
    )
    assert result.status == "succeeded", result.error
    document = result.output
    assert document.written and document.missing == document.requirements > 0
    outcome = run_outcome(document)
    assert outcome is not None and outcome["complete"] is False
    assert outcome["headline"].startswith("Response written, NOT complete: ")
    assert outcome["details"][0].startswith("No approved-answer library was read")
    assert "outcome" not in str(types().ResponseDocument.model_json_schema())
