"""The compliance matrix from the checked evidence: statuses that mean what they say.

covered  - valid evidence, on the requirement's subject, that meets every checked constraint (with
           nothing to check, an answer clearly on the subject) and mentions what the requirement
           specifically asks (its distinctive terms, see ``_specific``);
partial  - a constraint left unstated or unclear, a shortfall on a should/may requirement, an
           answer the writer marked partial, or a generic answer that leaves the requirement's
           distinctive terms unaddressed (the note names them);
conflict - the evidence contradicts the requirement, or falls short of a must requirement;
missing  - no answer, no valid evidence, or an answer about another subject (not evidence).
A must requirement in conflict or partial is escalated with the required and offered values side
by side, and so is one missing with nothing in the library; none of them is ever "covered".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from agentorch import ComparedValue, ReviewPoint

from ._matching import query_for, related_hit, suggestion
from ._specific import addressed
from ._types import COVERAGE, CommitmentCheck, ComplianceReport, DraftAnswer, MatrixRow

#: With no value to check and no requirement text to match terms in, "covered" needs an answer
#: clearly on the requirement's subject.
SURE_RELEVANCE = 0.6


#: Who or what a proposal instruction is about: the offer itself and whoever makes it, never the
#: contractor's work ("Proposals shall remain valid ...", "Offerors shall submit ...").
_OFFER = re.compile(
    r"\b(?:offerors?|quoters?|bidders?|proposers?|respondents?|proposals?|quotations?|quotes?|"
    r"bids?)\b",
    re.IGNORECASE,
)


def is_paperwork(category: str, req: dict[str, Any]) -> bool:
    """A proposal instruction or form: in the "other" category and about the offer itself.

    Its missing answer is an open issue (it still blocks submission), not a reason to stop the
    section. "Other" is also where a clause lands when nothing names its category: a contractor's
    duty there ("The contractor will work in a Government facility") is not paperwork.
    """
    if category != "other":
        return False
    return bool(_OFFER.search(f"{req.get('title') or ''} {req.get('text') or ''}"))


def status_for(
    modality: str,
    answer: DraftAnswer,
    check: CommitmentCheck | None,
    requirement: str = "",
    key_terms: dict[str, float] | None = None,
) -> tuple[str, str]:
    """(status, note) of an answered requirement with valid evidence, from its check and, given
    the requirement's text, whether the answer addresses its distinctive terms."""
    if check is None:
        return "partial", "not checked: the commitment check gave no result"
    if not check.relevant:
        return "missing", "the cited answer is about another subject, so it is no evidence"
    if check.verdict == "conflicts":
        return "conflict", check.summary
    if check.verdict == "falls_short":
        return ("conflict" if modality == "must" else "partial"), check.summary
    if check.verdict in ("not_stated", "cannot_tell"):
        return "partial", check.summary
    if answer.status == "partial":
        return "partial", "the writer marked it partly covered"
    if not requirement and not check.checks and check.relevance < SURE_RELEVANCE:
        return "partial", (
            f"nothing checkable, and the answer is only loosely on the subject (relevance "
            f"{check.relevance:.2f}): confirm it answers every part of the requirement"
        )
    if requirement:
        found = addressed(requirement, answer.text, key_terms)
        if not found.ok:
            return "partial", found.reason()
    return "covered", ""


def status_word(status: str) -> str:
    return {
        "conflict": "contradicts or falls short of a mandatory requirement",
        "partial": "leaves part of the requirement unstated or unclear",
    }.get(status, status)


def values_line(check: CommitmentCheck | None) -> str:
    """'notification: required <= 24 hours, offered 72 hours (falls short)', per constraint."""
    if check is None:
        return ""
    shown = [c for c in check.checks if c.verdict != "meets"] or check.checks
    return "; ".join(
        f"{c.subject or c.kind}: required {c.required}, offered {c.offered or 'not stated'} "
        f"({c.verdict.replace('_', ' ')})"
        for c in shown
    )


