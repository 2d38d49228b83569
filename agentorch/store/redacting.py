"""A store wrapper that redacts secrets from everything written through it (DESIGN rule 7)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from agentorch.store.base import (
    ApprovalRecord,
    ApprovalStatus,
    AuditRecord,
    AuditVerification,
    JournalEntry,
    JournalKind,
    JournalStatus,
    RunRecord,
    StepRecord,
    Store,
)

if TYPE_CHECKING:
    from agentorch.events.redact import Redactor


class RedactingStore(Store):
    """Delegates to ``inner``; every record, field and payload written passes the redactor first."""

    def __init__(self, inner: Store, redactor: Redactor) -> None:
        self.inner = inner
        self.redactor = redactor
        self.url = inner.url

    def _r(self, value: Any) -> Any:
        return self.redactor.redact_value(value)

    def close(self) -> None:
        self.inner.close()

    def transaction(self) -> AbstractContextManager[None]:
        return self.inner.transaction()

    def create_run(self, run: RunRecord) -> None:
        self.inner.create_run(self._r(run))

    def get_run(self, run_id: str) -> RunRecord:
        return self.inner.get_run(run_id)

    def update_run(self, run_id: str, **fields: Any) -> None:
        self.inner.update_run(run_id, **self._r(fields))

    def list_runs(self, *, limit: int = 50, status: str | None = None) -> list[RunRecord]:
        return self.inner.list_runs(limit=limit, status=status)

    def save_step(self, step: StepRecord) -> None:
        self.inner.save_step(self._r(step))

    def get_steps(self, run_id: str) -> list[StepRecord]:
        return self.inner.get_steps(run_id)

    def journal_get(self, run_id: str, key: str) -> JournalEntry | None:
        return self.inner.journal_get(run_id, key)

    def journal_start(self, entry: JournalEntry) -> None:
        self.inner.journal_start(self._r(entry))

    def journal_finish(
        self,
        run_id: str,
        key: str,
        *,
        status: JournalStatus,
        result: Any = None,
        error: str | None = None,
        usage: dict[str, Any] | None = None,
        finished_at: float,
    ) -> None:
        self.inner.journal_finish(
            run_id,
            key,
            status=status,
            result=self._r(result),
            error=self._r(error),
            usage=usage,
            finished_at=finished_at,
        )

    def journal(self, run_id: str, *, kind: JournalKind | None = None) -> list[JournalEntry]:
        return self.inner.journal(run_id, kind=kind)

    def create_approval(self, request: ApprovalRecord) -> None:
        self.inner.create_approval(self._r(request))

    def get_approval(self, request_id: str) -> ApprovalRecord:
        return self.inner.get_approval(request_id)

    def decide_approval(
        self,
        request_id: str,
        *,
        status: ApprovalStatus,
        approver: str,
        decided_arguments: dict[str, Any] | None = None,
        comment: str = "",
        decided_at: float,
    ) -> ApprovalRecord:
        return self.inner.decide_approval(
            request_id,
            status=status,
            approver=approver,
            decided_arguments=self._r(decided_arguments),
            comment=self._r(comment),
            decided_at=decided_at,
        )

    def approvals(self, run_id: str, *, pending_only: bool = False) -> list[ApprovalRecord]:
        return self.inner.approvals(run_id, pending_only=pending_only)

    def append_event(
        self, run_id: str, kind: str, ts: float, payload: dict[str, Any]
    ) -> AuditRecord:
        return self.inner.append_event(run_id, kind, ts, self._r(payload))

    def record_event(self, run_id: str, kind: str, ts: float, payload: dict[str, Any]) -> None:
        self.inner.record_event(run_id, kind, ts, self._r(payload))

    def events(self, run_id: str, *, after: int = 0) -> Iterator[AuditRecord]:
        return self.inner.events(run_id, after=after)

    def verify_audit(self, run_id: str) -> AuditVerification:
        return self.inner.verify_audit(run_id)

    def acquire_lease(self, run_id: str, owner: str, *, ttl: float, now: float) -> int:
        return self.inner.acquire_lease(run_id, owner, ttl=ttl, now=now)

    def fence(self, run_id: str, owner: str, epoch: int) -> None:
        self.inner.fence(run_id, owner, epoch)

    def unfence(self, run_id: str) -> None:
        self.inner.unfence(run_id)

    def renew_lease(self, run_id: str, owner: str, *, ttl: float, now: float) -> None:
        self.inner.renew_lease(run_id, owner, ttl=ttl, now=now)

    def release_lease(self, run_id: str, owner: str) -> None:
        self.inner.release_lease(run_id, owner)

    def lease_holder(self, run_id: str) -> tuple[str | None, float | None]:
        return self.inner.lease_holder(run_id)
