"""What crosses the wire between a run's workflow, its activities and the client (JSON, pydantic)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

#: Workflow and activity names (names, not classes: the workflow never imports the activities).
RUN_WORKFLOW = "agentorch.run"
NESTED_WORKFLOW = "agentorch.nested"
#: The update a nested supervisor's workflow reserves and settles through (on the run's workflow).
BUDGET_UPDATE = "budget"
BUDGET_OP = "agentorch.budget_op"
STORE_WRITE = "agentorch.store_write"
MODEL_CALL = "agentorch.model_call"
TOOL_CALL = "agentorch.tool_call"
APPROVAL_OPEN = "agentorch.approval_open"
APPROVAL_ASK = "agentorch.approval_ask"
APPROVAL_CHECK = "agentorch.approval_check"
#: The signal ``agentorch approve`` sends once a decision is in the store.
DECIDED_SIGNAL = "approval_decided"
#: The error type an activity raises for a side-effecting call whose earlier attempt is in doubt.
IN_DOUBT = "InDoubt"


class Timeouts(BaseModel):
    """How long activities may take, and how soon a silent (dead) worker's activity is retried."""

    model_seconds: float = 600.0
    tool_seconds: float = 600.0
    store_seconds: float = 60.0
    #: An activity that has not heartbeaten for this long is retried on another worker.
    heartbeat_seconds: float = 30.0
    #: How often a waiting approval is looked up in the store (besides the signal).
    approval_poll_seconds: float = 60.0
    #: Attempts of one activity (worker losses included) before the run fails.
    max_attempts: int = 5


class RunInput(BaseModel):
    """Everything a worker needs to run a run: the rest comes from its own copy of the app."""

    run_id: str
    app: str
    task: str
    inputs: dict[str, str] = Field(default_factory=dict)
    state: dict[str, Any] = Field(default_factory=dict)
    files: list[str] = Field(default_factory=list)
    workflow: str | None = None
    plan: dict[str, Any] | None = None
    budget: dict[str, Any] = Field(default_factory=dict)
    #: Approve every call and escalation (``--approve-all``); otherwise the worker's approver.
    approve_all: bool = False
    #: Agent name -> task queue of the workers that run its model and tool calls.
    routes: dict[str, str] = Field(default_factory=dict)
    timeouts: Timeouts = Field(default_factory=Timeouts)


class StoreOps(BaseModel):
    """Store writes the workflow made since the last flush, applied in order in one transaction.

    ``seq`` numbers the flushes of a run: a retried activity skips a batch the store already has.
    """

    run_id: str
    app: str = ""
    seq: int = 0
    ops: list[dict[str, Any]] = Field(default_factory=list)
    secrets: list[str] = Field(default_factory=list)


class ModelCallInput(BaseModel):
    app: str
    flush: StoreOps
    key: str
    agent: str
    step_id: str | None = None
    model_id: str
    request: dict[str, Any]
    reserved_usd: float = 0.0
    reserved_tokens: int = 0
    started_at: float = 0.0


class ModelCallOutput(BaseModel):
    response: dict[str, Any]
    latency_ms: float = 0.0
    #: Reservations of earlier attempts killed in flight (they may have been billed).
    killed: list[dict[str, Any]] = Field(default_factory=list)


class ToolCallInput(BaseModel):
    app: str
    flush: StoreOps
    key: str
    agent: str
    step_id: str | None = None
    #: Agent names from the app's supervisor down to the nested supervisor owning the tool.
    level: list[str] = Field(default_factory=list)
    tool: str
    call_id: str = ""
    arguments: dict[str, Any] = Field(default_factory=dict)
    stored_arguments: dict[str, Any] = Field(default_factory=dict)
    request_hash: str = ""
    state: dict[str, Any] = Field(default_factory=dict)
    approval: dict[str, Any] | None = None
    started_at: float = 0.0
    #: How many times a person chose to run this call again after it was in doubt.
    run_again: int = 0


class ToolCallOutput(BaseModel):
    content: str
    is_error: bool = False
    replayed: bool = False


class ApprovalInput(BaseModel):
    app: str
    flush: StoreOps
    request: dict[str, Any]
    #: Agent names down to the supervisor whose approver decides ([] = the app's own).
    level: list[str] = Field(default_factory=list)
    now: float = 0.0


class ApprovalOutput(BaseModel):
    """A decision (``None``: nobody has decided yet)."""

    decision: dict[str, Any] | None = None
    #: Whether the decision was found in the store (made earlier, or elsewhere).
    recorded: bool = False
    #: Whether the pending request was created just now (its ``approval_requested`` is due).
    created: bool = False


class RunOutput(BaseModel):
    """The run's result as the client rebuilds a ``RunResult`` from it."""

    run_id: str
    status: str
    error: str | None = None
    output: Any = None
    final_agent: str | None = None
    plan: dict[str, Any] | None = None
    steps: list[dict[str, Any]] = Field(default_factory=list)
    usage: dict[str, Any] = Field(default_factory=dict)


class NestedInput(BaseModel):
    """A nested supervisor's step, run as a child workflow of its parent's (at any depth)."""

    spec: RunInput
    #: The run's workflow id: the owner of the budget ledger.
    root_id: str
    #: [nested supervisor's agent name, step id] of each level from the run's top down to this one.
    levels: list[list[str]]
    chain: list[list[str]] = Field(default_factory=list)
    step: dict[str, Any]
    inputs: dict[str, str] = Field(default_factory=dict)
    state: dict[str, Any] = Field(default_factory=dict)
    feedback: list[str] = Field(default_factory=list)
    revision: int = 0


class NestedOutput(BaseModel):
    output: Any = None
    usage: dict[str, Any] = Field(default_factory=dict)


class BudgetOp(BaseModel):
    """One ledger operation a child workflow asks the run's workflow for (by update)."""

    root_id: str
    #: Deterministic: a retried activity sends the same update id, which Temporal applies once.
    op_id: str
    kind: str  # reserve | settle | release | charge
    reservation: str = ""
    agent: str = ""
    step_id: str | None = None
    call_key: str = ""
    model_id: str = ""
    price_key: str = ""
    encoding: str | None = None
    candidates: list[list[str]] = Field(default_factory=list)
    request: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None
