"""Compare what an answer commits to with what a requirement asks, constraint by constraint.

``check(requirement, answer)`` is pure and deterministic: the ``check_commitment`` tool, the
offline compliance reviewer and the benchmark all call it.
"""

from __future__ import annotations

from ._constraints import Constraint, sentences, time_constraints
from ._match import compare_one
from ._quantities import (
    count_constraints,
    frequency_constraints,
    money_constraints,
    percent_constraints,
)
from ._relevance import RELEVANT_AT, relevance
from ._rights import indemnity_terms, location_terms, ownership_terms
from ._standards import certification_terms, language_terms
from ._terms import billing_terms, cap_constraints, price_terms, unlimited_terms
from ._verdict import SEVERITY, CommitmentCheck


def extract(text: str, *, requirement: bool) -> list[Constraint]:
    """Every typed constraint in ``text``, read as a requirement or as an answer."""
    out: list[Constraint] = []
    for s in sentences(text):
        out += time_constraints(s)
        out += percent_constraints(s)
        out += money_constraints(s)
        out += count_constraints(s)
        out += frequency_constraints(s)
        out += cap_constraints(s)
        out += unlimited_terms(s)
        out += price_terms(s, requirement)
        out += ownership_terms(s, requirement)
        out += location_terms(s, requirement)
        out += certification_terms(s, requirement)
        out += language_terms(s, requirement)
        out += billing_terms(s, requirement)
        out += indemnity_terms(s, requirement)
    if requirement:
        out = [c for c in out if not (c.kind == "unlimited" and c.term != "unlimited")]
        out = [c for c in out if not (c.kind == "count" and c.term == "on request")]
        # words without a figure cannot be checked; the contract's own term is not a commitment
        out = [c for c in out if c.term != "vague" and c.subject != "term"]
    return _dedupe(out)


def _dedupe(items: list[Constraint]) -> list[Constraint]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for c in items:
        key = (c.kind, c.subject, c.lo, c.hi, c.basis, c.qualifier, c.term, c.options, c.negated)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def check(requirement: str, answer: str) -> CommitmentCheck:
    """Check ``answer`` against every constraint ``requirement`` states."""
    wanted = extract(requirement, requirement=True)
    offered = extract(answer, requirement=False) if answer.strip() else []
    checks = [compare_one(rc, offered) for rc in wanted]
    shared = sum(1 for c in checks if c.offered is not None)
    score = relevance(requirement, answer, shared) if answer.strip() else 0.0
    relevant = score >= RELEVANT_AT
    if not relevant:
        checks = [
            c.model_copy(
                update={
                    "offered": None,
                    "verdict": "not_stated",
                    "detail": "the answer is about another subject, so it is no evidence",
                }
            )
            for c in checks
        ]
        summary = f"the answer does not address the requirement (relevance {score:.2f})"
        return CommitmentCheck(
            verdict="not_stated", relevant=False, relevance=score, checks=checks, summary=summary
        )
    if not checks:
        return CommitmentCheck(
            verdict="meets",
            relevant=True,
            relevance=score,
            checks=[],
            summary="no checkable value or term in the requirement; the answer is on its subject",
        )
    checks.sort(key=lambda c: -SEVERITY[c.verdict])
    verdict = checks[0].verdict
    return CommitmentCheck(
        verdict=verdict,
        relevant=True,
        relevance=score,
        checks=checks,
        summary="; ".join(c.line() for c in checks),
    )
