"""Typed events: every transition of a run, discriminated by ``kind``.

The store (event log + audit chain), the terminal view, JSONL logs, OpenTelemetry and user
callbacks all subscribe to this one stream. Events carry only JSON-safe data.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class BaseEvent(BaseModel):
    """Fields every event has. ``ts`` comes from the runtime's clock (seconds since the epoch)."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    run_id: str = ""
    ts: float = 0.0
    step_id: str | None = None
    agent: str | None = None

    #: Ephemeral events (streamed text) go to live subscribers but are not persisted or audited.
    ephemeral: bool = Field(default=False, exclude=True)


# --- run -----------------------------------------------------------------------------------------


class RunStarted(BaseEvent):
    kind: Literal["run_started"] = "run_started"
    task: str
    workflow: str | None = None
    files: list[str] = []
    policy_hash: str | None = None
    budget: dict[str, Any] = {}
    agents: list[str] = []
    engine: str = "models"  # "models" or "offline"


class RunResumed(BaseEvent):
    kind: Literal["run_resumed"] = "run_resumed"
    completed_steps: list[str] = []
    budget: dict[str, Any] = {}


class RunPaused(BaseEvent):
    kind: Literal["run_paused"] = "run_paused"
    reason: Literal["waiting_approval", "interrupted", "budget_exceeded", "in_doubt"]
    message: str = ""


class RunFinished(BaseEvent):
    kind: Literal["run_finished"] = "run_finished"
    status: str
    error: str | None = None
    usage: dict[str, Any] = {}
    output_path: str | None = None


# --- plan and steps ------------------------------------------------------------------------------


class PlanMade(BaseEvent):
    kind: Literal["plan_made"] = "plan_made"
    plan: dict[str, Any]
    attempt: int = 1
    source: Literal["router", "declared", "review"] = "router"


class PlanRejected(BaseEvent):
    kind: Literal["plan_rejected"] = "plan_rejected"
    errors: list[str]
    attempt: int = 1


class StepStarted(BaseEvent):
    kind: Literal["step_started"] = "step_started"
    model: str = ""
    instruction: str = ""
    revision: int = 0
    context_tokens: int = 0


class StepFinished(BaseEvent):
    kind: Literal["step_finished"] = "step_finished"
    output_preview: str = ""
    usage: dict[str, Any] = {}
    revision: int = 0


class StepFailed(BaseEvent):
    kind: Literal["step_failed"] = "step_failed"
    error_type: str
    message: str
    dependants_skipped: list[str] = []


class StepSkipped(BaseEvent):
    kind: Literal["step_skipped"] = "step_skipped"
    reason: str


class StepWaiting(BaseEvent):
    kind: Literal["step_waiting"] = "step_waiting"
    request_id: str
    reason: str = ""


# --- model and tool calls ------------------------------------------------------------------------


class ModelCallStarted(BaseEvent):
    kind: Literal["model_call_started"] = "model_call_started"
    call_key: str
    model: str
    reserved_usd: float = 0.0
    reserved_tokens: int = 0
    max_tokens: int = 0


class ModelCallFinished(BaseEvent):
    kind: Literal["model_call_finished"] = "model_call_finished"
    call_key: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    stop_reason: str = ""
    replayed: bool = False
    #: The provider reported no usage: the tokens were counted from the text (tiktoken).
    usage_estimated: bool = False


class ModelCallContent(BaseEvent):
    """What a model call sent and got back, in the GenAI conventions' message shape.

    Emitted only while a subscriber asks for content (``capture_content``, e.g. an ``OTelSink``
    made with it), and ephemeral: never persisted or audited. Redacted like every event.
    """

    kind: Literal["model_call_content"] = "model_call_content"
    call_key: str
    model: str
    system_instructions: list[dict[str, Any]] = []
    input_messages: list[dict[str, Any]] = []
    output_messages: list[dict[str, Any]] = []
    ephemeral: bool = Field(default=True, exclude=True)


class ModelCallFailed(BaseEvent):
    kind: Literal["model_call_failed"] = "model_call_failed"
    call_key: str
    model: str
    error_type: str
    message: str
    attempt: int = 1
    will_retry: bool = False


class TextDeltaEvent(BaseEvent):
    kind: Literal["text_delta"] = "text_delta"
    text: str
    ephemeral: bool = Field(default=True, exclude=True)


class ToolCallStarted(BaseEvent):
    kind: Literal["tool_call_started"] = "tool_call_started"
    tool: str
    call_id: str
    idempotency_key: str
    arguments: dict[str, Any] = {}
    risk: str = "read"


class ToolProgress(BaseEvent):
    """How far a long tool call has got ("12,000 of 80,000 blocks"); ephemeral, never persisted."""

    kind: Literal["tool_progress"] = "tool_progress"
    tool: str
    call_id: str
    done: int
    total: int = 0
    message: str = ""
    ephemeral: bool = Field(default=True, exclude=True)


