"""The embedded runtime: the side-effect seam implemented with asyncio, the budget and the store.

Model calls are reserved against the budget, sent, settled and journaled; tool calls run through
the registry and are journaled before and after they run, so a resumed run replays what finished
instead of doing it again. Approvals are kept in the store, which lets a run wait for a person.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from agentorch._held import HeldWrites
from agentorch._spend import killed_attempts
from agentorch.approvals import ApprovalDecision, ApprovalRequest, Approver
from agentorch.approvals_gate import ApprovalGate
from agentorch.errors import (
    ProviderError,
    UserError,
)
from agentorch.events.types import (
    BaseEvent,
    TextDeltaEvent,
)
from agentorch.models.types import (
    ModelResponse,
    ResponseDone,
    TextDelta,
    ToolResultMessage,
)
from agentorch.models.wrappers import TimeoutModel, has_timeout
from agentorch.runtime import Engine, ModelCall, ToolInvocation
from agentorch.runtime_base import (
    BaseRuntime,
    answering_model,
    call_failed,
    call_finished,
    call_started,
    capped,
    redacted_args,
    request_hash,
    usage_or_estimate,
)
from agentorch.store.base import ApprovalRecord, JournalEntry, StepRecord, Store
from agentorch.tools._bounded import ToolAbandoned
from agentorch.tools.registry import ToolRegistry, run_tool_guarded

if TYPE_CHECKING:
    from agentorch.agent import Agent, AgentResult
    from agentorch.budget import Budget
    from agentorch.events.bus import EventBus
    from agentorch.leases import Lease
    from agentorch.models.base import Model
    from agentorch.tools.base import Tool


class EmbeddedRuntime(HeldWrites, ApprovalGate, BaseRuntime):
    """One run's runtime in this process."""

    def __init__(
        self,
        *,
        run_id: str,
        budget: Budget,
        bus: EventBus,
        registry: ToolRegistry,
        approver: Approver | None,
        store: Store | None = None,
        clock: Callable[[], float] = time.time,
        stream: bool = False,
    ) -> None:
        self.run_id = run_id
        #: Stream every model call (text deltas become ``text_delta`` events for live views).
        self.stream = stream
        self.budget = budget
        self.bus = bus
        self.registry = registry
        self.approver = approver
        self.store = store
        self.clock = clock
        self._approval_lock = asyncio.Lock()
        #: Decided approvals the audit log vouched for (checked before a decision is acted on).
        self._trusted: dict[str, ApprovalRecord] = {}
        self._journal: dict[str, JournalEntry] | None = None
        self._no_steps = False
        #: The run's lease while a supervisor holds it; a lost lease stops every further call.
        self.lease: Lease | None = None
        self._init_held()

    # --- clock, ids, events --------------------------------------------------------------------

    def now(self) -> float:
        return self.clock()

    def new_id(self, prefix: str = "") -> str:
        return f"{prefix}{uuid.uuid4().hex[:12]}"

    def emit(self, event: BaseEvent) -> None:
        event.run_id = self.run_id
        if not event.ts:
            event.ts = self.clock()
        self._write(partial(self.bus.emit, event))

    def add_secret(self, value: str) -> None:
        self.bus.redactor.add(value)

    # --- state ---------------------------------------------------------------------------------

    def _recorded(self, key: str) -> JournalEntry | None:
        """What an earlier attempt of this run journaled under ``key`` (read once, on first use).

        Only this process holds the run's lease, so what the journal held when the run (re)started
        is all a replay can find; this attempt's own entries are never looked up again.
        """
        if self._journal is None:
            assert self.store is not None
            self._journal = {e.key: e for e in self.store.journal(self.run_id)}
        return self._journal.get(key)

    #: The run's row, lease and first event wait for its first transaction (``leases.held``).
    create_with_first_write = False

    def created_run(self) -> None:
        """This runtime's run is created in this process, under its lease: until it saves a
        step, the store holds no step or journal entry of the run, so none is read back."""
        self._journal = {}
        self._no_steps = True

    def save_step(self, record: StepRecord) -> None:
        if self.store is not None:
            self._no_steps = False
            self._write(partial(self.store.save_step, record), key=record.step_id)

    def load_steps(self) -> dict[str, StepRecord]:
        if self.store is None or self._no_steps:
            return {}
        self.write_held()  # the store is read: it holds what the run wrote so far
        return {s.step_id: s for s in self.store.get_steps(self.run_id)}

    def update_run(self, **fields: Any) -> None:
        if self.store is not None:
            self._write(
                partial(self.store.update_run, self.run_id, updated_at=self.clock(), **fields)
            )

    async def request_approval(
        self, request: ApprovalRequest, *, approver: Approver | None = None
    ) -> ApprovalDecision:
        self.write_held()  # before anyone is asked (and the run may wait)
        return await super().request_approval(request, approver=approver)

    # --- model calls ---------------------------------------------------------------------------

    async def call_model(self, call: ModelCall) -> ModelResponse:
        if self.lease is not None:
            self.lease.check()
        key = f"model:{call.key}"
        model = call.model
        killed: list[dict[str, Any]] = []
        if self.store is not None:
            entry = self._recorded(key)
            if entry is not None and entry.status == "completed":
                response = ModelResponse.model_validate(entry.result)
                self.emit(call_finished(call, model, response, latency_ms=0.0, replayed=True))
                return response
            killed = killed_attempts(entry)
        candidates = [
            (m.id, m.price_key) for m in getattr(model, "candidates", ()) if m is not model
        ]
        reservation = self.budget.reserve(
            agent=call.agent,
            model_id=model.id,
            price_key=model.price_key,
            encoding=model.encoding,
            request=call.request,
            step_id=call.step_id,
            candidates=candidates,
        )
        request = capped(call.request, reservation)
        started = self.clock()
        if self.store is None:
            self.emit(call_started(call, reservation))
        else:

            def announce() -> None:
                self.emit(call_started(call, reservation))
                self._journal_model_start(call, key, model, reservation, started, killed)

            try:
                await self.commit(announce)  # the intent is durable before the call starts
            except BaseException:
                self.budget.release(reservation)  # the call never started
                raise
        t0 = time.perf_counter()
        try:
            bounded = model if has_timeout(model) else TimeoutModel(model)
            if call.stream or self.stream:
                response = await self._stream(call, bounded, request)
            else:
                response = await bounded.request(request)
        except asyncio.CancelledError:
            raise  # the journal keeps the call "started": a resume charges its reservation
        except Exception as exc:
            self.budget.release(reservation)
            message = str(exc)
            if self.store is not None:
                self.store.journal_finish(
                    self.run_id,
                    key,
                    status="failed",
                    error=f"{type(exc).__name__}: {message}",
                    finished_at=self.clock(),
                )
            self.emit(call_failed(call, exc))
            if isinstance(exc, ProviderError | UserError):
                raise
            raise ProviderError(
                f"{type(exc).__name__}: {message}", provider=model.provider, model=model.name
            ) from exc
        latency = (time.perf_counter() - t0) * 1000
        self.learn_secrets(response)
        answered = answering_model(model, response)
        usage = self.budget.settle(
            reservation,
            usage_or_estimate(response, reservation.prompt_tokens, answered.encoding),
            model_id=answered.id,
            price_key=answered.price_key,
            call_key=call.key,
        )
        response = response.model_copy(update={"usage": usage})
        finished_at = self.clock()

        def finish() -> None:
            if self.store is not None:
                self.store.journal_finish(
                    self.run_id,
                    key,
                    status="completed",
                    result=response.model_dump(mode="json"),
                    usage=usage.model_dump(),
                    finished_at=finished_at,
                )
            if self.bus.wants_content:
                from agentorch.events.genai import content_event

                event = content_event(call.key, model.id, request, response)
                event.agent, event.step_id = call.agent, call.step_id
                self.emit(event)
            self.emit(call_finished(call, model, response, latency_ms=latency, replayed=False))

        # Nothing the run does next leaves it before its next write (a call's intent, a step's
        # result, the run's end): the result is committed in that write's transaction.
        self.hold(finish)
        self.budget.raise_if_halted()  # this call (or one beside it) overran its reservation
        return response

    def _journal_model_start(
        self,
        call: ModelCall,
        key: str,
        model: Model,
        reservation: Any,
        started: float,
        killed: list[dict[str, Any]],
    ) -> None:
        if self.store is None:
            return
        request: dict[str, Any] = {
            "agent": call.agent,
            "reserved_usd": reservation.usd,
            "reserved_tokens": reservation.tokens,
        }
        if killed:  # the retry replaces the entry: it carries the charges of killed attempts
            request["killed"] = killed
        self.store.journal_start(
            JournalEntry(
                run_id=self.run_id,
                key=key,
                kind="model",
                step_id=call.step_id,
                name=model.id,
                status="started",
                idempotent=True,
                started_at=started,
                request=request,
            )
        )

    async def _stream(self, call: ModelCall, model: Model, request: Any) -> ModelResponse:
        final: ModelResponse | None = None
        window = self.bus.redactor.stream()  # a secret split across deltas is still redacted

        def emit_text(text: str) -> None:
            if text:
                self.emit(TextDeltaEvent(agent=call.agent, step_id=call.step_id, text=text))

        async for chunk in model.stream(request):
            if isinstance(chunk, TextDelta):
                emit_text(window.feed(chunk.text))
            elif isinstance(chunk, ResponseDone):
                emit_text(window.flush())
                final = chunk.response
        if final is None:
            raise ProviderError(
                "stream ended without a final response", provider=model.provider, model=model.name
            )
        return final

    # --- tool calls ----------------------------------------------------------------------------

    async def call_tool(self, invocation: ToolInvocation) -> ToolResultMessage:
        if self.lease is not None:
            self.lease.check()
        return await self.registry.call(invocation, self)

    async def execute_journaled(
        self,
        invocation: ToolInvocation,
        tool: Tool,
        arguments: dict[str, Any],
        run: Callable[[], Awaitable[Any]],
        *,
        started: BaseEvent,
        finished: Callable[[str, bool, bool], BaseEvent],
        approver: Approver | None = None,
        approval: ApprovalDecision | None = None,
    ) -> tuple[str, bool, bool]:
        """Run a tool call exactly once across crashes; ``approver`` decides a call in doubt.

        ``approval`` (the decision that let the call run) is already inside ``run`` here.
        """
        key = f"tool:{invocation.key}"
        store = self.store
        if store is None:
            self.emit(started)
            try:
                content, is_error = await run_tool_guarded(tool, run)
            except ToolAbandoned as exc:
                content, is_error = f"Error: {exc}", True
            self.emit(finished(content, is_error, False))
            return content, is_error, False
        entry = self._recorded(key)
        if (
            entry is not None
            and entry.status in ("completed", "failed")
            and entry.result is not None
        ):
            content, is_error = entry.result["content"], bool(entry.result["is_error"])
            self.emit(started)
            self.emit(finished(content, is_error, True))
            return content, is_error, True
        if entry is not None and entry.status == "started" and not tool.idempotent:
            outcome = await self.resolve_in_doubt(
                invocation, tool, redacted_args(tool, arguments), approver
            )
            if outcome is not None:
                with self.checkpoint():
                    store.journal_finish(
                        self.run_id,
                        key,
                        status="completed",
                        result={"content": outcome, "is_error": False},
                        finished_at=self.clock(),
                    )
                    self.emit(started)
                    self.emit(finished(outcome, False, True))
                return outcome, False, True
        if self.lease is not None:
            self.lease.check()  # an approval may have waited long: never run after losing the run
        entry = JournalEntry(
            run_id=self.run_id,
            key=key,
            kind="tool",
            step_id=invocation.step_id,
            name=tool.name,
            request_hash=request_hash(arguments),
            status="started",
            idempotent=tool.idempotent,
            request={"agent": invocation.agent, "arguments": redacted_args(tool, arguments)},
            started_at=self.clock(),
        )

        def announce() -> None:
            store.journal_start(entry)
            self.emit(started)

        if tool.idempotent and tool.risk == "read":
            # Nothing outside the run changes if this call runs again: a crash before its
            # intent is committed re-runs it on resume, as a crash after would. The intent is
            # held and committed with the call's result (see ``hold``).
            self.hold(announce)
        else:
            await self.commit(announce)  # durable before the side effect can happen
        try:
            content, is_error = await run_tool_guarded(tool, run)
        except ToolAbandoned as exc:
            # Past its timeout and still running: the outcome is unknown, so the journal keeps
            # the call "started" (in doubt). A resume asks a person before running it again.
            content = f"Error: {exc}"
            self.emit(finished(content, True, False))
            return content, True, False
        finished_at = self.clock()

        def finish() -> None:
            store.journal_finish(
                self.run_id,
                key,
                status="failed" if is_error else "completed",
                result={"content": content, "is_error": is_error},
                error=content if is_error else None,
                finished_at=finished_at,
            )
            self.emit(finished(content, is_error, False))

        # committed with the run's next write, before the model sees the result (see hold)
        self.hold(finish)
        return content, is_error, False


