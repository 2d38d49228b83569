"""Review and escalation: settle a finished step, send it back for revision, or put it to a person.

``Reviewing`` is the part of the ``Orchestrator`` that acts once a step and all its reviewers are
done. Like the rest of the orchestration it reaches the world only through the ``Runtime`` seam.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from agentorch.agent import render_value
from agentorch.approvals import ApprovalDecision, ApprovalRequest
from agentorch.errors import ApprovalPending, MaxStepsExceeded
from agentorch.events.types import Escalated, RevisionRequested, StepWaiting
from agentorch.plan import Plan, Step, Verdict

if TYPE_CHECKING:
    from agentorch.orchestrator import Limits
    from agentorch.runtime import Runtime
    from agentorch.store.base import StepRecord


class EscalationPolicy(BaseModel):
    """When a result goes to a person before the run moves on."""

    model_config = ConfigDict(extra="forbid")

    risk_levels: list[str] = Field(default_factory=lambda: ["high"])
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    flags: list[str] = Field(default_factory=lambda: ["pricing_commitment", "legal_exposure"])
    on_reviewer_escalate: bool = True

    def __init__(self, **data: Any) -> None:
        from pydantic import ValidationError

        try:
            super().__init__(**data)
        except ValidationError as exc:
            from agentorch._checks import config_error

            raise config_error("EscalationPolicy", exc) from None


class Reviewing(ABC):
    """Review, revision and escalation for the ``Orchestrator`` (which provides the state)."""

    rt: Runtime
    limits: Limits
    escalation: EscalationPolicy
    records: dict[str, StepRecord]
    total_revisions: int
    #: Whether an escalation waits beside the other steps (``changes.ESCALATION_ALONGSIDE``).
    _alongside: bool
    #: Escalations a person is deciding, by the step they are about (in the order asked).
    _deciding: dict[str, asyncio.Task[ApprovalDecision]]

    @abstractmethod
    def _save(self, record: StepRecord) -> None: ...

    @abstractmethod
    def _fail(self, plan: Plan, step: Step, exc: BaseException) -> None: ...

    @abstractmethod
    def _typed_output(self, step: Step, value: Any) -> Any: ...

    async def _review(self, plan: Plan, target: Step) -> None:
        """Once a step and all its reviewers are done, settle it, revise it, or escalate it."""
        escalation = self._review_now(plan, target)
        if escalation is not None:
            await self._escalate(plan, target, *escalation)

    async def _review_guarded(
        self,
        plan: Plan,
        target: Step,
        escalation: tuple[list[str], list[tuple[Step, Verdict]]] | None = None,
    ) -> None:
        """``_review`` (or only the ``escalation`` ``_review_now`` left); a pending approval
        leaves the step waiting."""
        try:
            if escalation is None:
                await self._review(plan, target)
            else:
                await self._escalate(plan, target, *escalation)
        except ApprovalPending as exc:
            self._left_waiting(target, exc)

    async def _put_to_person(
        self, plan: Plan, target: Step, escalation: tuple[list[str], list[tuple[Step, Verdict]]]
    ) -> None:
        """Escalate ``target``: its decision is awaited in a task of its own, which the run's loop
        takes in beside its steps (``_take_decision``); a run recorded before that change
        (``ESCALATION_ALONGSIDE``) waits for it here, holding up every other step."""
        if not self._alongside:
            await self._review_guarded(plan, target, escalation)
            return
        request = self._escalation_request(target, *escalation)
        self._deciding[target.id] = asyncio.create_task(
            self.rt.request_approval(request), name=f"{target.id}:escalation"
        )

    def _take_decision(
        self, plan: Plan, target: Step, task: asyncio.Task[ApprovalDecision]
    ) -> None:
        """Act on the decided escalation of ``target``; a deferred one leaves the step waiting."""
        try:
            decision = task.result()
        except ApprovalPending as exc:
            self._left_waiting(target, exc)
            return
        self._apply_decision(plan, target, decision)

    def _left_waiting(self, target: Step, exc: ApprovalPending) -> None:
        self.rt.emit(
            StepWaiting(
                step_id=target.id,
                agent=target.agent,
                request_id=exc.request_id,
                reason=str(exc),
            )
        )

    def _review_now(
        self, plan: Plan, target: Step
    ) -> tuple[list[str], list[tuple[Step, Verdict]]] | None:
        """``_review`` up to the escalation: settle or revise ``target`` now (no waiting, so it
        can share the transaction of the write that finished the step); return the reasons and
        verdicts of an escalation still to make, if any."""
        record = self.records[target.id]
        if record.status != "done" or record.settled:
            return None
        reviewers = plan.reviewers_of(target.id)
        if any(self.records[r.id].status not in ("done", "failed", "skipped") for r in reviewers):
            return None
        verdicts: list[tuple[Step, Verdict]] = []
        for reviewer in reviewers:
            out = self._typed_output(reviewer, self.records[reviewer.id].output)
            if self.records[reviewer.id].status == "done" and isinstance(out, Verdict):
                verdicts.append((reviewer, out))
        revise = [(r, v) for r, v in verdicts if v.verdict == "revise"]
        if revise:
            reasons = [
                f"{r.agent}: {reason}"
                for r, v in revise
                for reason in (v.reasons or ["(no reason given)"])
            ]
            self._revise_or_fail(plan, target, reasons, reviewer_step=revise[0][0].id)
            return None
        reasons = self._escalation_reasons(target, verdicts)
        if reasons:
            return reasons, verdicts
        notes = [
            f"{r.agent} reviewed {target.id}: {v.verdict} (confidence {v.confidence:.2f})"
            for r, v in verdicts
        ]
        self._save(
            record.model_copy(
                update={"settled": True, "decisions": _merge(record.decisions, notes)}
            )
        )
        return None

    def _escalation_reasons(self, target: Step, verdicts: list[tuple[Step, Verdict]]) -> list[str]:
        policy = self.escalation
        reasons = []
        if target.risk in policy.risk_levels:
            reasons.append(f"step {target.id!r} is {target.risk} risk")
        empty = is_empty(self.records[target.id].output)
        for reviewer, v in verdicts:
            if v.verdict == "pass" and empty:
                # A pass on nothing proves nothing: a person confirms that nothing was expected.
                reasons.append(
                    f"{reviewer.agent} passed {target.id}, but its result is empty "
                    "(nothing was reviewed): a person must confirm that nothing was expected"
                )
            if v.verdict == "escalate" and policy.on_reviewer_escalate:
                reasons.append(
                    f"{reviewer.agent} escalated: {'; '.join(v.reasons) or 'no reason given'}"
                )
            if v.confidence < policy.min_confidence:
                reasons.append(
                    f"{reviewer.agent}'s confidence {v.confidence:.2f} is below {policy.min_confidence}"
                )
            flagged = sorted(set(v.flags) & set(policy.flags))
            if flagged:
                reasons.append(f"{reviewer.agent} flagged {', '.join(flagged)}")
        return reasons

    async def _escalate(
        self, plan: Plan, target: Step, reasons: list[str], verdicts: list[tuple[Step, Verdict]]
    ) -> None:
        request = self._escalation_request(target, reasons, verdicts)
        decision = await self.rt.request_approval(request)
        self._apply_decision(plan, target, decision)

    def _escalation_request(
        self, target: Step, reasons: list[str], verdicts: list[tuple[Step, Verdict]]
    ) -> ApprovalRequest:
        """The question put to a person about ``target``'s result (announced as ``Escalated``)."""
        record = self.records[target.id]
        request = ApprovalRequest(
            request_id=f"{self.rt.run_id}:{target.id}:r{record.revision}:escalation",
            run_id=self.rt.run_id,
            subject="escalation",
            step_id=target.id,
            agent=target.agent,
            reason="; ".join(reasons),
            details={
                "reasons": reasons,
                "preview": render_value(record.output)[:1200],
                "verdicts": [
                    {
                        "reviewer": r.agent,
                        "verdict": v.verdict,
                        "confidence": v.confidence,
                        "reasons": v.reasons,
                        "flags": v.flags,
                    }
                    for r, v in verdicts
                ],
                "points": [
                    {"reviewer": r.agent, **p.model_dump(mode="json")}
                    for r, v in verdicts
                    for p in v.points
                ],
            },
        )
        self.rt.emit(
            Escalated(
                step_id=target.id,
                agent=target.agent,
                reasons=reasons,
                request_id=request.request_id,
            )
        )
        return request

    def _apply_decision(self, plan: Plan, target: Step, decision: ApprovalDecision) -> None:
        """Settle ``target`` (approved), or send it back for revision or fail it (denied)."""
        record = self.records[target.id]
        who = decision.approver
        if decision.approved:
            note = f"escalation of {target.id} approved by {who}" + (
                f": {decision.comment}" if decision.comment else ""
            )
            self._save(
                record.model_copy(
                    update={"settled": True, "decisions": _merge(record.decisions, [note])}
                )
            )
            return
        note = f"escalation of {target.id} denied by {who}: {decision.comment or 'no reason given'}"
        self._save(record.model_copy(update={"decisions": _merge(record.decisions, [note])}))
        self._revise_or_fail(
            plan,
            target,
            [f"reviewer {who} denied: {decision.comment or 'no reason given'}"],
            reviewer_step=None,
        )

    def _revise_or_fail(
        self, plan: Plan, target: Step, reasons: list[str], *, reviewer_step: str | None
    ) -> None:
        record = self.records[target.id]
        if (
            record.revision >= self.limits.max_revisions
            or self.total_revisions >= self.limits.revision_cap(len(plan.steps))
        ):
            cap = MaxStepsExceeded(
                f"revision cap reached for step {target.id!r} after {record.revision} revision(s); "
                f"still asked to change: {'; '.join(reasons)[:500]}"
            )
            self._fail(plan, target, cap)
            for reviewer in plan.reviewers_of(target.id):
                self._settle_reviewer_terminal(reviewer)
            return
        self.total_revisions += 1
        revision = record.revision + 1
        self.rt.emit(
            RevisionRequested(
                step_id=target.id,
                agent=target.agent,
                reviewer_step=reviewer_step or "person",
                reasons=reasons,
                revision=revision,
            )
        )
        self._save(
            record.model_copy(
                update={
                    "status": "pending",
                    "revision": revision,
                    "feedback": reasons,
                    "settled": False,
                }
            )
        )
        for reviewer in plan.reviewers_of(target.id):
            r = self.records[reviewer.id]
            self._save(r.model_copy(update={"status": "pending", "revision": r.revision + 1}))

    def _settle_reviewer_terminal(self, reviewer: Step) -> None:
        r = self.records[reviewer.id]
        if r.status == "pending":
            self._save(
                r.model_copy(update={"status": "skipped", "error": "the reviewed step failed"})
            )


def is_empty(output: Any) -> bool:
    """Whether a step's (stored) output holds nothing to review.

    ``None``, blank text and empty collections are empty; so is a structured output whose every
    list or mapping field is empty (a draft with no answers, a matrix with no rows), whatever its
    scalar fields (a category, a title) say.
    """
    if isinstance(output, BaseModel):
        output = output.model_dump(mode="json")
    if output is None:
        return True
    if isinstance(output, str):
        return not output.strip()
    if isinstance(output, list | tuple | set):
        return not output
    if isinstance(output, dict):
        collections = [v for v in output.values() if isinstance(v, list | dict)]
        return not output or (bool(collections) and not any(collections))
    return False


def _merge(existing: list[str], new: list[str]) -> list[str]:
    return existing + [n for n in new if n not in existing]