class ToolCallFinished(BaseEvent):
    kind: Literal["tool_call_finished"] = "tool_call_finished"
    tool: str
    call_id: str
    idempotency_key: str
    result_size: int = 0
    duration_ms: float = 0.0
    is_error: bool = False
    error: str | None = None
    replayed: bool = False


class PermissionRefused(BaseEvent):
    kind: Literal["permission_refused"] = "permission_refused"
    tool: str
    call_id: str = ""
    reason: str
    arguments: dict[str, Any] = {}


# --- review, escalation, approvals ---------------------------------------------------------------


class ReviewVerdictEvent(BaseEvent):
    kind: Literal["review_verdict"] = "review_verdict"
    target_step: str
    verdict: Literal["pass", "revise", "escalate"]
    confidence: float | None = None
    reasons: list[str] = []


class RevisionRequested(BaseEvent):
    kind: Literal["revision_requested"] = "revision_requested"
    reviewer_step: str
    reasons: list[str] = []
    revision: int = 1


class Escalated(BaseEvent):
    kind: Literal["escalated"] = "escalated"
    reasons: list[str] = []
    request_id: str = ""


class ApprovalRequested(BaseEvent):
    kind: Literal["approval_requested"] = "approval_requested"
    request_id: str
    subject: Literal["tool", "escalation", "plan", "in_doubt"] = "tool"
    tool: str | None = None
    arguments: dict[str, Any] = {}
    risk: str | None = None
    reason: str = ""


class ApprovalDecided(BaseEvent):
    kind: Literal["approval_decided"] = "approval_decided"
    request_id: str
    decision: Literal["approved", "denied", "edited", "skipped", "run_again", "mark_done"]
    approver: str = ""
    arguments: dict[str, Any] = {}
    comment: str = ""
    decided_at: float = 0.0


# --- budget --------------------------------------------------------------------------------------


class BudgetWarning(BaseEvent):
    kind: Literal["budget_warning"] = "budget_warning"
    scope: str = "run"
    spent_usd: float = 0.0
    spent_tokens: int = 0
    limit_usd: float | None = None
    limit_tokens: int | None = None
    fraction: float = 0.0


class BudgetExceededEvent(BaseEvent):
    kind: Literal["budget_exceeded"] = "budget_exceeded"
    scope: str = "run"
    requested_usd: float = 0.0
    remaining_usd: float | None = None
    requested_tokens: int = 0
    remaining_tokens: int | None = None
    message: str = ""


class BudgetOverrun(BaseEvent):
    """A model call was charged more than its reservation (the provider reported more usage)."""

    kind: Literal["budget_overrun"] = "budget_overrun"
    call_key: str = ""
    model: str = ""
    reserved_usd: float = 0.0
    charged_usd: float = 0.0
    reserved_tokens: int = 0
    charged_tokens: int = 0
    #: Whether this stopped the run (a limit applies to the call) or was only recorded.
    stopped: bool = False
    message: str = ""


# --- audit ---------------------------------------------------------------------------------------


class RecordedRow(BaseModel):
    """One row a transaction wrote, as ``RowsRecorded`` names it."""

    table: Literal["runs", "steps", "journal", "approvals"]
    key: str
    sha256: str
    status: str | None = None


class RowsRecorded(BaseEvent):
    """Written by the store, not emitted: the rows that decide (run, step, journal entry,
    approval) one transaction wrote for the run, each with the digest of what was stored, as the
    transaction's last record. The audit log covers the tables with them."""

    kind: Literal["rows_recorded"] = "rows_recorded"
    rows: list[RecordedRow]


class StateRecorded(BaseEvent):
    """One row's digest per record: what stores wrote before ``RowsRecorded`` (still read and
    verified in older logs)."""

    kind: Literal["state_recorded"] = "state_recorded"
    table: Literal["runs", "steps", "journal", "approvals"]
    key: str
    sha256: str
    status: str | None = None


Event = Annotated[
    RunStarted
    | RunResumed
    | RunPaused
    | RunFinished
    | PlanMade
    | PlanRejected
    | StepStarted
    | StepFinished
    | StepFailed
    | StepSkipped
    | StepWaiting
    | ModelCallStarted
    | ModelCallFinished
    | ModelCallContent
    | ModelCallFailed
    | TextDeltaEvent
    | ToolCallStarted
    | ToolCallFinished
    | ToolProgress
    | PermissionRefused
    | ReviewVerdictEvent
    | RevisionRequested
    | Escalated
    | ApprovalRequested
    | ApprovalDecided
    | BudgetWarning
    | BudgetExceededEvent
    | BudgetOverrun
    | RowsRecorded
    | StateRecorded,
    Field(discriminator="kind"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(data: dict[str, Any] | str) -> BaseEvent:
    """Rebuild a typed event from its JSON form (as stored or written to a sink)."""
    if isinstance(data, str):
        return EVENT_ADAPTER.validate_json(data)
    return EVENT_ADAPTER.validate_python(data)
