"""A missing mandatory answer stops the section unless it is a proposal instruction.

"Other" is the category of proposal instructions and forms, and also where a clause lands when
nothing names its category. On a real PWS (the Air Force 11th Contracting Squadron's, in
bench/corpus) whole sections of the contractor's duties landed there, and the compliance reviewer
passed them with every mandatory requirement missing.
"""

from __future__ import annotations

from typing import Any

import pytest

from agentorch.discovery import builtin_module


def matrix() -> Any:
    return builtin_module("agents", "_matrix")


def types() -> Any:
    return builtin_module("agents", "_types")


def report(category: str, *texts: str) -> Any:
    reqs = [
        {"id": f"R-{i}", "modality": "must", "text": text, "title": None}
        for i, text in enumerate(texts, 1)
    ]
    answers = {
        r["id"]: types().DraftAnswer(
            requirement_id=r["id"], text="Nothing approved.", status="no_source"
        )
        for r in reqs
    }
    return matrix().build_report(category, reqs, answers, set(), {}, {})


@pytest.mark.parametrize(
    "text",
    [
        "No more than 6 critical errors shall occur on all PWS tasks during the period.",
        "The contractor will work in a Government facility.",
        "The Contractor shall submit a monthly status report to the COR.",
    ],
)
def test_a_contractor_duty_left_unanswered_in_other_is_escalated(text: str) -> None:
    result = report("other", text)
    assert result.verdict == "escalate"
    assert "R-1 " in result.reasons[1] and "missing" in result.reasons[1]
    assert [p.item.split()[0] for p in result.points] == ["R-1"]


@pytest.mark.parametrize(
    "text",
    [
        "Proposals shall remain valid and irrevocable for 180 days after the due date.",
        "Offerors shall submit their questions in writing to the Contracting Officer.",
        "The quotation must include a completed price form.",
    ],
)
def test_a_proposal_instruction_left_unanswered_is_an_open_issue(text: str) -> None:
    result = report("other", text)
    assert result.verdict == "pass" and result.confidence < 0.95
    assert result.open_issues and "missing" in result.open_issues[0]
    assert [row.status for row in result.matrix] == ["missing"]


def test_outside_other_every_unanswered_must_is_escalated() -> None:
    result = report("technical", "Proposals shall describe the system's architecture.")
    assert result.verdict == "escalate"


def test_is_paperwork_reads_the_title_too() -> None:
    is_paperwork = matrix().is_paperwork
    assert is_paperwork("other", {"title": "Proposal validity", "text": "Valid for 180 days."})
    assert not is_paperwork("other", {"title": "Duty Hours", "text": "Work 7:30 to 4:30."})
    assert not is_paperwork("security", {"title": "Proposal", "text": "Offerors shall ..."})
