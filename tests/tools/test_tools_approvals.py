"""The built-in approvers in ``agentorch.approvals``."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from agentorch.approvals import (
    ApprovalDecision,
    ApprovalRequest,
    ApproveAll,
    Approver,
    AutoApprover,
    CallbackApprover,
    DeferredApprover,
    approve,
    decided_automatically,
    deny,
)


def request(risk: str | None = "read", subject: str = "tool", **changes: Any) -> ApprovalRequest:
    fields: dict[str, Any] = {
        "request_id": "r1", "run_id": "run", "subject": subject, "agent": "a", "tool": "t",
        "risk": risk, "arguments": {"x": 1},
    }  # fmt: skip
    fields.update(changes)
    return ApprovalRequest(**fields)


@pytest.mark.parametrize(
    ("decision", "approved"),
    [("approved", True), ("edited", True), ("run_again", True), ("mark_done", True),
     ("denied", False), ("skipped", False)],
)  # fmt: skip
def test_decision_approved_property(decision: str, approved: bool) -> None:
    assert ApprovalDecision(decision=decision).approved is approved  # type: ignore[arg-type]


def test_helpers_and_models_are_strict() -> None:
    assert approve("me", "ok") == ApprovalDecision(decision="approved", approver="me", comment="ok")
    assert deny("too risky") == ApprovalDecision(
        decision="denied", approver="auto", comment="too risky"
    )
    with pytest.raises(ValidationError):
        ApprovalDecision(decision="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ApprovalRequest(request_id="r", run_id="x", colour="red")  # type: ignore[call-arg]
    frozen = request()
    with pytest.raises(ValidationError):
        frozen.risk = "write"  # type: ignore[misc]


async def test_callback_approver_accepts_decisions_bools_and_none() -> None:
    seen: list[ApprovalRequest] = []

    def sync(req: ApprovalRequest) -> Any:
        seen.append(req)
        return {"yes": True, "no": False, "later": None}[req.tool or ""]

    approver = CallbackApprover(sync, name="ops")
    yes = await approver.decide(request(tool="yes"))
    no = await approver.decide(request(tool="no"))
    assert yes == approve("ops")
    assert no is not None and no.decision == "denied" and no.approver == "ops"
    assert await approver.decide(request(tool="later")) is None
    assert [r.tool for r in seen] == ["yes", "no", "later"]

    async def edits(req: ApprovalRequest) -> ApprovalDecision:
        return ApprovalDecision(decision="edited", arguments={"x": 2}, approver="bot")

    edited = await CallbackApprover(edits).decide(request())
    assert edited is not None and edited.arguments == {"x": 2}


async def test_callback_approver_rejects_other_return_types() -> None:
    with pytest.raises(TypeError, match="returned str; expected ApprovalDecision, bool or None"):
        await CallbackApprover(lambda req: "yes").decide(request())


async def test_auto_approver_up_to_a_risk_level() -> None:
    auto = AutoApprover("write")
    for risk in ("read", "write"):
        decision = await auto.decide(request(risk))
        assert decision is not None and decision.approved and decision.approver == "policy:auto"
    for risk in ("external", "destructive", None):
        decision = await auto.decide(request(risk))
        assert decision is not None and decision.decision == "denied"
    escalation = await auto.decide(request("read", subject="escalation"))
    assert escalation is not None and not escalation.approved  # only tool calls are auto-approved


async def test_auto_approver_hands_the_rest_to_its_fallback() -> None:
    auto = AutoApprover("read", fallback=DeferredApprover())
    assert (await auto.decide(request("read"))) is not None
    assert await auto.decide(request("external")) is None
    plan = await AutoApprover(fallback=ApproveAll("boss")).decide(request(None, subject="plan"))
    assert plan == approve("boss", "automatic: approve-all").model_copy(update={"automatic": True})


def test_auto_approver_rejects_unknown_levels() -> None:
    with pytest.raises(ValueError, match="up_to must be one of"):
        AutoApprover("dangerous")


async def test_deferred_and_approve_all() -> None:
    assert await DeferredApprover().decide(request("destructive")) is None
    decision = await ApproveAll().decide(request("destructive"))
    # a rule's decision, not a person's: tools that need a person's word do not take it as one
    assert decision == approve("approve-all", "automatic: approve-all").model_copy(
        update={"automatic": True}
    )
    # read back from the store, its comment still says a rule made it
    assert decided_automatically(decision.comment) and decided_automatically(
        "auto-approved by policy"
    )
    assert not decided_automatically("looks fine to me")
    assert all(
        isinstance(a, Approver)
        for a in (DeferredApprover(), ApproveAll(), AutoApprover(), CallbackApprover(bool))
    )
