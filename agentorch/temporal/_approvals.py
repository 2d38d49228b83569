"""Approvals inside a run's workflow: a decision from the store, the approver's, or a person's.

A decision found in the store is acted on only when the run's audit log vouches for it (checked
by the activity that reads it). A deferred one makes the workflow wait: for ``agentorch approve``'s
signal, and for the store, looked up now and then in case a signal was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import abstractmethod
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from agentorch._slots import PersonWait
    from agentorch.approvals import ApprovalDecision, ApprovalRequest, ApproveAll, Approver
    from agentorch.approvals_gate import approval_decided, approval_requested
    from agentorch.events.types import BaseEvent
    from agentorch.temporal import _types as t
    from agentorch.temporal._tree import approver_level

if TYPE_CHECKING:
    from agentorch.supervisor import Supervisor

#: Errors an approval activity reports that no retry fixes.
_FINAL = ["AuditError", "ConfigError", "UserError"]


class TemporalApprovals:
    """The approval half of ``TemporalRuntime`` (which provides the attributes below)."""

    run_id: str
    spec: t.RunInput
    supervisor: Supervisor
    approver: Approver | None
    timeouts: t.Timeouts
    decided: set[str]
    _approval_lock: asyncio.Lock
    _ops: list[dict[str, Any]]

    @abstractmethod
    def now(self) -> float:
        """The workflow's clock."""

    @abstractmethod
    def emit(self, event: BaseEvent) -> None:
        """Buffer an event for the store."""

    @abstractmethod
    def update_run(self, **fields: Any) -> None:
        """Buffer a run-record write."""

    @abstractmethod
    def _batch(self) -> t.StoreOps:
        """Take the buffered writes."""

    @abstractmethod
    async def write(self) -> None:
        """Apply the buffered writes."""

    @abstractmethod
    async def _local(self, name: str, arg: Any, result_type: type[Any]) -> Any:
        """Run a store activity."""

    # --- approvals -------------------------------------------------------------------------------

    async def request_approval(
        self, request: ApprovalRequest, *, approver: Approver | None = None
    ) -> ApprovalDecision:
        """A decision from the store, or the approver's; a deferred one waits for a signal.

        While the workers' approver or a person is asked (or another step's question is before
        this one), the step holds no concurrency slot.
        """
        async with PersonWait() as wait:
            if self._approval_lock.locked():
                wait.park()
            async with self._approval_lock:
                return await self._request_approval(request, approver, wait)

    def _approval_input(self, request: ApprovalRequest, level: list[str]) -> t.ApprovalInput:
        return t.ApprovalInput(
            app=self.spec.app,
            flush=self._batch(),
            request=request.model_dump(mode="json"),
            level=level,
            now=self.now(),
        )

    async def _request_approval(
        self, request: ApprovalRequest, approver: Approver | None, wait: PersonWait
    ) -> ApprovalDecision:
        level = approver_level(self.supervisor, approver, self.approver)
        opened: t.ApprovalOutput = await self._local(
            t.APPROVAL_OPEN, self._approval_input(request, level), t.ApprovalOutput
        )
        if opened.decision is not None:
            return ApprovalDecision.model_validate(opened.decision)
        if opened.created:
            self.emit(approval_requested(request))
        # --approve-all never answers for a call in doubt: the workers' approver (a person) does
        if self.spec.approve_all and request.subject != "in_doubt" and level == []:
            decided = await ApproveAll("cli:approve-all").decide(request)
            assert decided is not None
            self._record(request, decided)
            return decided
        wait.park()
        await self.write()
        asked: t.ApprovalOutput = await workflow.execute_activity(
            t.APPROVAL_ASK,
            self._approval_input(request, level),
            result_type=t.ApprovalOutput,
            start_to_close_timeout=timedelta(days=7),
            heartbeat_timeout=timedelta(seconds=self.timeouts.heartbeat_seconds),
            retry_policy=RetryPolicy(
                maximum_attempts=self.timeouts.max_attempts,
                non_retryable_error_types=_FINAL,
            ),
        )
        if asked.decision is not None:
            decision = ApprovalDecision.model_validate(asked.decision)
            if not asked.recorded:  # the approver decided just now (and the activity stored it)
                self.emit(approval_decided(request, decision, self.now()))
            return decision
        # Deferred: the run waits here (for days if need be) until `agentorch approve` decides.
        self.update_run(status="waiting_approval")
        await self.write()
        poll = self.timeouts.approval_poll_seconds
        while True:
            looked = self.now()
            while request.request_id not in self.decided:
                left = poll - (self.now() - looked)
                if left <= 0:
                    break
                with contextlib.suppress(asyncio.TimeoutError):  # then look in the store anyway
                    await workflow.wait_condition(
                        lambda: request.request_id in self.decided or bool(self._ops),
                        timeout=timedelta(seconds=left),
                    )
                # other steps' writes (a step finished meanwhile) reach the store now, not only
                # when the run next calls something: the store shows the run as it stands
                await self.write()
            self.decided.discard(request.request_id)
            found: t.ApprovalOutput = await self._local(
                t.APPROVAL_CHECK, self._approval_input(request, level), t.ApprovalOutput
            )
            if found.decision is not None:
                self.update_run(status="running")
                return ApprovalDecision.model_validate(found.decision)

    def _record(self, request: ApprovalRequest, decision: ApprovalDecision) -> None:
        """Store a decision made in the workflow (approve-all), with its audited event."""
        now = self.now()
        self._ops.append(
            {
                "op": "decide",
                "request_id": request.request_id,
                "decision": decision.model_dump(mode="json"),
                "decided_at": now,
            }
        )
        self.emit(approval_decided(request, decision, now))
