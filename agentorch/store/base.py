"""The store interface: runs, steps, the activity journal, approvals, and the audited event log.

The store knows no models or agents: what it keeps is JSON. Two implementations share one schema
(SQLite, the embedded default, and PostgreSQL for teams). Every method is one transaction: a crash
at any instant leaves the store consistent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RunStatus = Literal[
    "pending",
    "running",
    "waiting_approval",
    "interrupted",
    "budget_exceeded",
    "in_doubt",
    "succeeded",
    "failed",
    "cancelled",
]
#: Statuses from which ``resume`` may continue a run.
RESUMABLE: frozenset[str] = frozenset(
    {"running", "waiting_approval", "interrupted", "budget_exceeded", "in_doubt", "failed"}
)

StepStatus = Literal["pending", "running", "waiting", "done", "failed", "skipped"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunRecord(_Record):
    run_id: str
    task: str
    status: RunStatus = "pending"
    workflow: str | None = None
    #: Everything needed to rebuild the run on resume: files, inputs, options (JSON).
    spec: dict[str, Any] = Field(default_factory=dict)
    policy_hash: str | None = None
    budget: dict[str, Any] = Field(default_factory=dict)
    plan: dict[str, Any] | None = None
    output: Any = None
    error: str | None = None
    usage: dict[str, Any] = Field(default_factory=dict)
    created_at: float = 0.0
    updated_at: float = 0.0


class StepRecord(_Record):
    run_id: str
    step_id: str
    agent: str
    status: StepStatus = "pending"
    revision: int = 0
    instruction: str = ""
    output: Any = None
    error: str | None = None
    usage: dict[str, Any] = Field(default_factory=dict)
    context_tokens: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    #: Orchestration state kept for resume: reviewers' feedback for the next revision, decisions
    #: (verdicts, approvals) that bear on this step, and whether review/escalation has settled it.
    feedback: list[str] = Field(default_factory=list)
    decisions: list[str] = Field(default_factory=list)
    settled: bool = False


JournalKind = Literal["model", "tool"]
JournalStatus = Literal["started", "completed", "failed"]


class JournalEntry(_Record):
    """One activity (a model call or a tool call), journaled before it runs and when it ends.

    ``key`` is deterministic (run, step, revision, sequence), so a resumed run finds the entry of
    the same call and replays its result instead of running it again.
    """

    run_id: str
    key: str
    kind: JournalKind
    step_id: str | None = None
    name: str = ""  # model id or tool name
    request_hash: str = ""
    status: JournalStatus = "started"
    idempotent: bool = False
    request: Any = None
    result: Any = None
    error: str | None = None
    usage: dict[str, Any] = Field(default_factory=dict)
    started_at: float = 0.0
    finished_at: float | None = None


ApprovalStatus = Literal[
    "pending", "approved", "denied", "edited", "skipped", "run_again", "mark_done"
]


class ApprovalRecord(_Record):
    request_id: str
    run_id: str
    step_id: str | None = None
    agent: str | None = None
    subject: Literal["tool", "escalation", "plan", "in_doubt"] = "tool"
    tool: str | None = None
    arguments: dict[str, Any] = Field(default_factory=dict)
    risk: str | None = None
    reason: str = ""
    status: ApprovalStatus = "pending"
    approver: str | None = None
    decided_arguments: dict[str, Any] | None = None
    comment: str = ""
    created_at: float = 0.0
    decided_at: float | None = None


class AuditRecord(_Record):
    """One record of a run's hash-chained audit log (the persisted event log)."""

    run_id: str
    seq: int
    kind: str
    ts: float
    payload: dict[str, Any]
    prev_hash: str
    hash: str


AnchorStatus = Literal["verified", "no_key", "missing", "mismatch", "not_checked"]


class AuditVerification(_Record):
    """What ``verify_audit`` found: ``ok`` when every guarantee it could check held.

    ``chain_intact``: the records link up to the head the store recorded. ``tables_consistent``:
    runs, steps, journal and approvals rows are the ones the chain recorded (``None``: not
    checked). ``anchor``: the head's key signature -- ``verified``; ``no_key`` (no audit key
    here: a truncated tail with a fixed-up head cannot be detected); ``missing`` or ``mismatch``
    (removed, forged, or signed with another key); ``not_checked``.
    """

    ok: bool
    records: int
    first_bad_seq: int | None = None
    problem: str | None = None
    chain_intact: bool = True
    tables_consistent: bool | None = None
    anchor: AnchorStatus = "not_checked"
    problems: list[str] = Field(default_factory=list)


