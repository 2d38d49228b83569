"""The RFP workflow end to end on the offline engine, through ``Supervisor.run``."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from _workflow_helpers import DATA, EXAMPLE, Recorder, rfp_workflow


def matrix_ids(markdown: str) -> list[str]:
    table = markdown.split("## Compliance matrix", 1)[1].split("## Open issues", 1)[0]
    return re.findall(r"^\| (R-[\d.]+) \|", table, re.M)


def open_issues(markdown: str) -> str:
    return markdown.split("## Open issues", 1)[1].split("## Escalations and review decisions", 1)[0]


async def test_full_workflow_offline(rfp_state: dict[str, Any], tmp_path: Path) -> None:
    response = Path(rfp_state["output_dir"]) / "response.md"
    recorder = Recorder(snapshot=lambda request: response.exists())
    started = time.perf_counter()
    result = await rfp_workflow().run(
        engine="offline",
        approver=recorder.approver,
        state=rfp_state,
        store=f"sqlite:///{tmp_path / 'runs.db'}",
    )
    assert time.perf_counter() - started < 60  # seconds, not minutes (generous bound)
    assert result.status == "succeeded", result.error
    document = result.steps["edit"].output
    assert document.written and Path(document.path) == response.resolve()
    assert response.read_text() == document.markdown
    markdown = (Path(rfp_state["output_dir"]) / "bid-review.md").read_text()
    assert Path(document.review_path).name == "bid-review.md"
    requirements = [r.id for r in result.steps["parse"].output.requirements]
    assert matrix_ids(markdown) == requirements  # every requirement, once, in order
    assert document.requirements == len(requirements) == 50
    issues = open_issues(markdown)
    for unanswerable in ("R-2.8", "R-5.5", "R-6.8"):
        assert re.search(
            rf"^\| {re.escape(unanswerable)} \| \w+ \| must \| missing \|", markdown, re.M
        )
        assert unanswerable in issues
    # the approved certifications answer says we hold no FedRAMP authorization: a conflict
    assert re.search(r"^\| R-3\.2 \| security \| must \| conflict \| AA-017 \|", markdown, re.M)
    assert "R-3.2" in issues
    # the risky pricing section went to a person before anything was written
    pricing = [r for r in recorder.of("escalation") if r.step_id == "write_pricing"]
    assert pricing and "pricing" in pricing[0].reason and "pricing_commitment" in pricing[0].reason
    assert "escalation of write_pricing approved by tester" in markdown
    # the response is written only after approval (the internal bid review needs none)
    [write] = recorder.of("tool", "write_file")
    assert write.arguments["path"] == "response.md"
    assert recorder.snapshots[recorder.requests.index(write)] is False
    # submitted only after a person's approval that names the open mandatory requirements
    [submit] = recorder.of("tool", "submit_response")
    assert "always requires approval" in submit.reason
    assert submit.arguments["recipient"] == "bids.riverton.gov"
    blocking = [g.requirement_id for g in document.blocking()]
    assert {"R-2.8", "R-3.2", "R-5.5", "R-6.8"} <= set(blocking)
    assert submit.arguments["accept_gaps"] == blocking
    submission = result.output
    assert submission.submitted and submission.receipt_id
    assert submission.accepted_gaps == blocking
    assert submission.outcome.kind == "completed_with_gaps" and submission.outcome.complete
    assert (tmp_path / "outbox" / f"{submission.receipt_id}.json").exists()


async def test_second_rfp_with_its_own_library(rfp_state: dict[str, Any]) -> None:
    recorder = Recorder()
    state = {**rfp_state, "library": str(DATA / "library_facilities")}
    result = await rfp_workflow().run(
        engine="offline",
        approver=recorder.approver,
        state=state,
        files=[DATA / "rfp_facilities.md"],
    )
    assert result.status == "succeeded", result.error
    assert "Northgate" in result.steps["edit"].output.markdown.splitlines()[0]
    markdown = Path(result.output.review_path).read_text()
    requirements = [r.id for r in result.steps["parse"].output.requirements]
    assert matrix_ids(markdown) == requirements and "R-4.2" in requirements
    assert "Northgate" in markdown.splitlines()[0]
    issues = open_issues(markdown)
    assert (
        "R-2.5" in issues and "R-4.2" in issues
    )  # coal boilers, "zero failures": nothing approved
    assert any(r.step_id == "write_pricing" for r in recorder.of("escalation"))
    assert recorder.of("tool", "write_file") and recorder.of("tool", "submit_response")


@pytest.mark.parametrize("name", ["rfp.pdf", "rfp.docx"])
async def test_pdf_and_docx_give_the_same_requirements(
    name: str, rfp_state: dict[str, Any]
) -> None:
    from agentorch import Plan, Step, Supervisor
    from agentorch.discovery import builtin_agents

    plan = Plan(
        steps=[Step(id="parse", agent="parser", instruction="List them.")], final_step="parse"
    )
    supervisor = Supervisor(builtin_agents(), plan=plan, engine="offline")
    markdown = await supervisor.run("Parse", files=[EXAMPLE / "rfp.md"], state=rfp_state)
    other = await supervisor.run("Parse", files=[DATA / name], state=rfp_state)
    strip = {"source", "sources", "location"}  # "line 25" in Markdown is "page 1, line 30" in PDF
    assert [r.model_dump(exclude=strip) for r in other.output.requirements] == [
        r.model_dump(exclude=strip) for r in markdown.output.requirements
    ]
    assert other.output.requirements[0].source == name


#: Issue 14's contradicting answers on the bundled example: requirement -> (required, offered).
CONTRADICTIONS = {
    "R-3.6": ("24 hours", "72 hours"),
    "R-3.9": ("4 hours", "8 hours"),
    "R-5.2": ("firm fixed prices", "escalation"),
    "R-6.3": ("unlimited", "capped"),
    "R-6.4": ("$10M", "$5M"),
    "R-4.4": ("10 business days", "7 calendar days"),
    "R-4.5": ("30 days", "14 days"),
    "R-6.5": ("customer owns", "supplier retains"),
    "R-7.2": ("3 references", "on request"),
}


async def test_contradicting_answers_are_never_covered(rfp_state: dict[str, Any]) -> None:
    recorder = Recorder(rule=lambda request: request.tool != "submit_response")
    result = await rfp_workflow().run(engine="offline", approver=recorder.approver, state=rfp_state)
    assert result.status == "succeeded", result.error
    rows = {
        row.requirement_id: row
        for step in result.steps.values()
        if step.agent == "compliance" and step.output is not None
        for row in step.output.matrix
    }
    escalated = " ".join(r.reason for r in recorder.of("escalation"))
    review = (Path(rfp_state["output_dir"]) / "bid-review.md").read_text()
    matrix = review.split("## Compliance matrix", 1)[1].split("## Open issues", 1)[0]
    for rid, (required, offered) in CONTRADICTIONS.items():
        row = rows[rid]
        assert row.status in ("conflict", "partial"), (rid, row.status)
        assert row.check is not None and row.check.checks
        line = next(x for x in matrix.splitlines() if x.startswith(f"| {rid} |"))
        assert f"| {row.status} |" in line and required in line and offered in line, line
        assert f"{rid} (" in escalated  # escalated to a person with both values
    # the answer that is about another subject (signed forms vs insurance) is not "covered"
    assert rows["R-7.1"].status != "covered"
    # the response leaves the conflicting answers out; the submission stays refused
    response = (Path(rfp_state["output_dir"]) / "response.md").read_text()
    assert "### R-3.6 " not in response and "### R-2.2 " in response
    assert result.output.submitted is False


async def test_an_escalation_reads_at_a_glance_in_50_lines(rfp_state: dict[str, Any]) -> None:
    import io

    from rich.console import Console

    from agentorch.cli.approver import TerminalApprover

    recorder = Recorder(rule=lambda request: request.tool != "submit_response")
    await rfp_workflow().run(engine="offline", approver=recorder.approver, state=rfp_state)
    [security] = [r for r in recorder.of("escalation") if r.step_id == "write_security"][:1]
    points = security.details["points"]
    assert any(p["item"].startswith("R-3.6 ") for p in points)
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None)
    console.print(TerminalApprover(console, input=lambda _: "a")._render(security))
    shown = buffer.getvalue()
    assert len(shown.splitlines()) <= 48, shown  # with the prompt line: a 50-line terminal
    assert "{" not in shown and '"verdict"' not in shown  # words, not raw JSON
    assert "R-3.6 Security incidents (must): conflict" in shown
    assert "Asked    The Contractor shall notify the City within twenty-four" in shown
    assert "Proposed [AA-020]" in shown
    assert "required ≤ 24 hours  ·  offered 72 hours  → falls short" in shown


async def test_a_pricing_escalation_names_the_commitments(rfp_state: dict[str, Any]) -> None:
    import io

    from rich.console import Console

    from agentorch.cli.approver import TerminalApprover

    recorder = Recorder(rule=lambda request: request.tool != "submit_response")
    await rfp_workflow().run(engine="offline", approver=recorder.approver, state=rfp_state)
    pricing = next(r for r in recorder.of("escalation") if r.step_id == "write_pricing")
    critic = [p for p in pricing.details["points"] if p["reviewer"] == "critic"]
    assert critic and all("pricing commitment" in p["item"] for p in critic)
    assert all(p["asked"] and p["proposed"].startswith("[AA-") for p in critic)
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None)
    console.print(TerminalApprover(console, input=lambda _: "a")._render(pricing))
    shown = buffer.getvalue()
    assert len(shown.splitlines()) <= 48 and '"verdict"' not in shown
    assert "more point(s)" in shown or len(pricing.details["points"]) <= 4
