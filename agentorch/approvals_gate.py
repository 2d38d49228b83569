"""Approvals in the embedded runtime: a decision comes from the store (made earlier, or
elsewhere while the run was asking) or from the run's approver, and is acted on only when the
run's audit log vouches for it.

The first decision wins: a decision recorded by ``agentorch approve`` while the approver is still
asking withdraws the prompt, and the run continues with it.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Callable

from agentorch._slots import PersonWait
from agentorch.approvals import (
    ApprovalDecision,
    ApprovalRequest,
    Approver,
    decided_automatically,
)
from agentorch.errors import ApprovalPending, AuditError, ConfigError, StoreError, UserError
from agentorch.events.types import ApprovalDecided, ApprovalRequested, BaseEvent
from agentorch.store.base import ApprovalRecord, Store

#: How often a pending prompt looks for a decision made elsewhere (``agentorch approve``).
DECISION_POLL_SECONDS = 0.5


def approval_record(request: ApprovalRequest, run_id: str, created_at: float) -> ApprovalRecord:
    """The pending approval a request leaves in the store (any engine)."""
    return ApprovalRecord(
        request_id=request.request_id,
        run_id=run_id,
        step_id=request.step_id,
        agent=request.agent,
        subject=request.subject,
        tool=request.tool,
        arguments=request.arguments,
        risk=request.risk,
        reason=request.reason,
        created_at=created_at,
    )


def approval_requested(request: ApprovalRequest) -> ApprovalRequested:
    """The event that reports a request to the run's subscribers (any engine)."""
    return ApprovalRequested(
        agent=request.agent,
        step_id=request.step_id,
        request_id=request.request_id,
        subject=request.subject,
        tool=request.tool,
        arguments=request.arguments,
        risk=request.risk,
        reason=request.reason,
    )


def approval_decided(
    request: ApprovalRequest, decision: ApprovalDecision, decided_at: float
) -> ApprovalDecided:
    """The event that records a decision made by the run (its approver, or approve-all)."""
    return ApprovalDecided(
        agent=request.agent,
        step_id=request.step_id,
        request_id=request.request_id,
        decision=decision.decision,
        approver=decision.approver,
        arguments=decision.arguments if decision.arguments is not None else request.arguments,
        comment=decision.comment,
        decided_at=decided_at,
    )