def build_report(
    category: str,
    requirements: list[dict[str, Any]],
    answers: dict[str, DraftAnswer],
    valid: set[str],
    searched: dict[Any, Any],
    checks: dict[str, CommitmentCheck],
    suggestable: Callable[[dict[str, Any], dict[str, Any]], bool] | None = None,
) -> ComplianceReport:
    """The section's matrix and verdict (pass / revise / escalate). ``suggestable(req, hit)``
    says whether a related approved answer was checked to be on the requirement's subject (only
    then is it suggested to the writer); without it every related hit is suggested."""
    if not requirements:
        return ComplianceReport(
            verdict="escalate",
            confidence=0.2,
            reasons=[
                f"the {category} section has no requirements to check: nothing was reviewed, so "
                "a person must confirm that the RFP asks nothing of this kind"
            ],
            category=category,
        )
    matrix: list[MatrixRow] = []
    fixes: list[str] = []
    open_issues: list[str] = []
    escalate: list[str] = []
    points: list[ReviewPoint] = []
    for req in requirements:
        rid, modality = req["id"], req["modality"]
        label = req.get("title") or str(req["text"])[:70]
        answer = answers.get(rid)
        evidence = [c for c in (answer.citations if answer else []) if c in valid]
        bad = [c for c in (answer.citations if answer else []) if c not in valid]
        check = checks.get(rid)
        if answer is None:
            fixes.append(f"{rid}: the draft has no answer for this requirement; add one")
        for cid in bad:
            fixes.append(
                f"{rid}: cites {cid}, which is not an approved answer; "
                "cite a real one or mark it no_source"
            )
        if answer is None or answer.status == "no_source" or not evidence:
            status, note = "missing", "no approved answer covers it"
            hit = related_hit(req, searched.get(query_for(req)), exclude=set())
            if hit is not None and suggestable is not None and not suggestable(req, hit):
                hit = None
            if hit is not None and answer is not None and answer.status == "no_source":
                fixes.append(suggestion(rid, str(hit["id"]), str(hit.get("title", ""))))
                note = f"approved answer {hit['id']} may cover it"
            elif modality == "must" and not is_paperwork(category, req):
                escalate.append(f"{rid} ({label}) is missing: nothing approved covers it")
                points.append(
                    ReviewPoint(
                        item=f"{rid} {label} ({modality}): missing",
                        asked=str(req["text"]),
                        reason="nothing in the approved-answer library covers it",
                    )
                )
            open_issues.append(f"{rid} ({modality}) {label}: missing - {note}")
            check = None
        else:
            status, note = status_for(
                modality, answer, check, str(req["text"]), req.get("key_terms")
            )
            values = values_line(check)
            if status != "covered":
                open_issues.append(
                    f"{rid} ({modality}) {label}: {status} - {values or note} "
                    f"(evidence {', '.join(evidence)})"
                )
            if modality == "must" and status in ("conflict", "partial", "missing"):
                escalate.append(
                    f"{rid} ({label}) is {status}: {values or note} (answer {', '.join(evidence)})"
                )
                points.append(
                    ReviewPoint(
                        item=f"{rid} {label} ({modality}): {status}",
                        asked=str(req["text"]),
                        proposed=f"[{', '.join(evidence)}] {answer.text}",
                        values=[
                            ComparedValue(
                                label=c.subject or c.kind,
                                required=c.required,
                                offered=c.offered or "not stated",
                                verdict=c.verdict.replace("_", " "),
                            )
                            for c in (check.checks if check else [])
                        ],
                        reason=note if not values else f"the answer {status_word(status)}",
                    )
                )
        matrix.append(
            MatrixRow(
                requirement_id=rid,
                modality=modality,
                status=status,  # type: ignore[arg-type]
                evidence=evidence if status != "missing" else [],
                note=note,
                check=check,
            )
        )
    counts = {s: sum(1 for row in matrix if row.status == s) for s in COVERAGE}
    summary = ", ".join(f"{counts[s]} {s}" for s in COVERAGE)
    if fixes:
        return ComplianceReport(
            verdict="revise",
            confidence=0.8,
            reasons=fixes,
            category=category,
            matrix=matrix,
            open_issues=open_issues,
        )
    if escalate:
        return ComplianceReport(
            verdict="escalate",
            confidence=0.4,
            reasons=[
                f"{summary}; mandatory requirement(s) need a person's decision (new approved "
                "text, an exception, or no-bid)",
                *escalate,
            ],
            category=category,
            matrix=matrix,
            open_issues=open_issues,
            points=points,
        )
    open_count = len(matrix) - counts["covered"]
    confidence = 0.95 if open_count == 0 else 0.75
    return ComplianceReport(
        verdict="pass",
        confidence=confidence,
        reasons=[summary],
        category=category,
        matrix=matrix,
        open_issues=open_issues,
    )
