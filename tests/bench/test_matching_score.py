"""The writer finds the library answer labelled requirements need, and nothing where none fits."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import matching_score as scorer

ROWS = scorer.load()
CHOICES = scorer.run(ROWS)
RESULT = scorer.report(CHOICES)


def test_the_labelled_set_has_a_heldout_part_and_rows_nothing_answers() -> None:
    assert len(ROWS) >= 40 and sum(1 for r in ROWS if r["split"] == "heldout") >= 30
    assert sum(1 for r in ROWS if not r["expected"]) >= 10


def test_the_short_rfp_answers_are_found_and_nothing_is_chosen_where_nothing_fits() -> None:
    chosen = {c.row["title"]: c.chosen for c in CHOICES}
    assert chosen["Encryption"] == "AA-018" and chosen["Audit logging"] == "AA-023"
    assert RESULT["all"]["precision"] >= 0.95, scorer.misses(CHOICES)
    assert RESULT["all"]["none_right"] == RESULT["all"]["unanswerable"]
    assert RESULT["heldout"]["recall"] >= 0.8, scorer.table(RESULT)


def test_a_malformed_set_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "rows.jsonl"
    bad.write_text('{"id": "x", "split": "tune", "title": "t", "text": "r", "expected": "AA-1"}\n')
    with pytest.raises(scorer.PairsError, match=r"rows\.jsonl:1: expected must be a list"):
        scorer.load(bad)
    assert scorer.main(["--rows", str(bad)]) == 2


def test_the_report_section_is_written_between_its_markers(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# Benchmarks\n\n<!-- matching:start -->\nold\n<!-- matching:end -->\n")
    block = scorer.markdown_block(RESULT)
    assert block.startswith(scorer.BLOCK_START) and scorer.BLOCK_END in block
    assert "| heldout |" in block and f"{RESULT['heldout']['recall']:.1%}" in block
    assert scorer.main(["--write", str(report)]) == 0
    text = report.read_text()
    assert "old" not in text and text.count(scorer.BLOCK_START) == 1
