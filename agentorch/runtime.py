"""The side-effect seam.

Planning, scheduling, the agent loop and review never call a model, a tool, the clock, a random
id or the store directly: they ask the ``Runtime`` they are given. The embedded runtime
(``agentorch.engine``) implements it with asyncio, the budget and the store; the Temporal runtime
(``agentorch.temporal``) implements the same methods with workflow time, activities and signals,
without touching the orchestration code. The core never picks its engine: an entry point does
(``Agent.run(engine=...)``, ``Supervisor.run(temporal=...)``, ``agentorch run --temporal``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentorch.approvals import ApprovalDecision, ApprovalRequest, Approver
from agentorch.events.types import BaseEvent
from agentorch.models.types import (
    ModelRequest,
    ModelResponse,
    ToolCall,
    ToolResultMessage,
    ToolSchema,
)
from agentorch.store.base import StepRecord

if TYPE_CHECKING:
    from agentorch.agent import Agent, AgentResult
    from agentorch.budget import Budget
    from agentorch.models.base import Model


@dataclass(frozen=True)
class ModelCall:
    """One model call an agent asks for; ``key`` is deterministic (for journaling and replay)."""

    key: str
    agent: str
    step_id: str | None
    model: Model
    request: ModelRequest
    stream: bool = False


@dataclass(frozen=True)
class ToolInvocation:
    """One tool call an agent asks for, with the agent's declared allow-list."""

    key: str
    agent: str
    step_id: str | None
    call: ToolCall
    allowed: tuple[str, ...] | None
    state: dict[str, Any] = field(default_factory=dict)


class Runtime(ABC):
    """Everything with a side effect that a run does goes through here."""

    run_id: str

    @abstractmethod
    def now(self) -> float:
        """Wall-clock seconds since the epoch."""

    @abstractmethod
    def new_id(self, prefix: str = "") -> str:
        """A fresh unique id."""

    @abstractmethod
    def emit(self, event: BaseEvent) -> None:
        """Publish an event (the runtime fills ``run_id`` and ``ts``)."""

    @abstractmethod
    async def call_model(self, call: ModelCall) -> ModelResponse:
        """Budget-checked, journaled model call (replayed from the journal on resume)."""

    @abstractmethod
    def visible_tools(self, agent: Agent) -> list[ToolSchema]:
        """The tools ``agent`` may use: the only ones its model is shown."""

    @abstractmethod
    async def call_tool(self, invocation: ToolInvocation) -> ToolResultMessage:
        """Permission check, validation, approval, journaled execution. Never raises for tool errors."""

    @abstractmethod
    async def request_approval(
        self, request: ApprovalRequest, *, approver: Approver | None = None
    ) -> ApprovalDecision:
        """A person's decision; raises ``ApprovalPending`` when it is deferred to the store.

        ``approver`` asks someone other than the run's approver (a nested supervisor's own).
        """

    @abstractmethod
    def save_step(self, record: StepRecord) -> None:
        """Checkpoint a step's state."""

    @abstractmethod
    def load_steps(self) -> dict[str, StepRecord]:
        """The run's checkpointed steps (empty for a new run)."""

    @abstractmethod
    def update_run(self, **fields: Any) -> None:
        """Checkpoint run-level fields (status, plan, output, error, usage)."""

    def checkpoint(self) -> AbstractContextManager[None]:
        """Group a state write and the event that reports it into one durable write."""
        return nullcontext()

    def hold(self, write: Callable[[], None]) -> None:
        """``write`` (state writes and the events reporting them) may wait for the run's next
        durable write and share its transaction: the caller does nothing with an effect outside
        the run before that write. A runtime without that optimisation writes now."""
        with self.checkpoint():
            write()

    def holding(self) -> AbstractContextManager[None]:
        """Like ``checkpoint``, for writes that may wait for the run's next durable write
        (``hold``): nothing outside the run happens between the block and that write."""
        return self.checkpoint()

    @abstractmethod
    def count_tokens(self, model: Model, text: str) -> int:
        """Tokens ``text`` takes for ``model`` (for recording what each step was given)."""

    def uses_change(self, change: str) -> bool:
        """Whether this run follows behaviour change ``change`` (``agentorch.changes``): only a
        durable run recorded before the change answers ``False``, and keeps the old behaviour."""
        return True


class Engine(ABC):
    """Where a run executes: chosen by the entry point, never by the orchestration code."""

    @abstractmethod
    async def run_agent(
        self,
        agent: Agent,
        prompt: str,
        *,
        model: str | Model | None = None,
        budget: Budget | None = None,
        tools: Any = None,
        approver: Approver | None = None,
        policy: Any = None,
        state: dict[str, Any] | None = None,
    ) -> AgentResult:
        """Run one specialist outside a supervisor, with the same budget, permissions and events."""


_default_engine: Engine | None = None


def set_default_engine(engine: Engine | None) -> None:
    """Make ``engine`` the one entry points use when none is given (``None``: the embedded one)."""
    global _default_engine
    _default_engine = engine


def default_engine() -> Engine:
    """The engine an entry point uses when it is given none: the embedded one unless replaced."""
    if _default_engine is not None:
        return _default_engine
    from agentorch.engine import EmbeddedEngine  # the one place the default is named

    return EmbeddedEngine()