class Store(ABC):
    """Durable state of runs. Implementations: ``SQLiteStore``, ``PostgresStore``."""

    url: str

    # --- lifecycle -------------------------------------------------------------------------------

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Group several writes into one transaction (re-entrant: inner calls join the outer)."""

    # --- runs ------------------------------------------------------------------------------------

    @abstractmethod
    def create_run(self, run: RunRecord) -> None: ...

    @abstractmethod
    def get_run(self, run_id: str) -> RunRecord:
        """Raises ``RunNotFoundError`` (also for an unambiguous-prefix miss)."""

    @abstractmethod
    def update_run(self, run_id: str, **fields: Any) -> None: ...

    @abstractmethod
    def list_runs(self, *, limit: int = 50, status: str | None = None) -> list[RunRecord]: ...

    # --- steps -----------------------------------------------------------------------------------

    @abstractmethod
    def save_step(self, step: StepRecord) -> None:
        """Insert or replace the step (run_id, step_id)."""

    @abstractmethod
    def get_steps(self, run_id: str) -> list[StepRecord]: ...

    # --- journal ---------------------------------------------------------------------------------

    @abstractmethod
    def journal_get(self, run_id: str, key: str) -> JournalEntry | None: ...

    @abstractmethod
    def journal_start(self, entry: JournalEntry) -> None:
        """Record that an activity is about to run (insert or replace a non-completed entry)."""

    @abstractmethod
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
    ) -> None: ...

    @abstractmethod
    def journal(self, run_id: str, *, kind: JournalKind | None = None) -> list[JournalEntry]: ...

    # --- approvals -------------------------------------------------------------------------------

    @abstractmethod
    def create_approval(self, request: ApprovalRecord) -> None: ...

    @abstractmethod
    def get_approval(self, request_id: str) -> ApprovalRecord: ...

    @abstractmethod
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
        """Record a decision once; deciding an already-decided request raises ``UserError``."""

    @abstractmethod
    def approvals(self, run_id: str, *, pending_only: bool = False) -> list[ApprovalRecord]: ...

    # --- event log / audit chain -----------------------------------------------------------------

    @abstractmethod
    def append_event(
        self, run_id: str, kind: str, ts: float, payload: dict[str, Any]
    ) -> AuditRecord:
        """Append one event to the run's hash-chained log and return its record."""

    def record_event(self, run_id: str, kind: str, ts: float, payload: dict[str, Any]) -> None:
        """``append_event`` for a caller that does not need the record (a run's own events)."""
        self.append_event(run_id, kind, ts, payload)

    @abstractmethod
    def events(self, run_id: str, *, after: int = 0) -> Iterator[AuditRecord]:
        """The run's records in ``seq`` order, from the one after ``after`` (a follower's last)."""

    @abstractmethod
    def verify_audit(self, run_id: str) -> AuditVerification:
        """Recompute the chain; name the first record altered, removed, inserted or reordered."""

    # --- leases ----------------------------------------------------------------------------------

    @abstractmethod
    def acquire_lease(self, run_id: str, owner: str, *, ttl: float, now: float) -> int:
        """Take the run's lease and return its epoch (the fencing token, raised by every
        acquisition by a new owner); raises ``RunLockedError`` while another live owner holds it."""

    @abstractmethod
    def fence(self, run_id: str, owner: str, epoch: int) -> None:
        """From now on, every write of ``run_id`` through this store object checks, in its own
        transaction, that ``owner`` still holds the lease at ``epoch``; otherwise it writes
        nothing and raises ``LeaseLostError``."""

    @abstractmethod
    def unfence(self, run_id: str) -> None:
        """Stop checking the lease on writes of ``run_id`` (the owner is done with the run)."""

    @abstractmethod
    def renew_lease(self, run_id: str, owner: str, *, ttl: float, now: float) -> None: ...

    @abstractmethod
    def release_lease(self, run_id: str, owner: str) -> None: ...

    @abstractmethod
    def lease_holder(self, run_id: str) -> tuple[str | None, float | None]:
        """Who holds the run's lease, and until when (``(None, None)`` when free)."""


def jsonable_state(state: Mapping[str, Any]) -> dict[str, Any]:
    """A run's state as stored with its record: private keys dropped, non-JSON values as text."""
    import json

    out = {}
    for key, value in state.items():
        if key.startswith("_"):
            continue
        try:
            json.dumps(value)
            out[key] = value
        except (TypeError, ValueError):
            out[key] = str(value)
    return out
