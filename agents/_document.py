"""Two documents from the run's typed outputs: the buyer's response and the team's bid review.

The response holds only text meant for the buyer: each requirement with its approved answer, in
the buyer's words and ours. Library ids, usage notes, matrix statuses, open issues and reviewers'
decisions never go into it, and neither do gaps: a requirement without compliant evidence
(missing, or an answer in conflict with it) is left out of the response and listed in the bid
review, where the team decides (new approved text, an exception, no-bid). The bid review holds
everything internal: the matrix with evidence and checked values, escalations, open issues,
decisions, the drafted answers with their sources, and what the parser kept out of the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._types import (
    CATEGORIES,
    COVERAGE,
    ComplianceReport,
    Gap,
    MatrixRow,
    Requirement,
    RequirementList,
    RiskReview,
    SectionDraft,
)

SECTION_TITLES = {
    "technical": "Technical requirements",
    "security": "Security and privacy",
    "sla": "Service levels and support",
    "pricing": "Pricing",
    "legal": "Legal and contract terms",
    "other": "Proposal instructions and forms",
}
#: Statuses whose answer goes to the buyer.
SENT = ("covered", "partial")
#: Statuses that block submission on a mandatory requirement until a person accepts them by name.
BLOCKING = ("missing", "conflict")


@dataclass
class Assembly:
    """Everything the editor puts in the documents."""

    requirements: RequirementList
    drafts: list[SectionDraft]
    compliance: list[ComplianceReport]
    reviews: list[RiskReview]
    failed: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    library: str = ""
    #: requirement id -> the answer as the editor left it for the buyer (same substance).
    edits: dict[str, str] = field(default_factory=dict)
    #: Edits not used, and why.
    edit_notes: list[str] = field(default_factory=list)


@dataclass
class Rendered:
    response: str
    review: str
    matrix: list[tuple[str, MatrixRow]]
    open_issues: list[str]
    gaps: list[Gap]

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for _, r in self.matrix if r.status == s) for s in COVERAGE}


def _matrix(a: Assembly) -> list[tuple[str, MatrixRow]]:
    """One row per requirement: the compliance reviewer's, else derived from the draft."""
    reviewed = {row.requirement_id: row for report in a.compliance for row in report.matrix}
    answers = {ans.requirement_id: ans for draft in a.drafts for ans in draft.answers}
    rows = []
    for req in a.requirements.requirements:
        row = reviewed.get(req.id)
        if row is None:
            answer = answers.get(req.id)
            if answer is None or answer.status == "no_source":
                failed = [f"{f['step_id']}: {f['error']}" for f in a.failed]
                own = [f for f in failed if f.startswith(f"write_{req.part or req.category}:")]
                own = own or failed
                note = f"section not drafted ({'; '.join(own)[:300]})" if own else "not drafted"
                if answer is not None:
                    note = "no approved answer"
                row = MatrixRow(
                    requirement_id=req.id, modality=req.modality, status="missing", note=note
                )
            else:
                # Not reviewed: nothing checked the answer against the requirement.
                row = MatrixRow(
                    requirement_id=req.id,
                    modality=req.modality,
                    status="partial",
                    evidence=list(answer.citations),
                    note="not reviewed: the answer was not checked against the requirement",
                )
        rows.append((req.category, row))
    return rows


def _label(req: Requirement | None) -> str:
    if req is None:
        return ""
    return req.title or (req.text[:70] + ("…" if len(req.text) > 70 else ""))


def _values(row: MatrixRow) -> str:
    """The checked values side by side: 'required <= 24 hours / offered 72 hours (conflicts)'."""
    if row.check is None or not row.check.checks:
        return ""
    return "; ".join(
        f"{v.subject or v.kind}: required {v.required or '-'} / offered "
        f"{v.offered or 'not stated'} ({v.verdict.replace('_', ' ')})"
        for v in row.check.checks
    )


def _gaps(a: Assembly, rows: list[tuple[str, MatrixRow]]) -> list[Gap]:
    by_id = {r.id: r for r in a.requirements.requirements}
    gaps = []
    for _, row in rows:
        if row.status == "covered":
            continue
        why = _values(row) or (row.check.summary if row.check else "") or row.note
        gaps.append(
            Gap(
                requirement_id=row.requirement_id,
                modality=row.modality,
                status=row.status,
                title=_label(by_id.get(row.requirement_id)),
                detail=why,
            )
        )
    return gaps


def _open_issues(a: Assembly, gaps: list[Gap]) -> list[str]:
    issues: list[str] = []
    for gap in gaps:
        what = {
            "missing": "missing - no approved answer covers it; needs new approved text or a no-bid",
            "conflict": "conflict - the approved answer contradicts or falls short of it",
            "partial": "partial - the answer does not show every constraint met",
        }[gap.status]
        issues.append(
            f"{gap.requirement_id} ({gap.modality}) {gap.title}: {what}"
            + (f" ({gap.detail})" if gap.detail and gap.status != "missing" else "")
        )
    for f in a.failed:
        issues.append(f"step {f['step_id']} ({f['agent']}) did not finish: {f['error']}")
    issues.extend(f"editor's change not used for {note}" for note in a.edit_notes)
    seen: set[str] = set()
    for review in a.reviews:
        for finding in review.findings:
            # Flags that carry the bid team's own guidance (a usage note) are action items.
            actionable = finding.flag in ("pricing_commitment", "legal_exposure")
            if actionable and "usage note" in finding.detail and finding.detail not in seen:
                seen.add(finding.detail)
                issues.append(f"{finding.flag.replace('_', ' ')}: {finding.detail}")
    return issues


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ") or "-"


