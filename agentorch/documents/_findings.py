"""What ``find_requirements`` returns: candidates with their ids, and what it kept out.

Ids come from the document's numbering: several rows under one number get ``.a``, ``.b`` (or
``-1``, ``-2``), a row with no number its section's ordinal (``R-S3.2``); a clause number
printed twice keeps both rows, flagged ``repeated_number``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, Field

from agentorch.documents._statements import Modality
from agentorch.documents._structure import Unit


class Candidate(BaseModel):
    """One obligation of the contractor, as the document states it."""

    id: str = Field(description="Stable id from the document's numbering, e.g. 'R-3.5.a'.")
    number: str = Field(default="", description="The clause number it is under, as printed.")
    title: str = Field(default="", description="The clause's short title, if it has one.")
    text: str = Field(description="The obligation, verbatim (a list item's own text).")
    lead_in: str = Field(default="", description="For a list item: the sentence introducing it.")
    modality: Modality
    negative: bool = False
    section: str = ""
    location: str = Field(default="", description="'line 120', 'page 4, line 12', ...")
    due: str = ""
    flags: list[str] = Field(default_factory=list)


class ExcludedCandidate(BaseModel):
    """A statement that reads like a requirement but binds someone else, and why."""

    text: str
    section: str = ""
    location: str = ""
    reason: str


class UnaccountedStatement(BaseModel):
    """A sentence with an obligation word (shall, must, required, ...) that became neither a
    requirement nor an exclusion: a likely miss, for a person to check."""

    text: str
    section: str = ""
    location: str = ""


class Findings(BaseModel):
    """What ``find_requirements`` found in one document."""

    title: str = ""
    issuer: str = Field(default="", description="Who issued it, from an 'Issued by:' line.")
    #: Requirements + excluded + unaccounted: every sentence with an obligation word.
    statements_seen: int = 0
    requirements: list[Candidate] = Field(default_factory=list)
    excluded: list[ExcludedCandidate] = Field(default_factory=list)
    unaccounted: list[UnaccountedStatement] = Field(
        default_factory=list,
        description="Sentences with shall/must/required that made no row and no exclusion.",
    )


@dataclass(slots=True)
class Row:
    """One row before its id: the numbering it is under, and what it says."""

    base: str
    unit: Unit
    text: str
    modality: Modality
    negative: bool = False
    lead_in: str = ""
    due: str = ""


def identify(rows: list[Row]) -> list[Candidate]:
    """Ids from the numbering; several rows under one number get .a, .b (or -1, -2)."""
    groups: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        key = row.base or f"S{row.unit.section_index}"
        groups.setdefault(key, []).append(index)
    taken = set(groups)
    ids: list[str] = [""] * len(rows)
    for key, members in groups.items():
        if len(members) == 1 and row_has_number(rows[members[0]]):
            ids[members[0]] = key
            continue
        numbered = key[-1:].isalpha() or not row_has_number(rows[members[0]])
        letters = [_letters(n) for n in range(len(members))]
        if numbered or any(f"{key}.{x}" in taken for x in letters):
            suffixes = [
                f"{'.' if not row_has_number(rows[members[0]]) else '-'}{n + 1}"
                for n in range(len(members))
            ]
        else:
            suffixes = [f".{x}" for x in letters]
        for member, suffix in zip(members, suffixes, strict=True):
            ids[member] = key + suffix
    repeated = _repeated_clauses(rows)
    out: list[Candidate] = []
    for row, rid in zip(rows, ids, strict=True):
        unit = row.unit
        flags = ["repeated_number"] if unit.clause and unit.clause in repeated else []
        out.append(
            Candidate(
                id=rid if re.match(r"^[A-Z]{1,4}-\d", rid) else f"R-{rid}",
                number=unit.clause or row.base,
                title=unit.title,
                text=row.text,
                lead_in=row.lead_in,
                modality=row.modality,
                negative=row.negative,
                section=unit.section,
                location=unit.where,
                due=row.due,
                flags=flags,
            )
        )
    return out


def row_has_number(row: Row) -> bool:
    """Whether the row's id base comes from the document's numbering (not a section ordinal)."""
    return bool(row.base)


def _repeated_clauses(rows: list[Row]) -> set[str]:
    printings: dict[str, set[int]] = {}
    for row in rows:
        if row.unit.clause:
            printings.setdefault(row.unit.clause, set()).add(row.unit.printing)
    return {number for number, seen in printings.items() if len(seen) > 1}


def _letters(n: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa."""
    out = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("a") + rem) + out
    return out
