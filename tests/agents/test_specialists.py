"""Each built-in specialist on its offline model, inside a real Supervisor and runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _specialist_helpers import RFP, Recorder, builtin, section_plan, supervisor, types

from agentorch import FunctionModel, Plan, Step, Verdict
from agentorch.budget.tokens import count_text
from agentorch.events.types import BaseEvent, PermissionRefused, ToolCallFinished
from agentorch.models.testing import json_response, tool_call_response
from agentorch.models.types import ModelRequest, ToolResultMessage, UserMessage


async def test_parser_reads_the_rfp_with_its_tool_and_types_requirements(
    state: dict[str, Any],
) -> None:
    events: list[BaseEvent] = []
    plan = Plan(
        steps=[Step(id="parse", agent="parser", instruction="List them.")], final_step="parse"
    )
    result = await supervisor(plan, on_event=events.append).run("Read it", files=[RFP], state=state)
    assert result.status == "succeeded", result.error
    listing = result.output
    assert isinstance(listing, types().RequirementList)
    by_id = {r.id: r for r in listing.requirements}
    # its 50 titled requirement clauses, each one requirement as the buyer numbered it
    assert len(listing.requirements) == 50
    assert (by_id["R-3.2"].modality, by_id["R-3.2"].category) == ("must", "security")
    assert (by_id["R-4.6"].modality, by_id["R-4.6"].category) == ("should", "sla")
    assert by_id["R-3.2"].location == "line 76" and by_id["R-6.3"].text.endswith("unlimited.")
    # the buyer's own clauses are listed apart, not as requirements
    assert not {"R-1.3", "R-1.7", "R-6.9"} & set(by_id)
    assert any("City may terminate" in x.text for x in listing.excluded)
    assert listing.statements_seen == len(listing.requirements) + len(listing.excluded)
    assert by_id["R-5.2"].category == "pricing" and by_id["R-1.5"].category == "other"
    assert (
        by_id["R-2.2"].title == "Single sign-on"
        and by_id["R-2.2"].section == "2. Technical Requirements"
    )
    assert "R-1.1" not in by_id  # a purpose statement, no modal verb
    assert listing.submit_to == "bids.riverton.gov" and listing.issuer == "City of Riverton"
    calls = [e for e in events if isinstance(e, ToolCallFinished)]
    assert [c.tool for c in calls] == ["find_requirements"] and not calls[0].is_error
    # a long read reports how far it has got, as an event the terminal view shows
    progress = [e for e in events if e.kind == "tool_progress"]
    assert progress and progress[0].tool == "find_requirements" and progress[0].total > 0


async def test_writer_sees_only_its_category_and_cites_approved_answers(
    state: dict[str, Any],
) -> None:
    seen: list[ModelRequest] = []
    writer_cls = builtin("writer")

    class SpyWriter(writer_cls):  # type: ignore[misc, valid-type]
        def offline_model(self) -> FunctionModel:
            inner = super().offline_model()
            return FunctionModel(lambda request: (seen.append(request), inner.function(request))[1])

    result = await supervisor(section_plan("security", reviewers=False), SpyWriter()).run(
        "Draft", files=[RFP], state=state
    )
    assert result.status == "succeeded", result.error
    prompt = next(m.content for m in seen[0].messages if isinstance(m, UserMessage))
    assert "R-3.1" in prompt and "R-3.9" in prompt
    for other in ("R-2.1", "R-4.1", "R-5.2", "R-6.3", "Riverton County"):
        assert other not in prompt
    draft = result.steps["write"].output
    assert isinstance(draft, types().SectionDraft) and draft.category == "security"
    answers = {a.requirement_id: a for a in draft.answers}
    assert set(answers) == {f"R-3.{i}" for i in range(1, 10)}
    assert answers["R-3.3"].status == "answered" and answers["R-3.3"].citations == ["AA-018"]
    # a short requirement's clearly best hit: the certifications answer, which says no FedRAMP
    assert answers["R-3.2"].citations == ["AA-017"]
    # Context economy: the writer's prompt is a fraction of the RFP it never sees.
    assert 0 < result.steps["write"].context_tokens < count_text(RFP.read_text(), "cl100k_base") / 2


async def test_reviewers_return_typed_verdicts_and_flag_pricing(state: dict[str, Any]) -> None:
    recorder = Recorder()
    result = await supervisor(section_plan("pricing"), recorder=recorder).run(
        "Draft", files=[RFP], state=state
    )
    assert result.status == "succeeded", result.error
    report, review = result.steps["compliance"].output, result.steps["critic"].output
    assert isinstance(report, Verdict) and isinstance(report, types().ComplianceReport)
    assert isinstance(review, Verdict) and isinstance(review, types().RiskReview)
    rows = {row.requirement_id: row for row in report.matrix}
    assert set(rows) == {f"R-5.{i}" for i in range(1, 7)}
    # CPI escalation against firm fixed prices: the evidence contradicts the requirement
    assert rows["R-5.5"].status == "missing" and rows["R-5.2"].status == "conflict"
    assert rows["R-5.2"].evidence == ["AA-030"] and rows["R-5.2"].check.verdict == "conflicts"
    assert report.verdict == "escalate" and report.confidence < 0.5
    assert any("R-5.5" in issue for issue in report.open_issues)
    assert "pricing_commitment" in review.flags and review.verdict == "escalate"
    assert any("CFO" in f.detail for f in review.findings if f.requirement_id == "R-5.2")
    [escalation] = [r for r in recorder.requests if r.subject == "escalation"]
    assert escalation.step_id == "write" and "pricing_commitment" in escalation.reason


async def test_compliance_sends_a_missed_answer_back_and_the_section_converges(
    state: dict[str, Any],
) -> None:
    result = await supervisor(section_plan("sla")).run("Draft", files=[RFP], state=state)
    assert result.status == "succeeded", result.error
    assert result.steps["write"].revision == 1  # one revision, then settled
    answers = {a.requirement_id: a for a in result.steps["write"].output.answers}
    assert answers["R-4.1"].status == "partial" and answers["R-4.1"].citations == ["AA-025"]
    assert answers["R-4.7"].status == "no_source"  # nothing approved: stays missing, no loop
    rows = {r.requirement_id: r.status for r in result.steps["compliance"].output.matrix}
    # 99.9% offered against 100% required on a must requirement: a conflict, never "covered"
    assert rows["R-4.1"] == "conflict" and rows["R-4.7"] == "missing"


async def test_a_tool_outside_the_allow_list_is_refused(
    state: dict[str, Any], tmp_path: Path
) -> None:
    critic_cls = builtin("critic")
    refusals: list[str] = []

    def rogue(request: ModelRequest) -> Any:
        results = [m for m in request.messages if isinstance(m, ToolResultMessage)]
        if not results:
            return tool_call_response(("write_file", {"path": "pwned.md", "content": "x"}))
        refusals.append(results[0].content)
        return json_response({"verdict": "pass", "category": "security", "findings": []})

    class RogueCritic(critic_cls):  # type: ignore[misc, valid-type]
        def offline_model(self) -> FunctionModel:
            return FunctionModel(rogue)

    events: list[BaseEvent] = []
    result = await supervisor(section_plan("security"), RogueCritic(), on_event=events.append).run(
        "Draft", files=[RFP], state=state
    )
    assert result.status == "succeeded", result.error
    assert refusals and "not permitted for agent 'critic'" in refusals[0]
    assert [e.tool for e in events if isinstance(e, PermissionRefused)] == ["write_file"]
    assert not (tmp_path / "out" / "pwned.md").exists()


async def test_an_off_subject_answer_is_never_suggested_so_the_section_does_not_cycle(
    state: dict[str, Any], tmp_path: Path
) -> None:
    # A clause from the CDC SOW: the library's "project team" answer shares the word "team" and
    # scores as a related hit, but is about another subject. Suggesting it made the writer come
    # back unchanged and the whole section failed with a delegation cycle.
    rfp = tmp_path / "sow.md"
    rfp.write_text(
        "# Statement of Work\n\n## 4. Tasks\n\n4.1 The co-coordinator will act as a head coach "
        "for the teams. This responsibility involves checking in periodically with each team to "
        "assess progress on their projects, identifying what assistance they might need "
        "above/beyond what their team mentor/team coach may do for them, and providing insight "
        "on how they might proceed (if asked) based on the co-coordinator's public health "
        "experience and expertise.\n"
    )
    result = await supervisor(section_plan("other")).run("Draft", files=[rfp], state=state)
    assert result.status == "succeeded", result.error
    assert result.steps["write"].revision == 0
    report = result.steps["compliance"].output
    assert report.verdict == "pass" and not any("[suggest" in r for r in report.reasons)
    assert [row.status for row in report.matrix] == ["missing"]


async def test_a_generic_answer_is_partial_and_the_person_sees_what_it_leaves_out(
    state: dict[str, Any], tmp_path: Path
) -> None:
    # issue 13 follow-up: the approved encryption answer (AES-256 in AWS KMS) was "covered" for a
    # PIV-card key recovery requirement, as it states no value the checker could compare
    rfp = tmp_path / "sow.md"
    rfp.write_text(
        "# Statement of Work\n\n## 3. Security\n\n3.1 Encryption keys. The Contractor shall use "
        "the Key Management system on the HHS personal identification verification (PIV) card or "
        "establish and use a key recovery mechanism to ensure the ability for authorized "
        "personnel to encrypt/decrypt information and recover encryption keys.\n"
    )
    recorder = Recorder()
    result = await supervisor(section_plan("security"), recorder=recorder).run(
        "Draft", files=[rfp], state=state
    )
    assert result.status == "succeeded", result.error
    assert result.steps["write"].output.answers[0].citations == ["AA-018"]
    [row] = result.steps["compliance"].output.matrix
    assert row.status == "partial"
    assert "PIV card" in row.note and "recovery mechanism" in row.note
    [escalation] = [r for r in recorder.requests if r.step_id == "write"]
    assert "R-3.1 (Encryption keys) is partial: the answer does not address" in escalation.reason
    [point] = [p for p in escalation.details["points"] if p["item"].startswith("R-3.1 ")]
    assert point["reason"] == row.note and point["proposed"].startswith("[AA-018]")
