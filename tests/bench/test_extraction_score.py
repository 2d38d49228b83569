"""The extraction scorer: its matching rule on hand-made cases, the corpus's integrity, and the
bundled extractor's score on every corpus document against the targets (issue 13.3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from agentorch.documents import read_text
from bench import extraction
from bench.extraction import CorpusError, Label, Row, id_carries, norm_id, score, tokens

DOCUMENTS = extraction.load_corpus()
TUNED = [d for d in DOCUMENTS if not d.held_out]
HELD_OUT = [d for d in DOCUMENTS if d.held_out]

# Held-out documents: labelled by hand and never tuned on, so their score is the extractor's on
# an input nobody fitted it to. They are scored and reported, not held to the targets; a floor
# set below the untuned score only catches a regression. Do not tune the extractor on them, and
# do not raise a floor to what tuning elsewhere achieves.
HELD_OUT_FLOORS = {
    # FBI WMDD SOW, added untuned: recall 67.1% (51/76), precision 91.1% (51/56); unchanged
    # after the extractor was tuned on cdc-policy-academy-sow; 72.4% / 91.7% after tuning on
    # gsa-acquisition-support-sow (its misses never read)
    "fbi-wmdd-sme-sow": (0.65, 0.85),
    # NGA close-out PWS, added untuned: recall 92.6% (63/68), precision 91.3% (63/69); unchanged
    # after tuning on gsa-acquisition-support-sow
    "nga-contract-closeout-pws": (0.90, 0.85),
    # EPA administrative support PWS, added untuned: recall 73.3% (33/45), precision 84.6% (33/39);
    # 71.1% / 84.2% after tuning on gsa-acquisition-support-sow (its misses never read)
    "epa-acquisition-admin-support-pws": (0.70, 0.78),
    # Air Force 11 CONS PWS (first 8 pages), added untuned on e857998: recall 59.8% (58/97),
    # precision 90.6% (58/64)
    "usaf-11cons-acquisition-support-pws": (0.55, 0.85),
}


def _label(text: str, id: str | None = None, modality: str = "must", lead_in: str = "") -> Label:
    return Label(id=id, section="", text=text, modality=modality, lead_in=lead_in)


# --- the matching rule ---------------------------------------------------------------------------


def test_tokens_fold_case_punctuation_and_leading_markers() -> None:
    assert tokens("a) The Contractor\u2019s report \u2014 monthly.") == [
        "the",
        "contractor",
        "s",
        "report",
        "monthly",
    ]
    assert tokens("C.3.2 (iv) R-3.5.a Submit it") == ["submit", "it"]
    assert tokens("- 3.1. Repair equipment") == ["repair", "equipment"]


@pytest.mark.parametrize(
    ("row", "label", "carries"),
    [
        ("R-3.5", "3.5", True),
        ("R-3.5.a", "3.5", True),
        ("R-3.5-2", "3.5", True),
        ("R-3.5(a)", "3.5", True),
        ("3.5a", "3.5", True),
        ("R-4.0(2)", "4.0.2", True),
        ("R-3.50", "3.5", False),
        ("R-3.4", "3.5", False),
        ("C.3.2.A", "c.3.2", True),
        ("", "3.5", False),
    ],
)
def test_id_carries_the_labels_number(row: str, label: str, carries: bool) -> None:
    assert id_carries(row, label) is carries


def test_norm_id() -> None:
    assert norm_id("R-4.0(2)") == "4.0.2"
    assert norm_id(" R-3.5.A. ") == "3.5.a"


def test_a_row_matches_when_it_covers_80_percent_of_the_label() -> None:
    label = _label("The Contractor shall submit a monthly status report to the COR.")  # 11 tokens
    assert (
        score(
            "d",
            [label],
            [Row("R-1", "Contractor shall submit a monthly status report to the COR", "must")],
        ).matched
        == 1
    )
    # 8 of 11 tokens (73%): not found
    assert (
        score("d", [label], [Row("R-1", "shall submit a monthly status report", "must")]).matched
        == 0
    )


def test_a_row_merging_several_obligations_does_not_find_them() -> None:
    label = _label("Submit a monthly status report.")  # 5 tokens: rows up to 22 tokens match
    merged = "Submit a monthly status report. " + " ".join(f"word{i}" for i in range(18))
    assert score("d", [label], [Row("R-1", merged, "must")]).matched == 0
    fits = "Submit a monthly status report. " + " ".join(f"word{i}" for i in range(17))
    assert score("d", [label], [Row("R-1", fits, "must")]).matched == 1


def test_a_list_item_row_may_carry_its_lead_in() -> None:
    lead = "The Contractor shall provide the following deliverables to the Contracting Officer:"
    label = _label("a code repository", lead_in=lead)
    row = Row("R-2.a", f"{lead} a code repository", "must")  # 15 tokens > 2*3+12 without the lead
    assert score("d", [label], [row]).matched == 1


def test_assignment_is_one_to_one_and_counts_duplicates_and_strays() -> None:
    labels = [_label("Deliver the final report.", "5.1"), _label("Return all badges.", "5.2")]
    rows = [
        Row("R-5.1", "Deliver the final report.", "must"),
        Row("R-5.1-2", "The Contractor shall deliver the final report.", "must"),
        Row("R-9", "The Government will provide office space.", "must"),
    ]
    s = score("d", labels, rows)
    assert (s.matched, s.matching_rows, s.duplicates) == (1, 2, 1)
    assert s.recall == 0.5 and s.precision == pytest.approx(2 / 3)
    assert [m["id"] for m in s.missed] == ["5.2"]
    assert [r["id"] for r in s.unmatched_rows] == ["R-9"]


def test_the_closest_row_wins_a_label_and_identical_labels_need_two_rows() -> None:
    labels = [_label("description of the cause of the malfunction")] * 2
    rows = [Row("R-4.1-6", "description of the cause of the malfunction", "must")]
    s = score("d", labels, rows)
    assert (s.matched, s.duplicates, s.precision) == (1, 0, 1.0)
    s = score("d", labels, rows * 2)
    assert s.matched == 2 and s.recall == 1.0


def test_wrong_ids_and_modality_errors_are_counted_on_matched_pairs() -> None:
    labels = [_label("Submit the plan.", "3.1"), _label("Use plain language.", None, "should")]
    rows = [Row("R-3.2", "Submit the plan.", "must"), Row("R-7", "Use plain language.", "must")]
    s = score("d", labels, rows)
    assert (s.wrong_ids, s.modality_errors) == (1, 1)
    assert s.wrong_id_pairs[0]["row"] == "R-3.2"


def test_an_empty_extraction_scores_zero_and_fails() -> None:
    s = score("d", [_label("Submit the plan.")], [])
    assert (s.recall, s.precision, s.passed) == (0.0, 0.0, False)


def test_a_malformed_labels_file_is_one_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "doc"
    folder.mkdir()
    (folder / "document.md").write_text("The Contractor shall comply.\n", encoding="utf-8")
    (folder / "labels.json").write_text(
        json.dumps(
            {"document": "document.md", "requirements": [{"text": "x y", "modality": "shall"}]}
        ),
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match="modality 'shall'"):
        extraction.load_corpus(tmp_path)
    with pytest.raises(CorpusError, match="no such corpus document: nope"):
        extraction.load_corpus(tmp_path, ["nope"])
    assert extraction.main(["--corpus", str(tmp_path)]) == 2


def test_the_report_section_is_replaced_in_place(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# Benchmarks\n\ntext\n", encoding="utf-8")
    s = score("doc", [_label("Submit the plan.")], [Row("R-1", "Submit the plan.", "must")])
    extraction.write_block(report, extraction.markdown_block([s]))
    extraction.write_block(report, extraction.markdown_block([s]))
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\ntext\n") and text.count(extraction.BLOCK_START) == 1
    assert "| doc | 1 | 1 | 100.0% | 100.0% | 0 | 0 | 0 | PASS |" in text


# --- the corpus ----------------------------------------------------------------------------------


def test_the_corpus_has_six_documents_in_every_format() -> None:
    assert len(DOCUMENTS) >= 6
    assert {d.path.suffix for d in DOCUMENTS} >= {".md", ".txt", ".docx", ".pdf"}
    for doc in DOCUMENTS:
        assert (doc.path.parent / "SOURCE.md").is_file(), doc.slug


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: d.slug)
def test_every_label_is_verbatim_text_of_its_document(doc: extraction.Document) -> None:
    missing = extraction.unfound_labels(doc, read_text(doc.path))
    assert not missing, [m.text for m in missing]


def test_a_deliverables_label_is_verbatim_cell_by_cell(tmp_path: Path) -> None:
    """Rule 3 joins a deliverable's name and frequency cells; a format cell may stand between."""
    folder = tmp_path / "doc"
    folder.mkdir()
    (folder / "document.md").write_text(
        "| Description | Format | Frequency |\n|---|---|---|\n"
        "| Bi-Weekly Status Report | Electronic | As required |\n",
        encoding="utf-8",
    )
    texts = ["Bi-Weekly Status Report - As required", "Electronic - As required"]
    labels = [{"text": t, "modality": "must"} for t in texts]
    (folder / "labels.json").write_text(
        json.dumps({"document": "document.md", "requirements": labels}), encoding="utf-8"
    )
    (doc,) = extraction.load_corpus(tmp_path)
    missing = extraction.unfound_labels(doc, read_text(doc.path))
    assert [m.text for m in missing] == []
    labels[1]["text"] = "Monthly Report - As required"
    (folder / "labels.json").write_text(
        json.dumps({"document": "document.md", "requirements": labels}), encoding="utf-8"
    )
    (doc,) = extraction.load_corpus(tmp_path)
    missing = extraction.unfound_labels(doc, read_text(doc.path))
    assert [m.text for m in missing] == ["Monthly Report - As required"]


