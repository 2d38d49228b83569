"""Human gates of the RFP workflow: denied writes, submissions and escalations (offline).

These run on the smaller second RFP (``tests/data/rfp_facilities.md``) to stay fast.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from _workflow_helpers import DATA, Recorder, rfp_workflow

from agentorch.supervisor import RunResult


def matrix_ids(markdown: str) -> list[str]:
    table = markdown.split("## Compliance matrix", 1)[1].split("## Open issues", 1)[0]
    return re.findall(r"^\| (R-[\d.]+) \|", table, re.M)


def open_issues(markdown: str) -> str:
    return markdown.split("## Open issues", 1)[1].split("## Escalations and review decisions", 1)[0]


async def run_facilities(recorder: Recorder, state: dict[str, Any]) -> RunResult:
    state = {**state, "library": str(DATA / "library_facilities")}
    return await rfp_workflow().run(
        engine="offline",
        approver=recorder.approver,
        state=state,
        files=[DATA / "rfp_facilities.md"],
    )


async def test_denied_write_writes_nothing_and_submits_nothing(rfp_state: dict[str, Any]) -> None:
    recorder = Recorder(rule=lambda request: request.tool != "write_file")
    result = await run_facilities(recorder, rfp_state)
    assert result.status == "succeeded", result.error
    assert not (Path(rfp_state["output_dir"]) / "response.md").exists()
    document = result.steps["edit"].output
    assert document.written is False and document.path is None
    assert "denied" in document.note
    assert (Path(rfp_state["output_dir"]) / "bid-review.md").exists()  # the team still sees why
    assert recorder.of("tool", "submit_response") == []  # nothing to submit
    assert result.output.submitted is False
    assert result.output.outcome.kind == "not_submitted" and not result.output.outcome.complete
    assert "not written" in result.output.outcome.headline
    assert not Path(rfp_state["outbox_dir"]).exists()


async def test_denied_submission_keeps_the_document_and_sends_nothing(
    rfp_state: dict[str, Any],
) -> None:
    recorder = Recorder(rule=lambda request: request.tool != "submit_response")
    result = await run_facilities(recorder, rfp_state)
    assert result.status == "succeeded", result.error
    assert (Path(rfp_state["output_dir"]) / "response.md").exists()
    submission = result.output
    assert submission.submitted is False and "denied" in submission.note
    assert submission.outcome.kind == "not_submitted" and "NOT submitted" in (
        submission.outcome.headline
    )
    assert not Path(rfp_state["outbox_dir"]).exists()


async def test_denied_escalation_ends_the_section_as_an_open_issue(
    rfp_state: dict[str, Any],
) -> None:
    recorder = Recorder(
        rule=lambda r: not (r.subject == "escalation" and r.step_id == "write_pricing")
    )
    result = await run_facilities(recorder, rfp_state)
    assert result.status == "succeeded", result.error
    assert result.steps["write_pricing"].status == "failed"  # no loop: the same draft came back
    markdown = Path(result.output.review_path).read_text()
    assert "step write_pricing (writer) did not finish" in open_issues(markdown)
    assert "escalation of write_pricing denied by tester" in markdown
    assert len(matrix_ids(markdown)) == len(result.steps["parse"].output.requirements)
