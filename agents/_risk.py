"""The risk critic's rules: pricing commitments, legal exposure, absolute and unsourced claims."""

from __future__ import annotations

import re
from typing import Any

from ._types import DraftAnswer, RiskFinding

ABSOLUTE = re.compile(
    r"\b(guarantee[sd]?|unlimited|never|always|without (?:any )?limit|zero (?:failures|downtime)"
    r"|at all times|in all cases)\b|\b100\s?%",
    re.I,
)
MONEY = re.compile(
    r"\$\s?\d|\b\d+(?:\.\d+)?\s?(?:%|percent)|\bfixed[- ](?:fee|price|pricing)|"
    r"\bno additional (?:cost|charge|fee)|\bdiscount|\bprice escalation|\bmost favou?red",
    re.I,
)
LEGAL = re.compile(
    r"\bindemnif|\bliabilit|\bliquidated damages|\bwarrant|\bgoverning law|\bhold harmless|"
    r"\bintellectual property|\bwork(?:s)? made for hire|\bsole remedy",
    re.I,
)
_NOTE_NEEDS_PERSON = re.compile(
    r"approv|sign-?off|escalat|\bflag|\bnever\b|\bdo not\b|hard no|no-bid|\bmust\b", re.I
)
_NOTE_PRICING = re.compile(r"\b(CFO|Finance|pric|rate card|cash flow|fees?)\b", re.I)
_NOTE_LEGAL = re.compile(r"\b(Legal|General Counsel|no-bid|exception|indemn|liabil|insur)", re.I)


def absolute_terms(text: str) -> set[str]:
    return {m.group(0).lower().replace(" ", "") for m in ABSOLUTE.finditer(text)}


def assess(
    category: str,
    requirements: dict[str, dict[str, Any]],
    answers: list[DraftAnswer],
    sources: dict[str, dict[str, Any] | None],
) -> list[RiskFinding]:
    """Every risk in a section's draft.

    Args:
        category: The section's category.
        requirements: requirement id -> requirement (id, title, text, modality).
        answers: The draft's answers.
        sources: approved-answer id -> the answer as ``get_answer`` returned it (``None`` when
            the id does not exist).
    """
    findings: list[RiskFinding] = []
    for answer in answers:
        rid = answer.requirement_id
        if answer.status == "no_source":
            continue
        cited = [sources.get(c) for c in answer.citations]
        valid = [c for c in cited if c]
        if not answer.citations:
            findings.append(
                RiskFinding(
                    flag="unsourced_claim",
                    requirement_id=rid,
                    detail=f"{rid} is answered without citing an approved answer",
                )
            )
        for cid, source in zip(answer.citations, cited, strict=True):
            if source is None:
                findings.append(
                    RiskFinding(
                        flag="unsourced_claim",
                        requirement_id=rid,
                        detail=f"{rid} cites {cid}, which is not an approved answer",
                    )
                )
        source_text = " ".join(str(s.get("text", "")) for s in valid)
        invented = absolute_terms(answer.text) - absolute_terms(source_text)
        if invented:
            findings.append(
                RiskFinding(
                    flag="absolute_claim",
                    requirement_id=rid,
                    detail=f"{rid} makes an absolute claim ({', '.join(sorted(invented))}) that "
                    "no cited approved answer makes; remove it or cite a source that says it",
                )
            )
        requirement = requirements.get(rid, {})
        asked = absolute_terms(str(requirement.get("text", "")))
        if asked:
            findings.append(
                RiskFinding(
                    flag="absolute_claim",
                    requirement_id=rid,
                    detail=f"{rid} asks for an absolute commitment ({', '.join(sorted(asked))}); "
                    "the answer must state our actual commitment, not accept it as written",
                )
            )
        findings.extend(_commitments(category, rid, answer, requirement, valid))
    return findings


def _commitments(
    category: str,
    rid: str,
    answer: DraftAnswer,
    requirement: dict[str, Any],
    sources: list[dict[str, Any]],
) -> list[RiskFinding]:
    found: list[RiskFinding] = []
    pricing = category == "pricing" or bool(MONEY.search(answer.text))
    legal = category == "legal" or bool(LEGAL.search(answer.text))
    notes = []
    for source in sources:
        note = str(source.get("usage_notes") or "")
        if note and _NOTE_NEEDS_PERSON.search(note):
            notes.append((str(source.get("id")), note))
            pricing = pricing or bool(_NOTE_PRICING.search(note))
            legal = legal or bool(_NOTE_LEGAL.search(note))
    title = requirement.get("title") or str(requirement.get("text", ""))[:60]
    guidance = "; ".join(f"{cid} usage note: {note}" for cid, note in notes)
    if pricing:
        found.append(
            RiskFinding(
                flag="pricing_commitment",
                requirement_id=rid,
                detail=f"{rid} ({title}) commits us on price or payment terms"
                + (f" - {guidance}" if guidance else ""),
            )
        )
    if legal:
        found.append(
            RiskFinding(
                flag="legal_exposure",
                requirement_id=rid,
                detail=f"{rid} ({title}) takes a position on contract or liability terms"
                + (f" - {guidance}" if guidance else ""),
            )
        )
    return found