class EmbeddedEngine(Engine):
    """Runs in this process on its asyncio loop (the default engine)."""

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
        return await run_agent_standalone(
            agent,
            prompt,
            model=model,
            budget=budget,
            tools=tools,
            approver=approver,
            policy=policy,
            state=state,
        )


async def run_agent_standalone(
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
    from agentorch.agent import StepContext
    from agentorch.budget import Budget
    from agentorch.events.bus import EventBus
    from agentorch.plan import Step
    from agentorch.policy import Policy

    registry = tools if isinstance(tools, ToolRegistry) else ToolRegistry(tools or ())
    if policy is not None:
        registry.policy = policy if isinstance(policy, Policy) else Policy.load(policy)
    bus = EventBus()
    runtime = EmbeddedRuntime(
        run_id=uuid.uuid4().hex[:12],
        budget=budget or Budget(),
        bus=bus,
        registry=registry,
        approver=approver,
    )
    budget_obj = runtime.budget
    reported_to = budget_obj.on_event
    budget_obj.on_event = runtime.emit
    context = StepContext(
        run_id=runtime.run_id,
        task=prompt,
        step=Step(id="main", agent=agent.name, instruction=prompt),
        state=dict(state or {}),
    )
    try:
        return await agent.execute(context, runtime, agent.resolve_model(model))
    finally:
        # Given back as it was (no budget -> runtime -> budget cycle outlives the call).
        budget_obj.on_event = reported_to
        await bus.drain()
