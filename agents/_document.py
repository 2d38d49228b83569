"""Assembling the response document (Markdown) from the run's typed outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._types import (
    CATEGORIES,
    ComplianceReport,
    MatrixRow,
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


@dataclass
class Assembly:
    """Everything the editor puts in the document."""

    requirements: RequirementList
    drafts: list[SectionDraft]
    compliance: list[ComplianceReport]
    reviews: list[RiskReview]
    failed: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)


@dataclass
class Rendered:
    markdown: str
    matrix: list[tuple[str, MatrixRow]]
    open_issues: list[str]


def _matrix(a: Assembly) -> list[tuple[str, MatrixRow]]:
    """One row per requirement: the compliance reviewer's, else derived from the draft."""
    reviewed = {row.requirement_id: row for report in a.compliance for row in report.matrix}
    answers = {ans.requirement_id: ans for draft in a.drafts for ans in draft.answers}
    failed = "; ".join(f"{f['step_id']}: {f['error']}" for f in a.failed)
    rows = []
    for req in a.requirements.requirements:
        row = reviewed.get(req.id)
        if row is None:
            answer = answers.get(req.id)
            if answer is None:
                note = f"section not drafted ({failed})" if failed else "not drafted"
                row = MatrixRow(
                    requirement_id=req.id, modality=req.modality, status="missing", note=note
                )
            else:
                status = {"answered": "covered", "partial": "partial"}.get(answer.status, "missing")
                row = MatrixRow(
                    requirement_id=req.id,
                    modality=req.modality,
                    status=status,  # type: ignore[arg-type]
                    evidence=list(answer.citations),
                    note="not reviewed",
                )
        rows.append((req.category, row))
    return rows


def _open_issues(a: Assembly, rows: list[tuple[str, MatrixRow]]) -> list[str]:
    labels = {r.id: (r.title or r.text[:70]) for r in a.requirements.requirements}
    issues: list[str] = []
    for _, row in rows:
        label = labels.get(row.requirement_id, "")
        if row.status == "missing":
            issues.append(
                f"{row.requirement_id} ({row.modality}) {label}: missing - "
                f"{row.note or 'no approved answer'}; needs input from the bid team"
            )
        elif row.status == "partial":
            issues.append(
                f"{row.requirement_id} ({row.modality}) {label}: partly covered "
                f"({', '.join(row.evidence) or 'no evidence'}); state the deviation"
            )
    for f in a.failed:
        issues.append(f"step {f['step_id']} ({f['agent']}) did not finish: {f['error']}")
    seen: set[str] = set()
    for review in a.reviews:
        for finding in review.findings:
            # Flags that carry the bid team's own guidance (a usage note) are action items.
            actionable = finding.flag in ("pricing_commitment", "legal_exposure")
            if actionable and "usage note" in finding.detail and finding.detail not in seen:
                seen.add(finding.detail)
                issues.append(f"{finding.flag.replace('_', ' ')}: {finding.detail}")
    return issues


def render(a: Assembly) -> Rendered:
    """The response as Markdown: cover, sections with cited answers, matrix, open issues."""
    rows = _matrix(a)
    issues = _open_issues(a, rows)
    req = a.requirements
    counts = {
        s: sum(1 for _, r in rows if r.status == s) for s in ("covered", "partial", "missing")
    }
    lines = [f"# Response to {req.title or 'the Request for Proposals'}", ""]
    if req.issuer:
        lines.append(f"Prepared for: {req.issuer}  ")
    if req.submit_to:
        lines.append(f"Submission: {req.submit_to}  ")
    lines += [
        f"Source documents: {', '.join(req.sources) or 'n/a'}",
        "",
        f"This response addresses {len(rows)} requirements: {counts['covered']} covered, "
        f"{counts['partial']} partially covered, {counts['missing']} not yet covered. Every answer "
        "cites the approved answers it is based on; open issues are listed at the end.",
        "",
    ]
    answers = {ans.requirement_id: ans for d in a.drafts for ans in d.answers}
    for category in CATEGORIES:
        members = [r for r in req.requirements if r.category == category]
        if not members:
            continue
        lines += [f"## {SECTION_TITLES[category]}", ""]
        for r in members:
            heading = f"{r.id} {r.title}".strip()
            lines += [f"### {heading} ({r.modality})", "", f"> {r.text}", ""]
            answer = answers.get(r.id)
            if answer is None:
                lines += ["*Not drafted: see open issues.*", ""]
                continue
            lines += [answer.text, ""]
            if answer.citations:
                lines += [f"*Sources: {', '.join(answer.citations)}*", ""]
    lines += [
        "## Compliance matrix",
        "",
        "| Requirement | Category | Modality | Status | Evidence | Note |",
        "|---|---|---|---|---|---|",
    ]
    for category, row in rows:
        lines.append(
            f"| {row.requirement_id} | {category} | {row.modality} | {row.status} | "
            f"{', '.join(row.evidence) or '-'} | {row.note.replace('|', '/') or '-'} |"
        )
    lines += ["", "## Open issues", ""]
    lines += [f"{i}. {issue}" for i, issue in enumerate(issues, 1)] or ["None."]
    lines += ["", "## Review decisions", ""]
    lines += [f"- {d}" for d in a.decisions] or ["- None recorded."]
    return Rendered(markdown="\n".join(lines) + "\n", matrix=rows, open_issues=issues)
