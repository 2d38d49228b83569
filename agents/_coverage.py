"""Reviewing the parser's result: did it turn what it saw into rows, or find nothing at all?

The parser reports how many requirement-like statements it saw (``statements_seen``), the rows it
made (``requirements``) and what it kept out of the matrix and why (``excluded``). An empty result
on a non-empty document is never passed: with nothing requirement-like in it the document is not
a solicitation and the run ends with a clear message; rows that account for clearly fewer
statements than were seen go to a person with the numbers.
"""

from __future__ import annotations

import re

from agentorch.errors import InputFileError

from ._types import ComplianceReport, RequirementList

#: Rows plus exclusions must account for at least this share of the statements seen.
MIN_ACCOUNTED = 0.9
#: In a solicitation, obligations name who or what performs them (the contractor, the offeror,
#: the solution, the proposal...). Documentation full of "must" names none of them: below this
#: share of rows that do, the input is not taken for a solicitation. (On the extraction corpus
#: and both example RFPs the share is 48-92%; on this project's README.md it is 25%.)
MIN_PARTY_SHARE = 1 / 3
PARTY = re.compile(
    r"\b(?:(?:sub)?contractors?|offerors?|quoters?|vendors?|proposers?|bidders?|suppliers?|"
    r"providers?|respondents?|consultants?|awardees?|sellers?|tenderers?|firm|company|"
    r"solution|system|software|application|platform|services?|products?|equipment|"
    r"deliverables?|proposals?|quot(?:e|ation)s?|offers?|bids?|submissions?|personnel|staff|"
    r"employees?|you|your)\b",
    re.I,
)


def _names(listing: RequirementList) -> str:
    return ", ".join(listing.sources) or "the input"


def review_extraction(listing: RequirementList) -> ComplianceReport:
    """pass / escalate on the parser's numbers; raises ``InputFileError`` on zero rows."""
    names = _names(listing)
    rows, seen, excluded = (
        len(listing.requirements),
        listing.statements_seen,
        len(listing.excluded),
    )
    if rows == 0 and seen == 0:
        raise InputFileError(f"no requirements found in {names}: is this a solicitation?")
    if rows == 0:
        raise InputFileError(
            f"no requirements extracted from {names}, although the parser saw {seen} "
            f"requirement-like statement(s) ({excluded} excluded as not ours): check the document "
            "and its format"
        )
    naming = sum(1 for r in listing.requirements if PARTY.search(r.text))
    if naming < MIN_PARTY_SHARE * rows:
        raise InputFileError(
            f"no requirements found in {names}: is this a solicitation? ({rows} statement(s) "
            f"with shall/must/will, but only {naming} name a contractor, offeror, vendor, "
            "proposal or the solution)"
        )
    numbers = (
        f"{rows} requirement(s) extracted, {excluded} statement(s) excluded, "
        f"{seen} requirement-like statement(s) seen in {names}"
        if seen
        else f"{rows} requirement(s) extracted from {names} (the parser did not count statements)"
    )
    accounted = rows + excluded
    misses = likely_misses(listing)
    if seen and accounted < MIN_ACCOUNTED * seen:
        return ComplianceReport(
            verdict="escalate",
            confidence=0.3,
            reasons=[
                f"{numbers}: the rows account for only {accounted} of {seen} "
                f"({accounted / seen:.0%}); a person must check what the parser missed before "
                "the response is drafted",
                *misses,
            ],
            category="all",
        )
    return ComplianceReport(
        verdict="pass",
        confidence=0.8 if misses else 0.9,
        reasons=[numbers, *misses],
        category="all",
    )


def likely_misses(listing: RequirementList) -> list[str]:
    """Where the parser saw an obligation word (shall, must, required) in a sentence it made
    nothing of, counted per section with the first such sentence: what a person should check."""
    if not listing.unaccounted:
        return []
    sections: dict[str, list[str]] = {}
    for statement in listing.unaccounted:
        sections.setdefault(statement.section or "(no section)", []).append(statement.text)
    parts = [f'{name}: {len(texts)} (e.g. "{texts[0][:80]}")' for name, texts in sections.items()]
    return [
        f"likely misses: {len(listing.unaccounted)} sentence(s) with shall/must/required became "
        f"no requirement and no exclusion; check them: {'; '.join(parts)}"
    ]
