"""The parse check sees likely misses: sentences with shall/must/required that became neither a
requirement nor an exclusion are counted as seen and listed per section in its report."""

from __future__ import annotations

from agentorch.discovery import builtin_module
from agentorch.documents import find_requirements, text_blocks

coverage = builtin_module("agents", "_coverage")
extract = builtin_module("agents", "_extract")
types = builtin_module("agents", "_types")

DOCUMENT = """# 4 Tasks

The Contractor shall deliver a monthly status report. The Contractor shall attend the kick-off
meeting. The Contractor shall keep minutes. The Contractor shall return all badges. The Contractor
shall train its staff. The Contractor shall log every incident. The Contractor shall escalate
outages within an hour. The Contractor shall archive the records. The Contractor shall close
tickets within a week.

# 5 Reporting

Quarterly program reviews, as required by the program office.

The Government will review each report.
"""


def test_a_sentence_with_an_obligation_word_and_no_row_is_unaccounted_and_seen() -> None:
    found = find_requirements(text_blocks(DOCUMENT))
    assert [u.text for u in found.unaccounted] == [
        "Quarterly program reviews, as required by the program office."
    ]
    assert found.unaccounted[0].section == "5 Reporting"
    assert found.statements_seen == 9 + 1 + 1  # rows, the buyer's statement, the likely miss
    # "will" and "may" state facts too often to count: background is no likely miss
    quiet = find_requirements(text_blocks("The library will open in 2030. It may rain.\n"))
    assert quiet.unaccounted == []


def test_the_parse_check_names_likely_misses_per_section() -> None:
    listing = extract.extract(DOCUMENT, source="pws.md")
    assert [u.section for u in listing.unaccounted] == ["5 Reporting"]
    report = coverage.review_extraction(listing)
    assert report.verdict == "pass" and report.confidence < 0.9
    assert report.reasons[1] == (
        "likely misses: 1 sentence(s) with shall/must/required became no requirement and no "
        'exclusion; check them: 5 Reporting: 1 (e.g. "Quarterly program reviews, as required by '
        'the program office.")'
    )


def test_many_likely_misses_escalate_with_the_numbers() -> None:
    missed = [
        types.ExcludedStatement(
            text=f"Report {i} as required.", section="7 Deliverables", reason=extract.UNACCOUNTED
        )
        for i in range(5)
    ]
    listing = types.RequirementList(
        sources=["sow.pdf"],
        statements_seen=10,
        requirements=[
            types.Requirement(
                id=f"R-{i}", number=str(i), text="The Contractor shall do it.", modality="must",
                category="technical", section="4",
            )
            for i in range(5)
        ],
        unaccounted=missed,
    )  # fmt: skip
    report = coverage.review_extraction(listing)
    assert report.verdict == "escalate"
    assert "5 of 10 (50%)" in report.reasons[0]
    assert report.reasons[1].startswith("likely misses: 5 sentence(s)")
    assert '7 Deliverables: 5 (e.g. "Report 0 as required.")' in report.reasons[1]


def test_a_clean_extraction_has_no_likely_misses() -> None:
    listing = extract.extract("# 4 Tasks\n\nThe Contractor shall deliver a report.\n", "a.md")
    report = coverage.review_extraction(listing)
    assert (report.verdict, report.confidence, len(report.reasons)) == ("pass", 0.9, 1)