class ApprovalGate:
    """The approval half of ``EmbeddedRuntime`` (which provides the attributes below)."""

    run_id: str
    store: Store | None
    approver: Approver | None
    clock: Callable[[], float]
    _approval_lock: asyncio.Lock
    #: Decided approvals the audit log vouched for (checked before a decision is acted on).
    _trusted: dict[str, ApprovalRecord]

    @abstractmethod
    def emit(self, event: BaseEvent) -> None:
        """Publish an event (the runtime's own ``emit``)."""

    async def request_approval(
        self, request: ApprovalRequest, *, approver: Approver | None = None
    ) -> ApprovalDecision:
        """A decision from the store, or else from ``approver`` (default: the run's approver).

        While a person is asked (or another step's question is before this one), the step holds
        no concurrency slot: the steps that need nobody go on.
        """
        async with PersonWait() as wait:
            if self._approval_lock.locked():
                wait.park()
            async with self._approval_lock:
                return await self._request_approval(request, approver or self.approver, wait)

    async def _request_approval(
        self, request: ApprovalRequest, approver: Approver | None, wait: PersonWait
    ) -> ApprovalDecision:
        existing: ApprovalRecord | None = None
        if self.store is not None:
            try:
                existing = self.store.get_approval(request.request_id)
            except (UserError, StoreError, KeyError):
                existing = None
        if existing is not None and existing.status != "pending":
            return self._recorded_decision(existing)
        if approver is None:
            raise ConfigError(
                f"{request.subject} approval needed ({request.reason}) but the supervisor has no approver",
                hint="pass approver=... (TerminalApprover, CallbackApprover, DeferredApprover)",
            )
        if existing is None:
            if self.store is not None:
                self.store.create_approval(approval_record(request, self.run_id, self.clock()))
            self.emit(approval_requested(request))
        decision, elsewhere = await self._ask(request, approver, wait)
        if elsewhere is not None:
            return self._recorded_decision(elsewhere, announce=request)
        if decision is None:
            if self.store is None:
                raise ConfigError(
                    "a deferred approval needs a store to wait in",
                    hint="pass store='sqlite:///runs.db' to the supervisor",
                )
            raise ApprovalPending(
                f"waiting for a decision on {request.subject} {request.tool or request.step_id or ''}".strip(),
                request_id=request.request_id,
            )
        try:
            self.record_decision(request, decision)
        except UserError:
            first = self._decided_elsewhere(request.request_id)
            if first is None:
                raise
            return self._recorded_decision(first, announce=request)  # the first decision wins
        return decision

    async def _ask(
        self, request: ApprovalRequest, approver: Approver, wait: PersonWait
    ) -> tuple[ApprovalDecision | None, ApprovalRecord | None]:
        """The approver's answer, or the decision someone recorded elsewhere while it was asking
        (``agentorch approve`` from another process): the first decision wins, and the prompt
        is withdrawn. An approver that does not answer at once (a person) frees the step's slot."""
        asking = asyncio.ensure_future(approver.decide(request))
        try:
            # a rule (approve-all, auto-approve) answers without waiting: its step keeps its slot
            done, _ = await asyncio.wait({asking}, timeout=0)
            if not done:
                wait.park()
            if self.store is None:
                return await asking, None
            while True:
                done, _ = await asyncio.wait({asking}, timeout=DECISION_POLL_SECONDS)
                if done:
                    return asking.result(), None
                elsewhere = self._decided_elsewhere(request.request_id)
                if elsewhere is not None:
                    return None, elsewhere
        finally:
            if not asking.done():
                asking.cancel()
                approver.withdraw(request)

    def _decided_elsewhere(self, request_id: str) -> ApprovalRecord | None:
        assert self.store is not None
        record = self.store.get_approval(request_id)
        return None if record.status == "pending" else record

    def _recorded_decision(
        self, record: ApprovalRecord, *, announce: ApprovalRequest | None = None
    ) -> ApprovalDecision:
        """A decision found in the store, acted on only once the audit log vouches for it."""
        if self._trusted.get(record.request_id) != record:
            self.check_audit(f"the decision on approval {record.request_id}")
            self._trusted[record.request_id] = record
        decision = ApprovalDecision(
            decision=record.status,  # type: ignore[arg-type]
            approver=record.approver or "unknown",
            comment=record.comment,
            arguments=record.decided_arguments,
            automatic=decided_automatically(record.comment),
        )
        if announce is not None:  # live views learn of it; the log already holds it
            event = ApprovalDecided(
                agent=announce.agent,
                step_id=announce.step_id,
                request_id=record.request_id,
                decision=decision.decision,
                approver=decision.approver,
                arguments=record.decided_arguments or record.arguments,
                comment=record.comment,
                decided_at=record.decided_at or self.clock(),
            )
            event.ephemeral = True
            self.emit(event)
        return decision

    def check_audit(self, what: str = "resuming") -> None:
        """Refuse to act when the run's audit log and its tables disagree (rows changed outside
        agentorch); decisions found in the store are trusted from here on."""
        if self.store is None:
            return
        decided = [a for a in self.store.approvals(self.run_id) if a.status != "pending"]
        verdict = self.store.verify_audit(self.run_id)
        if not verdict.ok:
            raise AuditError(
                f"refused {what} of run {self.run_id}: its audit log disagrees with the store "
                f"({verdict.problem})",
                hint=f"agentorch audit verify {self.run_id}",
            )
        self._trusted.update((a.request_id, a) for a in decided)

    def record_decision(self, request: ApprovalRequest, decision: ApprovalDecision) -> None:
        now = self.clock()
        if self.store is not None:
            self.store.decide_approval(
                request.request_id,
                status=decision.decision,
                approver=decision.approver,
                decided_arguments=decision.arguments,
                comment=decision.comment,
                decided_at=now,
            )
        self.emit(approval_decided(request, decision, now))
