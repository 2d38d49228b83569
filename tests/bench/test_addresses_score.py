"""The compliance matrix calls generic and off-topic answers "not covered" on the labelled pairs,
and keeps answers that address the ask covered; the scorer reads its set strictly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import addresses_score as scorer

PAIRS = scorer.load()
RESULT = scorer.report(scorer.run(PAIRS))


def test_the_labelled_set_has_every_kind_a_heldout_part_and_no_heldout_document() -> None:
    assert len(PAIRS) >= 70
    assert {p["kind"] for p in PAIRS} == set(scorer.KINDS)
    assert sum(1 for p in PAIRS if p["split"] == "heldout") >= 25
    for document in {p["document"] for p in PAIRS} - {"examples/rfp"}:
        labels = json.loads(
            (scorer.ROOT / "bench" / "corpus" / document / "labels.json").read_text()
        )
        assert not labels.get("held_out"), document


def test_the_targets_are_met_and_the_check_improves_on_values_only() -> None:
    after, before = RESULT["all"]["after"], RESULT["all"]["before"]
    assert after["recall"] >= scorer.TARGET_RECALL, after
    assert after["precision"] >= scorer.TARGET_PRECISION, after
    assert after["recall"] > before["recall"] and after["precision"] > before["precision"]


def test_a_malformed_set_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "pairs.jsonl"
    bad.write_text('{"id": "x", "split": "tune", "kind": "generic", "expected": "covered", '
                   '"document": "d", "requirement": "r", "answer": "a"}\n')  # fmt: skip
    with pytest.raises(scorer.PairsError, match=r"pairs\.jsonl:1: a generic answer cannot be that"):
        scorer.load(bad)


def test_the_markdown_block_carries_its_markers_and_both_columns() -> None:
    block = scorer.markdown_block(RESULT)
    assert block.startswith(scorer.BLOCK_START) and scorer.BLOCK_END in block
    pairs = len(PAIRS)
    assert f"| all | {pairs} | before |" in block and f"| all | {pairs} | after |" in block