# --- the extractor against the targets -----------------------------------------------------------


@pytest.mark.parametrize("doc", TUNED, ids=lambda d: d.slug)
def test_extraction_meets_the_targets(doc: extraction.Document) -> None:
    (s,) = extraction.evaluate([doc], extraction.bundled_extractor())
    assert s.recall >= extraction.RECALL_TARGET, f"recall {s.recall:.1%}: {len(s.missed)} missed"
    assert s.precision >= extraction.PRECISION_TARGET, f"precision {s.precision:.1%}"


def test_the_held_out_documents_are_the_listed_ones() -> None:
    assert HELD_OUT, "the corpus must keep a held-out document"
    assert {d.slug for d in HELD_OUT} == set(HELD_OUT_FLOORS)


@pytest.mark.parametrize("doc", HELD_OUT, ids=lambda d: d.slug)
def test_held_out_document_is_scored_and_stays_above_its_floor(
    doc: extraction.Document, record_property: Callable[[str, object], None]
) -> None:
    """Held out (never tuned on): reported with its score; the floor only catches a regression."""
    (s,) = extraction.evaluate([doc], extraction.bundled_extractor())
    record_property("recall", round(s.recall, 3))
    record_property("precision", round(s.precision, 3))
    recall_floor, precision_floor = HELD_OUT_FLOORS[doc.slug]
    figures = f"held out {doc.slug}: recall {s.recall:.1%}, precision {s.precision:.1%}"
    assert s.recall >= recall_floor, figures
    assert s.precision >= precision_floor, figures


