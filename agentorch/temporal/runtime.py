"""The side-effect seam inside a Temporal workflow.

Clock and ids come from the workflow; the budget is reserved and settled in the workflow (its
owner); model and tool calls are activities keyed by the journal key; store writes (events, steps,
the run record) are buffered in order and applied by a local activity before the next call, so the
configured store holds the same run, event log and audit chain as an embedded run's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from agentorch import changes, errors
    from agentorch.agent import AgentResult
    from agentorch.approvals import ApprovalDecision, ApproveAll, Approver
    from agentorch.errors import (
        AgentOrchError,
        AuditError,
        BudgetExceeded,
        ConfigError,
        ProviderError,
        UserError,
    )
    from agentorch.events.types import (
        BaseEvent,
    )
    from agentorch.models.types import (
        ModelRequest,
        ModelResponse,
        ToolResultMessage,
        Usage,
    )
    from agentorch.nesting import NestedRuntime
    from agentorch.runtime import ModelCall, Runtime, ToolInvocation
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
    from agentorch.store.base import StepRecord
    from agentorch.temporal import _types as t
    from agentorch.temporal._approvals import TemporalApprovals
    from agentorch.temporal._tree import tool_level
    from agentorch.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from agentorch.agent import StepContext
    from agentorch.budget import Budget
    from agentorch.models.base import Model
    from agentorch.nesting import SupervisorAgent
    from agentorch.supervisor import Supervisor
    from agentorch.tools.base import Tool

#: Errors an activity reports that no retry can fix: the run gets them as these exceptions.
_ERRORS: dict[str, type[AgentOrchError]] = {
    "ProviderError": ProviderError,
    "BudgetExceeded": BudgetExceeded,
    "AuditError": AuditError,
    "ConfigError": ConfigError,
    "UserError": UserError,
}


def _unwrap(exc: ActivityError, model: Model | None = None) -> AgentOrchError:
    """The agentorch error an activity reported (a provider's failure unless it says otherwise)."""
    cause = exc.cause
    if isinstance(cause, ApplicationError):
        message, kind = cause.message, cause.type or ""
    else:
        message, kind = f"activity failed: {cause or exc}", ""
    if kind in _ERRORS and kind != "ProviderError":
        return _ERRORS[kind](message)
    provider, name = (model.provider, model.name) if model is not None else ("temporal", "activity")
    return ProviderError(
        message.removeprefix(f"{provider}:{name}: "), provider=provider, model=name
    )


def _nested_error(exc: ChildWorkflowError) -> AgentOrchError:
    """A nested supervisor's failure as the agentorch error its workflow ended with."""
    cause = exc.cause
    if not isinstance(cause, ApplicationError):
        return errors.PlanError(f"nested supervisor's workflow failed: {cause or exc}")
    kind = getattr(errors, cause.type or "", None)
    message = cause.message
    if kind is errors.ApprovalPending:
        return errors.ApprovalPending(message, request_id="")
    if kind is errors.InDoubtError:
        return errors.InDoubtError(message, key="")
    if isinstance(kind, type) and issubclass(kind, AgentOrchError) and kind is not ProviderError:
        return kind(message)
    return errors.PlanError(message)


class TemporalRuntime(TemporalApprovals, BaseRuntime):
    """One run's runtime inside its workflow."""

    in_doubt_cause = "started on a worker that was lost"

    def __init__(
        self,
        *,
        spec: t.RunInput,
        supervisor: Supervisor,
        budget: Budget,
        registry: ToolRegistry,
        root_id: str | None = None,
    ) -> None:
        self.run_id = spec.run_id
        #: The run's workflow: the owner of the tree's budget ledger (this one unless a child).
        self.root_id = root_id or workflow.info().workflow_id
        self.spec = spec
        self.supervisor = supervisor
        self.budget = budget
        self.registry = registry
        self.approver: Approver | None = (
            ApproveAll("cli:approve-all") if spec.approve_all else supervisor.approver
        )
        self.timeouts = spec.timeouts
        self._ops: list[dict[str, Any]] = []
        self._secrets: list[str] = []
        self._seq = 0
        self._write_lock = asyncio.Lock()
        self._approval_lock = asyncio.Lock()
        #: Request ids ``agentorch approve`` said it decided (the decision itself is in the store).
        self.decided: set[str] = set()
        #: Child workflows running nested supervisors' steps (they hear of decisions from here).
        self.children: set[str] = set()
        #: Reservations held for child workflows' calls, by their operation id.
        self.held: dict[str, Any] = {}
        #: The behaviour changes this run follows: asked once, first thing, so a new run's
        #: markers open its history and a run recorded before a change keeps the old way.
        self.changes = frozenset(c for c in changes.ALL if workflow.patched(c))

    def uses_change(self, change: str) -> bool:
        return change in self.changes

    # --- clock, ids, events, state ---------------------------------------------------------------

    def now(self) -> float:
        return workflow.now().timestamp()

    def new_id(self, prefix: str = "") -> str:
        return f"{prefix}{workflow.uuid4().hex[:12]}"

    def emit(self, event: BaseEvent) -> None:
        event.run_id = self.run_id
        if not event.ts:
            event.ts = self.now()
        if event.ephemeral:
            return  # live views read the store; streamed text stays with the activity
        self._ops.append(
            {
                "op": "event",
                "kind": event.kind,
                "ts": event.ts,
                "payload": event.model_dump(mode="json"),
            }
        )

    def add_secret(self, value: str) -> None:
        self._secrets.append(value)

    def save_step(self, record: StepRecord) -> None:
        self._ops.append({"op": "step", "record": record.model_dump(mode="json")})

    def load_steps(self) -> dict[str, StepRecord]:
        return {}  # a workflow's progress is its history: it never restarts from the store

    def update_run(self, **fields: Any) -> None:
        self._ops.append({"op": "run", "fields": {**fields, "updated_at": self.now()}})

    async def drain(self, timeout: float | None = None) -> bool:
        """Write what is buffered (the supervisor's driver calls this as it would a bus's)."""
        await self.write()
        return True

    def _batch(self) -> t.StoreOps:
        self._seq += 1
        ops, self._ops = self._ops, []
        secrets, self._secrets = self._secrets, []
        return t.StoreOps(
            run_id=self.run_id, app=self.spec.app, seq=self._seq, ops=ops, secrets=secrets
        )

    async def _local(self, name: str, arg: Any, result_type: type[Any]) -> Any:
        """A store activity (local: it runs beside the workflow), writes applied in order."""
        async with self._write_lock:
            if isinstance(arg, t.StoreOps) and not arg.ops and not arg.secrets:
                return None
            try:
                return await workflow.execute_local_activity(
                    name,
                    arg,
                    result_type=result_type,
                    start_to_close_timeout=timedelta(seconds=self.timeouts.store_seconds),
                    retry_policy=RetryPolicy(
                        maximum_attempts=self.timeouts.max_attempts,
                        non_retryable_error_types=["AuditError", "ConfigError", "UserError"],
                    ),
                )
            except ActivityError as exc:
                raise _unwrap(exc) from None

    async def write(self) -> None:
        """Apply the buffered writes now (before a call, and when the run ends or waits)."""
        if self._ops or self._secrets:
            await self._local(t.STORE_WRITE, self._batch(), type(None))

    def _queue(self, agent: str) -> str | None:
        return self.spec.routes.get(agent)

    async def _activity(
        self, name: str, arg: Any, result_type: type[Any], *, agent: str, seconds: float
    ) -> Any:
        return await workflow.execute_activity(
            name,
            arg,
            result_type=result_type,
            task_queue=self._queue(agent),
            activity_id=f"{arg.key}#{getattr(arg, 'run_again', 0)}",
            start_to_close_timeout=timedelta(seconds=seconds),
            heartbeat_timeout=timedelta(seconds=self.timeouts.heartbeat_seconds),
            retry_policy=RetryPolicy(
                maximum_attempts=self.timeouts.max_attempts,
                non_retryable_error_types=[t.IN_DOUBT, *_ERRORS],
            ),
        )

    # --- model calls -----------------------------------------------------------------------------

    async def call_model(self, call: ModelCall) -> ModelResponse:
        model = call.model
        candidates = [
            (m.id, m.price_key) for m in getattr(model, "candidates", ()) if m is not model
        ]
        reservation = await self._reserve(call, candidates)
        request = capped(call.request, reservation)
        self.emit(call_started(call, reservation))
        await self.write()
        arg = t.ModelCallInput(
            app=self.spec.app,
            flush=t.StoreOps(run_id=self.run_id),
            key=f"model:{call.key}",
            agent=call.agent,
            step_id=call.step_id,
            model_id=model.id,
            request=request.model_dump(mode="json"),
            reserved_usd=reservation.usd,
            reserved_tokens=reservation.tokens,
            started_at=self.now(),
        )
        try:
            out: t.ModelCallOutput = await self._activity(
                t.MODEL_CALL,
                arg,
                t.ModelCallOutput,
                agent=call.agent,
                seconds=self.timeouts.model_seconds,
            )
        except ActivityError as exc:
            await self._release(call, reservation)
            error = _unwrap(exc, model)
            self.emit(call_failed(call, error))
            raise error from None
        for attempt in out.killed:  # attempts lost with their worker may have been billed
            await self._charge(
                call,
                Usage(
                    input_tokens=int(attempt.get("reserved_tokens", 0)),
                    cost_usd=float(attempt.get("reserved_usd", 0.0)),
                    requests=1,
                ),
            )
        response = ModelResponse.model_validate(out.response)
        self.learn_secrets(response)
        answered = answering_model(model, response)
        usage, stop = await self._settle(
            call,
            reservation,
            usage_or_estimate(response, reservation.prompt_tokens, answered.encoding),
            answered,
        )
        response = response.model_copy(update={"usage": usage})
        self._ops.append(
            {
                "op": "journal_finish",
                "key": arg.key,
                "result": response.model_dump(mode="json"),
                "usage": usage.model_dump(),
                "finished_at": self.now(),
            }
        )
        self.emit(call_finished(call, model, response, latency_ms=out.latency_ms, replayed=False))
        if stop is not None:
            raise stop  # this call (or one beside it) overran its reservation
        return response

    # --- the ledger (the run's workflow owns it; a child workflow asks it by update) -------------

    async def _reserve(self, call: ModelCall, candidates: list[tuple[str, str]]) -> Any:
        model = call.model
        return self.budget.reserve(
            agent=call.agent,
            model_id=model.id,
            price_key=model.price_key,
            encoding=model.encoding,
            request=call.request,
            step_id=call.step_id,
            candidates=candidates,
        )

    async def _release(self, call: ModelCall, reservation: Any) -> None:
        self.budget.release(reservation)

    async def _charge(self, call: ModelCall, usage: Usage) -> None:
        self.budget.charge(
            agent=call.agent, model_id=call.model.id, step_id=call.step_id, usage=usage
        )

    async def _settle(
        self, call: ModelCall, reservation: Any, usage: Usage, answered: Model
    ) -> tuple[Usage, BudgetExceeded | None]:
        settled = self.budget.settle(
            reservation,
            usage,
            model_id=answered.id,
            price_key=answered.price_key,
            call_key=call.key,
        )
        try:
            self.budget.raise_if_halted()
        except BudgetExceeded as exc:
            return settled, exc
        return settled, None

    def ledger(self, op: t.BudgetOp) -> dict[str, Any]:
        """A child workflow's ledger operation, applied here, in order (the update's handler)."""
        budget = self.budget
        if op.kind == "reserve":
            assert op.request is not None
            try:
                held = budget.reserve(
                    agent=op.agent,
                    model_id=op.model_id,
                    price_key=op.price_key,
                    encoding=op.encoding,
                    request=ModelRequest.model_validate(op.request),
                    step_id=op.step_id,
                    candidates=[(c[0], c[1]) for c in op.candidates],
                )
            except BudgetExceeded as exc:
                raise ApplicationError(
                    str(exc), type="BudgetExceeded", non_retryable=True
                ) from None
            self.held[op.op_id] = held
            return {
                "id": op.op_id,
                "usd": held.usd,
                "tokens": held.tokens,
                "max_tokens": held.max_tokens,
                "prompt_tokens": held.prompt_tokens,
            }
        if op.kind == "release":
            budget.release(self.held.pop(op.reservation))
            return {}
        usage = Usage.model_validate(op.usage or {})
        if op.kind == "charge":
            budget.charge(agent=op.agent, model_id=op.model_id, step_id=op.step_id, usage=usage)
            return {}
        settled = budget.settle(
            self.held.pop(op.reservation),
            usage,
            model_id=op.model_id,
            price_key=op.price_key,
            call_key=op.call_key,
        )
        try:
            budget.raise_if_halted()
            halted = None
        except BudgetExceeded as exc:
            halted = str(exc)
        return {"usage": settled.model_dump(mode="json"), "halted": halted}

    # --- nested supervisors: child workflows -----------------------------------------------------

    async def run_nested(
        self,
        agent: SupervisorAgent,
        context: StepContext,
        scope: str,
        chain: tuple[tuple[str, str], ...],
        parent: Runtime,
    ) -> AgentResult:
        """Run a nested supervisor's step as a child workflow of this one, at any depth (its
        calls reserve on the run's ledger); ``parent`` is the runtime the step runs in here."""
        from agentorch.store.base import jsonable_state

        above = parent.path if isinstance(parent, NestedRuntime) else ()
        prefix = parent.prefix if isinstance(parent, NestedRuntime) else ""
        await self.write()
        arg = t.NestedInput(
            spec=self.spec,
            root_id=self.root_id,
            levels=[list(level) for level in (*above, (agent.name, scope))],
            chain=[list(c) for c in chain],
            step=context.step.model_dump(mode="json"),
            inputs=dict(context.inputs),
            state=jsonable_state(context.state),
            feedback=list(context.feedback),
            revision=context.revision,
        )
        child_id = f"{self.root_id}/{prefix}{scope}"
        self.children.add(child_id)
        try:
            out: t.NestedOutput = await workflow.execute_child_workflow(
                t.NESTED_WORKFLOW, arg, id=child_id, result_type=t.NestedOutput
            )
        except ChildWorkflowError as exc:
            raise _nested_error(exc) from None
        finally:
            self.children.discard(child_id)
        return AgentResult(
            output=out.output, usage=Usage.model_validate(out.usage), messages=[], turns=0
        )

    # --- tool calls ------------------------------------------------------------------------------

    async def call_tool(self, invocation: ToolInvocation) -> ToolResultMessage:
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
        """The call runs as an activity on a worker (``run`` is this process's: not used)."""
        from agentorch.store.base import jsonable_state

        self.emit(started)
        await self.write()
        key = f"tool:{invocation.key}"
        arg = t.ToolCallInput(
            app=self.spec.app,
            flush=t.StoreOps(run_id=self.run_id),
            key=key,
            agent=invocation.agent,
            step_id=invocation.step_id,
            level=tool_level(self.supervisor, tool),
            tool=tool.name,
            call_id=invocation.call.id,
            arguments=_jsonable(arguments),
            stored_arguments=redacted_args(tool, arguments),
            request_hash=request_hash(arguments),
            state=jsonable_state(invocation.state),
            approval=approval.model_dump(mode="json") if approval is not None else None,
            started_at=self.now(),
        )
        while True:
            try:
                out: t.ToolCallOutput = await self._activity(
                    t.TOOL_CALL,
                    arg,
                    t.ToolCallOutput,
                    agent=invocation.agent,
                    seconds=(tool.timeout or self.timeouts.tool_seconds) + 30,
                )
                break
            except ActivityError as exc:
                cause = exc.cause
                if not (isinstance(cause, ApplicationError) and cause.type == t.IN_DOUBT):
                    raise _unwrap(exc) from None
            outcome = await self.resolve_in_doubt(invocation, tool, arg.stored_arguments, approver)
            if outcome is None:  # run it again: a fresh attempt under a new activity id
                arg = arg.model_copy(update={"run_again": arg.run_again + 1})
                continue
            self._ops.append(
                {
                    "op": "journal_finish",
                    "key": key,
                    "result": {"content": outcome, "is_error": False},
                    "finished_at": self.now(),
                }
            )
            self.emit(finished(outcome, False, True))
            return outcome, False, True
        self.emit(finished(out.content, out.is_error, out.replayed))
        return out.content, out.is_error, out.replayed


def _jsonable(arguments: dict[str, Any]) -> dict[str, Any]:
    from pydantic_core import to_jsonable_python

    value = to_jsonable_python(arguments, fallback=str)
    return value if isinstance(value, dict) else {}
