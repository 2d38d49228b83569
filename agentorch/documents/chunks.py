"""A document in parts that fit a model's context: whole sections where they fit.

A model call can read only so much. To keep every call of a workflow within a context budget
whatever the document's size, the work is split by the document's own structure: a part is a run
of consecutive blocks, a whole section (with its subsections) when it fits, else its subsections,
else its paragraphs. Parts are found before any model call, deterministically, so a workflow can
plan one step per part; ``findings_in`` narrows ``find_requirements``' result for the whole
document to one part, so requirement ids stay exactly those of the whole document (no duplicate
or renumbered id at a part's border).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agentorch.documents._blocks import Block, render
from agentorch.documents._structure import units
from agentorch.documents.reader import read_blocks
from agentorch.documents.requirements import Findings, find_requirements

#: The context budget a single model call is held to by default (tokens of input): it fits the
#: common models' windows with room for instructions and output.
DEFAULT_CONTEXT_TOKENS = 32_000
#: The smallest budget accepted: below it instructions and tool schemas alone may not fit.
MIN_CONTEXT_TOKENS = 4_000
#: The encoding token counts use (the 4o / 4.1 / o-series models'); other models' tokenizers
#: differ by a few percent, which the budgets' shares leave room for.
ENCODING = "o200k_base"


@dataclass(frozen=True, slots=True)
class Part:
    """A run of blocks ``[start, end)`` of a document, with its size."""

    start: int
    end: int
    #: The heading of the section the part begins in ("" before the first heading).
    heading: str
    tokens: int
    #: What the caller counted per block (e.g. requirement statements), summed.
    weight: int


def count_tokens(text: str) -> int:
    """Tokens in ``text`` (tiktoken, offline: the encodings litellm bundles)."""
    from agentorch.budget.tokens import count_text

    return count_text(text, ENCODING)


def check_context_tokens(value: object, what: str = "context_tokens") -> int:
    """``value`` as a context budget; ``ValueError`` (one line) when it is not a usable one."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number of tokens, not {value!r}")
    if value < MIN_CONTEXT_TOKENS:
        raise ValueError(f"{what} must be at least {MIN_CONTEXT_TOKENS:,} tokens, not {value:,}")
    return value