def test_the_command_prints_json_and_fails_on_a_missed_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "document.md").write_text(
        "# 3. Reporting\n\n3.1 The Contractor shall deliver a monthly status report.\n",
        encoding="utf-8",
    )
    labels = [
        {
            "id": "3.1",
            "text": "The Contractor shall deliver a monthly status report.",
            "modality": "must",
        },
        {
            "id": "3.2",
            "text": "The Contractor shall return every badge on exit.",
            "modality": "must",
        },
    ]
    (folder / "labels.json").write_text(
        json.dumps({"document": "document.md", "requirements": labels}), encoding="utf-8"
    )
    assert extraction.main(["--corpus", str(tmp_path), "--json", "--show-misses"]) == 1
    (doc,) = json.loads(capsys.readouterr().out)["documents"]
    assert (doc["document"], doc["labels"], doc["matched"], doc["passed"]) == ("tiny", 2, 1, False)
    assert [m["id"] for m in doc["missed"]] == ["3.2"]


def test_a_held_out_document_is_reported_but_does_not_decide_the_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    (folder / "document.md").write_text(
        "# 3. Reporting\n\n3.1 The Contractor shall deliver a monthly status report.\n",
        encoding="utf-8",
    )
    labels = [
        {"id": "3.1", "text": "The Contractor shall deliver a monthly status report.", "modality": "must"},
        {"id": "3.2", "text": "The Contractor shall return every badge on exit.", "modality": "must"},
    ]  # fmt: skip
    data = {"document": "document.md", "held_out": True, "requirements": labels}
    (folder / "labels.json").write_text(json.dumps(data), encoding="utf-8")
    assert extraction.main(["--corpus", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "| fresh | 2 | 1 | 50.0% | 100.0% | 0 | 0 | 0 | FAIL (held out) |" in out
    assert "held out (never tuned on, reported only): fresh recall 50.0%" in err
    assert extraction.main(["--corpus", str(tmp_path), "--json"]) == 0
    (doc,) = json.loads(capsys.readouterr().out)["documents"]
    assert (doc["held_out"], doc["passed"]) == (True, False)
    data["held_out"] = "yes"
    (folder / "labels.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CorpusError, match="'held_out' must be true or false"):
        extraction.load_corpus(tmp_path)