def _response(a: Assembly, rows: list[tuple[str, MatrixRow]]) -> str:
    req = a.requirements
    status = {row.requirement_id: row.status for _, row in rows}
    answers = {ans.requirement_id: ans for d in a.drafts for ans in d.answers}
    lines = [f"# Response to {req.title or 'the Request for Proposals'}", ""]
    if req.issuer:
        lines.append(f"Prepared for: {req.issuer}  ")
    if req.submit_to:
        lines.append(f"Submitted to: {req.submit_to}  ")
    lines += [
        "",
        "We are pleased to respond to the requirements below, in the order and with the "
        "numbering of the Request for Proposals.",
        "",
    ]
    for category in CATEGORIES:
        members = [
            r
            for r in req.requirements
            if r.category == category and status.get(r.id) in SENT and r.id in answers
        ]
        if not members:
            continue
        lines += [f"## {SECTION_TITLES[category]}", ""]
        for r in members:
            lines += [f"### {r.id} {r.title}".rstrip(), "", f"> {r.text}", ""]
            lines += [a.edits.get(r.id) or answers[r.id].text, ""]
    return "\n".join(lines).rstrip() + "\n"


def _review(
    a: Assembly, rows: list[tuple[str, MatrixRow]], gaps: list[Gap], issues: list[str]
) -> str:
    req = a.requirements
    by_id = {r.id: r for r in req.requirements}
    counts = {s: sum(1 for _, r in rows if r.status == s) for s in COVERAGE}
    lines = [
        f"# Bid review: {req.title or 'the Request for Proposals'}",
        "",
        "Internal to the bid team: not for the buyer. The response document holds only the "
        "answers marked as sent below.",
        "",
        f"- Source documents: {', '.join(req.sources) or 'n/a'}",
        f"- Approved-answer library: {a.library or 'n/a'}",
        f"- Requirements: {len(rows)} ({', '.join(f'{counts[s]} {s}' for s in COVERAGE)})",
    ]
    if req.statements_seen:
        lines.append(
            f"- Parser: {req.statements_seen} requirement-like statements seen, "
            f"{len(req.requirements)} requirements, {len(req.excluded)} excluded"
        )
    blocking = [g for g in gaps if g.modality == "must" and g.status in BLOCKING]
    lines += ["", "## Mandatory requirements that block submission", ""]
    lines += [
        f"- {g.requirement_id} {g.title}: {g.status}" + (f" - {g.detail}" if g.detail else "")
        for g in blocking
    ] or ["None."]
    if blocking:
        lines += [
            "",
            "Submission is refused while these are open, unless a person approves a submission "
            "that names them (submit_response's accept_gaps); --approve-all never accepts them.",
        ]
    lines += [
        "",
        "## Compliance matrix",
        "",
        "| Requirement | Category | Modality | Status | Evidence | Checked values | Note |",
        "|---|---|---|---|---|---|---|",
    ]
    for category, row in rows:
        lines.append(
            f"| {row.requirement_id} | {category} | {row.modality} | {row.status} | "
            f"{', '.join(row.evidence) or '-'} | {_cell(_values(row))} | {_cell(row.note)} |"
        )
    lines += ["", "## Open issues", ""]
    lines += [f"{i}. {issue}" for i, issue in enumerate(issues, 1)] or ["None."]
    lines += ["", "## Escalations and review decisions", ""]
    lines += [f"- {d}" for d in a.decisions] or ["- None recorded."]
    lines += ["", "## Drafted answers", ""]
    answers = {ans.requirement_id: ans for d in a.drafts for ans in d.answers}
    status = {row.requirement_id: row.status for _, row in rows}
    for r in req.requirements:
        answer = answers.get(r.id)
        sent = "sent" if status.get(r.id) in SENT and answer is not None else "not sent"
        lines.append(f"### {r.id} {_label(by_id.get(r.id))} ({r.modality}, {status.get(r.id)})")
        lines.append("")
        if answer is None:
            lines += ["Not drafted.", ""]
            continue
        sources = ", ".join(answer.citations) or "none"
        lines += [answer.text, "", f"*Sources: {sources}; writer: {answer.status}; {sent}.*", ""]
    lines += ["## Excluded from the matrix", ""]
    lines += [
        f"- {x.location or x.section or '-'}: {x.text} - {x.reason}" for x in req.excluded
    ] or ["None."]
    return "\n".join(lines).rstrip() + "\n"


def render(a: Assembly) -> Rendered:
    """The buyer's response and the team's bid review, with the matrix and the gaps."""
    rows = _matrix(a)
    gaps = _gaps(a, rows)
    issues = _open_issues(a, gaps)
    return Rendered(
        response=_response(a, rows),
        review=_review(a, rows, gaps, issues),
        matrix=rows,
        open_issues=issues,
        gaps=gaps,
    )