def split_blocks(
    blocks: Sequence[Block],
    *,
    max_tokens: int,
    weights: Sequence[int] | None = None,
    max_weight: int | None = None,
    key: Callable[[str], str | None] | None = None,
) -> list[Part]:
    """The document's parts, in order, each within ``max_tokens`` (and ``max_weight``).

    A section that fits is never cut; one that does not is split into its subsections, and a
    section without subsections at block (paragraph, list item, table row) boundaries. Adjacent
    pieces are joined while they fit and ``key`` (of their section headings) agrees; a piece
    whose key is ``None`` (a title page, a preamble) joins its neighbour. A single block larger
    than ``max_tokens`` is a part of its own: blocks are never cut.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    n = len(blocks)
    sizes = [count_tokens(b.text) + 1 for b in blocks]
    weight = list(weights) if weights is not None else [0] * n
    if len(weight) != n:
        raise ValueError("weights must have one number per block")
    levels = [0] * n
    sections = [""] * n
    for index, unit in enumerate(units(blocks)):
        levels[index] = unit.level if unit.kind == "heading" else 0
        sections[index] = unit.section
    tokens_before = [0]
    weight_before = [0]
    for size, w in zip(sizes, weight, strict=True):
        tokens_before.append(tokens_before[-1] + size)
        weight_before.append(weight_before[-1] + w)

    def tokens(a: int, b: int) -> int:
        return tokens_before[b] - tokens_before[a]

    def weighed(a: int, b: int) -> int:
        return weight_before[b] - weight_before[a]

    def fits(a: int, b: int) -> bool:
        return tokens(a, b) <= max_tokens and (max_weight is None or weighed(a, b) <= max_weight)

    def pieces(a: int, b: int) -> list[tuple[int, int]]:
        if fits(a, b) or b - a == 1:
            return [(a, b)]
        inner = [i for i in range(a + 1, b) if levels[i]]
        if inner:
            top = min(levels[i] for i in inner)
            cuts = [a, *(i for i in inner if levels[i] == top), b]
            return [p for x, y in itertools.pairwise(cuts) for p in pieces(x, y)]
        out: list[tuple[int, int]] = []
        start = a
        for i in range(a + 1, b + 1):
            if i == b or not fits(start, i + 1):
                out.append((start, i))
                start = i
        return [p for p in out if p[0] < p[1]]

    def key_of(a: int) -> str | None:
        return key(sections[a]) if key is not None else ""

    parts: list[tuple[int, int, str | None]] = []
    for a, b in pieces(0, n) if n else []:
        k = key_of(a)
        if parts:
            x, y, last = parts[-1]
            same = k == last or k is None or last is None
            if same and y == a and fits(x, b):
                parts[-1] = (x, b, last if last is not None else k)
                continue
        parts.append((a, b, k))
    return [
        Part(start=a, end=b, heading=sections[a], tokens=tokens(a, b), weight=weighed(a, b))
        for a, b, _ in parts
    ]


def part_text(blocks: Sequence[Block], start: int, end: int | None = None) -> str:
    """The normalised text of blocks ``[start, end)`` (as ``read_document`` gives a document)."""
    return render(blocks[start:end])


def findings_in(
    findings: Findings, blocks: Sequence[Block], start: int, end: int | None = None
) -> Findings:
    """The requirements and excluded statements of the whole document's ``findings`` that sit in
    blocks ``[start, end)``: ids as in the whole document, each statement in exactly one part."""
    where = {b.where for b in blocks[start:end]}
    requirements = [c for c in findings.requirements if c.location in where]
    excluded = [x for x in findings.excluded if x.location in where]
    unaccounted = [x for x in findings.unaccounted if x.location in where]
    return Findings(
        title=findings.title,
        issuer=findings.issuer,
        statements_seen=len(requirements) + len(excluded) + len(unaccounted),
        requirements=requirements,
        excluded=excluded,
        unaccounted=unaccounted,
    )


def statement_counts(findings: Findings, blocks: Sequence[Block]) -> list[int]:
    """Requirements and excluded statements per block (a weight for ``split_blocks``)."""
    index = {b.where: i for i, b in enumerate(blocks)}
    counts = [0] * len(blocks)
    locations = [c.location for c in findings.requirements]
    locations += [x.location for x in findings.excluded]
    for location in locations:
        at = index.get(location)
        if at is not None:
            counts[at] += 1
    return counts


_cache: dict[tuple[str, int, int], tuple[list[Block], Findings]] = {}
_lock = threading.Lock()


def document_findings(path: str | Path) -> tuple[list[Block], Findings]:
    """A file's blocks and ``find_requirements`` over the whole of it, read once per version.

    Every part of a document is narrowed from the same whole-document findings, and the parts of
    one run ask for them at the same time: the first asks, the others wait and share.
    """
    file = Path(path).resolve()
    stat = file.stat() if file.is_file() else None
    key = (str(file), stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)
    with _lock:
        cached = _cache.get(key)
        if cached is None:
            blocks = read_blocks(file)
            cached = (blocks, find_requirements(blocks, total=len(blocks)))
            if len(_cache) >= 4:
                _cache.pop(next(iter(_cache)))
            _cache[key] = cached
    return cached


__all__ = [
    "DEFAULT_CONTEXT_TOKENS",
    "ENCODING",
    "MIN_CONTEXT_TOKENS",
    "Part",
    "check_context_tokens",
    "count_tokens",
    "document_findings",
    "findings_in",
    "part_text",
    "split_blocks",
    "statement_counts",
]
