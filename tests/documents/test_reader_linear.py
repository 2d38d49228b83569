"""The reader's block assembly does work proportional to its input, not to block length squared."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agentorch.documents import _blocks
from agentorch.documents._blocks import RawLine, assemble, render


class _CountingPattern:
    """Wraps a compiled pattern and counts the characters it is asked to scan."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.scanned = 0

    def search(self, text: str) -> re.Match[str] | None:
        self.scanned += len(text)
        return self.pattern.search(text)


@pytest.mark.parametrize("count", [500, 4000])
def test_one_long_wrapped_block_is_scanned_once(
    monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    line = "the contractor will provide services for the program office as described and"
    counter = _CountingPattern(_blocks._HYPHENATED)
    monkeypatch.setattr(_blocks, "_HYPHENATED", counter)
    blocks = assemble(RawLine(line, new_block=index == 0) for index in range(count))
    assert len(blocks) == 1  # every line was joined to the first
    # each line's text is looked at a bounded number of times, however long the block grows
    assert counter.scanned <= 2 * count * len(line)


def test_hyphenated_word_broken_across_lines_is_rejoined() -> None:
    lines = [RawLine("a well-", new_block=True), RawLine("known vendor"), RawLine("and more")]
    assert render(assemble(lines)) == "a well-known vendor and more\n"


def test_shredding_does_the_same_work_per_copy_of_a_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pathlib import Path

    from agentorch.documents import requirements, text_blocks
    from agentorch.documents._statements import Statement

    text = (Path(__file__).resolve().parents[2] / "examples" / "rfp" / "rfp.md").read_text()
    calls = 0
    classify = requirements.classify

    def counting(sentence: str, *context: Any) -> Statement:
        nonlocal calls
        calls += 1
        return classify(sentence, *context)

    monkeypatch.setattr(requirements, "classify", counting)
    counts = []
    for copies in (1, 8):
        calls = 0
        found = requirements.find_requirements(text_blocks("\n\n".join([text] * copies)))
        assert len(found.requirements) == 50 * copies
        counts.append(calls)
    # every sentence is classified a bounded number of times, however long the document
    assert counts[1] <= 8 * counts[0]
