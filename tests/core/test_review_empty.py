"""A reviewer's pass on an empty result never stands: the runtime puts it to a person."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from agentorch import (
    Agent,
    Budget,
    CallbackApprover,
    FunctionModel,
    Plan,
    Step,
    Supervisor,
    Verdict,
)
from agentorch.approvals import ApprovalRequest
from agentorch.models.testing import json_response
from agentorch.review import is_empty


class Draft(BaseModel):
    category: str
    answers: list[str]


class Writer(Agent):
    name = "writer"
    description = "Writes answers."
    output_type = Draft


class Critic(Agent):
    name = "critic"
    description = "Reviews drafts."
    output_type = Verdict


def run_with(answers: list[str]) -> tuple[Supervisor, list[ApprovalRequest]]:
    requests: list[ApprovalRequest] = []

    def decide(request: ApprovalRequest) -> bool:
        requests.append(request)
        return True

    plan = Plan(
        steps=[
            Step(id="write", agent="writer", instruction="Write"),
            Step(id="review", agent="critic", instruction="Review", reviews="write"),
        ],
        final_step="write",
    )
    draft = Draft(category="legal", answers=answers)
    sup = Supervisor(
        [
            Writer(model=FunctionModel(lambda r: json_response(draft))),
            Critic(model=FunctionModel(lambda r: json_response(Verdict(verdict="pass")))),
        ],
        budget=Budget(usd=1.0, allow_unpriced=True),
        tools=[],
        plan=plan,
        approver=CallbackApprover(decide),
    )
    return sup, requests


async def test_a_pass_on_an_empty_draft_is_escalated() -> None:
    sup, requests = run_with([])
    result = await sup.run("Task")
    assert result.status == "succeeded", result.error
    [request] = requests
    assert request.subject == "escalation" and request.step_id == "write"
    assert "critic passed write, but its result is empty" in request.reason


async def test_a_pass_on_a_real_draft_stands() -> None:
    sup, requests = run_with(["We comply."])
    result = await sup.run("Task")
    assert result.status == "succeeded" and requests == []


@pytest.mark.parametrize(
    ("output", "empty"),
    [
        (None, True),
        ("  ", True),
        ([], True),
        ({"category": "legal", "answers": []}, True),
        ({"category": "legal", "answers": ["x"]}, False),
        ({"title": "T", "sources": ["rfp.md"], "requirements": []}, False),
        ({"verdict": "pass"}, False),
        ("text", False),
    ],
)
def test_is_empty(output: Any, empty: bool) -> None:
    assert is_empty(output) is empty
