"""check_commitment: the example RFP's traps come out as conflicts or shortfalls, side by side."""

from __future__ import annotations

import re

import pytest
from tools_helpers import EXAMPLE, tools_module

from agentorch.errors import ModelRetry

commitments = tools_module("commitments")
verdicts = tools_module("_verdict")

RFP = (EXAMPLE / "rfp.md").read_text(encoding="utf-8")


def clause(number: str) -> str:
    match = re.search(rf"^{re.escape(number)} (.*)$", RFP, re.M)
    assert match, number
    return match.group(1)


def answer(number: int) -> str:
    path = next((EXAMPLE / "library").glob(f"AA-{number:03d}-*.md"))
    return path.read_text(encoding="utf-8").split("+++", 2)[2].strip()


@pytest.mark.parametrize(
    ("requirement", "answer_id", "verdict", "line"),
    [
        (
            "3.6",
            20,
            "conflicts",
            "notification: required ≤ 24 hours, answer 72 hours → falls short",
        ),
        ("3.6", 20, "conflicts", "indemnity scope: required covers claims whatever their cause"),
        ("3.9", 24, "falls_short", "RTO: required ≤ 4 hours, answer 8 hours"),
        ("5.2", 30, "conflicts", "prices: required firm fixed prices, answer escalation"),
        ("6.3", 33, "conflicts", "liability: required unlimited, answer capped"),
        ("6.4", 35, "falls_short", "cyber liability: required ≥ $10M, answer $5M"),
        ("4.4", 27, "falls_short", "notice: required ≥ 10 business days, answer 7 calendar days"),
        ("4.5", 27, "falls_short", "notice: required ≥ 30 days, answer 14 days"),
        (
            "5.6",
            32,
            "conflicts",
            "billing: required invoiced in arrears, answer invoiced in advance",
        ),
        (
            "5.6",
            32,
            "conflicts",
            "billing: required fees after go-live, answer fees from signature",
        ),
        ("6.2", 34, "conflicts", "indemnity scope"),
        ("6.5", 38, "conflicts", "work product: required customer owns work product"),
        ("7.2", 2, "falls_short", "reference: required ≥ 3 references, answer on request"),
        ("4.1", 25, "falls_short", "availability: required ≥ 100%, answer 99.9%"),
        ("3.2", 17, "conflicts", "certification: required FedRAMP High, answer FedRAMP (denied)"),
        ("4.2", 28, "conflicts", "liquidated damages: required unlimited"),
    ],
)
def test_example_traps_are_flagged_with_both_values(
    requirement: str, answer_id: int, verdict: str, line: str
) -> None:
    result = commitments.check(clause(requirement), answer(answer_id))
    assert result.relevant
    assert result.verdict == verdict
    assert line in result.summary


@pytest.mark.parametrize(
    ("requirement", "answer_id"), [("3.8", 22), ("2.1", 5), ("3.5", 19), ("3.1", 17), ("2.11", 12)]
)
def test_example_answers_that_comply_meet(requirement: str, answer_id: int) -> None:
    result = commitments.check(clause(requirement), answer(answer_id))
    assert result.verdict == "meets", result.summary


def test_an_answer_on_another_subject_is_no_evidence() -> None:
    result = commitments.check(clause("3.9"), answer(35))  # RTO/RPO answered with insurance
    assert not result.relevant
    assert result.verdict == "not_stated"
    assert result.relevance < 0.25
    assert all(c.offered is None and c.verdict == "not_stated" for c in result.checks)
    assert "does not address" in result.summary


def test_worst_check_decides_and_comes_first() -> None:
    result = commitments.check(clause("6.4"), answer(35))
    assert result.checks[0].verdict == "falls_short"
    assert {c.subject: c.verdict for c in result.checks}["professional liability"] == "meets"
    severity = [verdicts.SEVERITY[c.verdict] for c in result.checks]
    assert severity == sorted(severity, reverse=True)


def test_a_requirement_without_values_meets_when_the_answer_is_on_topic() -> None:
    result = commitments.check(clause("2.2"), answer(6))
    assert result.verdict == "meets"
    assert result.checks == []
    assert "no checkable value" in result.summary


def test_empty_answer_states_nothing() -> None:
    result = commitments.check(clause("3.6"), "   ")
    assert (result.verdict, result.relevant, result.relevance) == ("not_stated", False, 0.0)


async def test_the_tool_returns_the_model_and_refuses_bad_input() -> None:
    tool = commitments.check_commitment
    assert tool.risk == "read"
    assert set(tool.schema().parameters["properties"]) == {"requirement", "answer"}
    result = await tool.invoke({"requirement": clause("3.9"), "answer": answer(24)})
    assert isinstance(result, commitments.CommitmentCheck)
    assert result.verdict == "falls_short"
    dumped = result.model_dump()
    assert set(dumped) == {"verdict", "relevant", "relevance", "checks", "summary"}
    assert set(dumped["checks"][0]) >= {"kind", "direction", "required", "offered", "verdict"}
    with pytest.raises(ModelRetry, match="requirement is empty"):
        await tool.invoke({"requirement": " ", "answer": "x"})
    with pytest.raises(ModelRetry, match="at most 20000 characters"):
        await tool.invoke({"requirement": "x" * 20_001, "answer": "y"})


def test_the_tool_is_discovered_with_the_bundled_tools() -> None:
    from agentorch.discovery import builtin_tools

    assert "check_commitment" in {t.name for t in builtin_tools()}
