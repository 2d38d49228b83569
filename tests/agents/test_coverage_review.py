"""check_parse: the parser's numbers are reviewed; an empty or thin result is never passed."""

from __future__ import annotations

import pytest

from agentorch.discovery import builtin_module
from agentorch.errors import InputFileError

coverage = builtin_module("agents", "_coverage")
types = builtin_module("agents", "_types")


def listing(rows: int, seen: int, excluded: int = 0) -> object:
    return types.RequirementList(
        sources=["pws.md"],
        statements_seen=seen,
        requirements=[
            types.Requirement(
                id=f"R-{i}", number=str(i), text="The Contractor shall do it.", modality="must",
                category="technical", section="4",
            )
            for i in range(rows)
        ],
        excluded=[
            types.ExcludedStatement(text="The Government will inspect.", reason="buyer obligation")
            for _ in range(excluded)
        ],
    )  # fmt: skip


def test_nothing_requirement_like_is_not_a_solicitation() -> None:
    with pytest.raises(
        InputFileError, match=r"no requirements found in pws\.md: is this a solicitation\?"
    ):
        coverage.review_extraction(listing(0, 0))


def test_statements_seen_but_no_rows_ends_with_the_numbers() -> None:
    with pytest.raises(InputFileError, match="the parser saw 40 requirement-like statement"):
        coverage.review_extraction(listing(0, 40))


def test_rows_that_cover_clearly_fewer_statements_are_escalated_with_the_numbers() -> None:
    report = coverage.review_extraction(listing(50, 100, excluded=10))
    assert report.verdict == "escalate" and report.confidence < 0.5
    assert "60 of 100 (60%)" in report.reasons[0]


def test_rows_and_exclusions_that_account_for_what_was_seen_pass() -> None:
    report = coverage.review_extraction(listing(92, 100, excluded=6))
    assert report.verdict == "pass" and "92 requirement(s) extracted" in report.reasons[0]


def test_documentation_full_of_must_is_not_a_solicitation() -> None:
    docs = types.RequirementList(
        sources=["README.md"],
        statements_seen=4,
        requirements=[
            types.Requirement(
                id=f"R-{i}", number=str(i), text=text, modality="must", category="other",
                section="Usage",
            )
            for i, text in enumerate([
                "A critical subscriber runs inline and must be a plain function.",
                "The agent's own tools list and the policy must both allow a tool.",
                "Use it only for what must not be lost.",
                "The Contractor shall deliver the report.",
            ])
        ],
    )  # fmt: skip
    with pytest.raises(
        InputFileError, match=r"README\.md: is this a solicitation\? .* only 1 name"
    ):
        coverage.review_extraction(docs)
