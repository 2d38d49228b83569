"""The commitment checker's score on the labelled pairs meets the issue's targets (issue 14.3),
and the scorer reads its set strictly and reports what it claims."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import commitments_score as scorer

PAIRS = scorer.load()
OUTCOMES = scorer.run(PAIRS)
RESULT = scorer.report(OUTCOMES)


def test_the_labelled_set_is_large_and_covers_every_kind_and_verdict() -> None:
    assert len(PAIRS) >= 150
    kinds = {p["kind"] for p in PAIRS}
    assert kinds >= {
        "duration",
        "response_time",
        "recovery_time",
        "percentage",
        "money",
        "count",
        "frequency",
        "unlimited",
        "price_basis",
        "ownership",
        "data_location",
        "certification",
        "language",
    }
    assert {p["expected"] for p in PAIRS} == set(scorer.VERDICTS)
    assert sum(1 for p in PAIRS if p["split"] == "heldout") >= 50
    irrelevant = [p for p in PAIRS if "irrelevant" in p.get("note", "")]
    assert len(irrelevant) >= 8 and all(p["expected"] == "not_stated" for p in irrelevant)


def test_every_trap_of_the_example_rfp_is_labelled_positive() -> None:
    from_example = {p["source"]: p["expected"] for p in PAIRS if "source" in p}
    for source in (
        "R-3.6 / AA-020",
        "R-3.9 / AA-024",
        "R-5.2 / AA-030",
        "R-6.3 / AA-033",
        "R-6.4 / AA-035",
        "R-4.4 / AA-027",
        "R-4.5 / AA-027",
        "R-6.5 / AA-038",
        "R-7.2 / AA-002",
    ):
        assert from_example[f"examples/rfp {source}"] in scorer.POSITIVE, source


def test_precision_and_recall_meet_the_targets() -> None:
    overall = RESULT["all"]
    misses = [
        (o.pair["id"], o.expected, o.predicted)
        for o in OUTCOMES
        if (o.expected in scorer.POSITIVE) != (o.predicted in scorer.POSITIVE)
    ]
    assert overall["precision"] >= scorer.TARGET_PRECISION, misses
    assert overall["recall"] >= scorer.TARGET_RECALL, misses


def test_the_example_traps_are_all_caught() -> None:
    for o in OUTCOMES:
        if "examples/rfp" in o.pair.get("source", "") and o.expected in scorer.POSITIVE:
            assert o.predicted in scorer.POSITIVE, (o.pair["id"], o.summary)


def test_score_counts_the_positive_class() -> None:
    def outcome(expected: str, predicted: str) -> scorer.Outcome:
        pair = {"id": "x", "split": "tune", "kind": "k", "expected": expected}
        return scorer.Outcome(pair, predicted, "")

    result = scorer.score(
        [
            outcome("falls_short", "conflicts"),  # a hit: both positive
            outcome("conflicts", "not_stated"),  # a miss
            outcome("meets", "falls_short"),  # a false alarm
            outcome("meets", "meets"),
        ]
    )
    assert (result["true_positives"], result["false_negatives"], result["false_positives"]) == (
        1,
        1,
        1,
    )
    assert result["precision"] == 0.5 and result["recall"] == 0.5 and result["exact"] == 0.25
    assert result["confusion"]["conflicts"]["not_stated"] == 1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "pairs.jsonl:1: not JSON"),
        ('{"id": "a"}', "pairs.jsonl:1: missing answer, expected, kind, requirement, split"),
        (
            '{"id": "a", "split": "tune", "kind": "k", "expected": "ok", "requirement": "r",'
            ' "answer": "a"}',
            "unknown verdict 'ok'",
        ),
    ],
)
def test_a_bad_set_is_a_one_line_error(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(scorer.PairsError, match=message.replace("(", r"\(")):
        scorer.load(path)


def test_the_command_prints_scores_json_and_writes_its_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert scorer.main(["--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"all", "tune", "heldout", "misses"}
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# Benchmarks\n", encoding="utf-8")
    assert scorer.main(["--show-misses", "--write", str(report)]) == 0
    out = capsys.readouterr().out
    assert "| heldout |" in out and "expected \\ predicted" in out
    text = report.read_text(encoding="utf-8")
    assert text.count(scorer.BLOCK_START) == 1
    assert scorer.main(["--write", str(report)]) == 0  # replaced, not appended
    assert report.read_text(encoding="utf-8").count(scorer.BLOCK_START) == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{", encoding="utf-8")
    assert scorer.main(["--pairs", str(bad)]) == 2
    assert "error: bad.jsonl:1: not JSON" in capsys.readouterr().err
