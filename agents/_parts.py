"""An RFP in parts for a plan with steps per part, and the parts' requirement lists merged.

The RFP workflow plans one parse, write, review and edit step per document part, so that no model
call reads more than the run's context budget whatever the RFP's size (see
``agentorch.documents.chunks``). A part is a whole section where it fits, named after its
heading's category ("technical", "pricing_2", ...): sections of one category next to each other
share a part while it fits. The budget's shares below keep each step's whole conversation
(instructions, the part, tool results, the answer) inside the budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentorch.documents.chunks import (
    DEFAULT_CONTEXT_TOKENS,
    check_context_tokens,
    document_findings,
    split_blocks,
    statement_counts,
)

from ._extract import category_of, submit_target
from ._types import ExcludedStatement, Requirement, RequirementList

#: Share of the budget a part's text may take: the parser's conversation holds it about three
#: times (the candidates found in it, the text read back, its answer).
TEXT_SHARE = 4
#: Budget tokens per requirement statement in a part: a writer's or reviewer's conversation grows
#: by a search, an approved answer and a commitment check for each.
TOKENS_PER_STATEMENT = 1_600


@dataclass(frozen=True)
class DocumentPart:
    """One part of an input file: a plan's steps for it are named ``<kind>_<name>``."""

    name: str
    category: str
    file: str
    path: str
    start: int
    end: int
    heading: str
    tokens: int
    statements: int

    def params(self) -> dict[str, Any]:
        """The step parameters that locate the part (the parser passes them to its tools)."""
        return {
            "part": self.name,
            "file": self.file,
            "start": self.start,
            "end": self.end,
            "heading": self.heading,
        }


def part_limits(context_tokens: int) -> tuple[int, int]:
    """(text tokens, requirement statements) a part may hold under a context budget."""
    budget = check_context_tokens(context_tokens)
    return budget // TEXT_SHARE, max(1, budget // TOKENS_PER_STATEMENT)


def document_parts(
    files: Iterable[str | Path], context_tokens: int = DEFAULT_CONTEXT_TOKENS
) -> list[DocumentPart]:
    """Every input file's parts, in order, named by category (numbered from the second on)."""
    max_tokens, max_statements = part_limits(context_tokens)
    parts: list[DocumentPart] = []
    seen: dict[str, int] = {}
    for file in files:
        blocks, findings = document_findings(file)
        pieces = split_blocks(
            blocks,
            max_tokens=max_tokens,
            weights=statement_counts(findings, blocks),
            max_weight=max_statements,
            key=lambda heading: category_of(heading, ""),
        )
        for piece in pieces:
            category = category_of(piece.heading, "")
            seen[category] = seen.get(category, 0) + 1
            count = seen[category]
            parts.append(
                DocumentPart(
                    name=category if count == 1 else f"{category}_{count}",
                    category=category,
                    file=Path(file).name,
                    path=str(Path(file).resolve()),
                    start=piece.start,
                    end=piece.end,
                    heading=piece.heading,
                    tokens=piece.tokens,
                    statements=piece.weight,
                )
            )
    return parts


def part_range(params: Mapping[str, Any]) -> tuple[int, int] | None:
    """A part step's block range from its parameters, or ``None`` for a whole-document step."""
    start, end = params.get("start"), params.get("end")
    if isinstance(start, int) and isinstance(end, int) and params.get("part"):
        return start, end
    return None


def merge_parts(lists: Sequence[RequirementList]) -> RequirementList:
    """The parts' requirement lists as one, in document order, deterministically.

    An id found in two parts with the same text is one requirement (kept once, where it was
    first found); with a different text it is another requirement and gets the part's name
    (``R-3.1~pricing_2``), or its file's stem when the parts come from different files.
    """
    merged = RequirementList(
        title=next((x.title for x in lists if x.title), ""),
        issuer=next((x.issuer for x in lists if x.issuer), ""),
    )
    seen: dict[str, Requirement] = {}
    kept_out: set[tuple[str, str]] = set()
    for item in lists:
        for source in item.sources:
            if source not in merged.sources:
                merged.sources.append(source)
        for excluded in item.excluded:
            if (excluded.location, excluded.text) not in kept_out:
                kept_out.add((excluded.location, excluded.text))
                merged.excluded.append(ExcludedStatement.model_validate(excluded.model_dump()))
        for missed in item.unaccounted:
            if (missed.location, missed.text) not in kept_out:
                kept_out.add((missed.location, missed.text))
                merged.unaccounted.append(ExcludedStatement.model_validate(missed.model_dump()))
        merged.statements_seen += item.statements_seen
        for req in item.requirements:
            first = seen.get(req.id)
            if first is not None and first.text == req.text and first.source == req.source:
                merged.statements_seen -= 1  # the same statement, seen from both sides of a border
                continue
            if first is not None:
                other_file = first.source != req.source
                suffix = f"{Path(req.source).stem}:" if other_file else ""
                new_id = f"{suffix}{req.id}" if other_file else f"{req.id}~{req.part or 'part'}"
                req = req.model_copy(update={"id": new_id})
            seen.setdefault(req.id, req)
            merged.requirements.append(req)
    merged.submit_to = next((x.submit_to for x in lists if x.submit_to), "") or submit_target(
        merged.requirements
    )
    return merged


__all__ = [
    "DEFAULT_CONTEXT_TOKENS",
    "DocumentPart",
    "document_parts",
    "merge_parts",
    "part_limits",
    "part_range",
]
