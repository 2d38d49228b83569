"""A nested supervisor's step as a child workflow of the run's workflow.

The child plans and runs the inner supervisor's steps (the same ``SupervisorAgent.run_inner`` the
embedded engine runs) on its own workers, writing to the same run in the store. The run's budget
stays in one place: every reservation, settlement, release and charge of the child is an update
on the run's workflow, sent by an activity with a deterministic update id, so a retried activity
is applied once and the whole tree can never pass its limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from agentorch.agent import StepContext
    from agentorch.budget import Budget
    from agentorch.errors import AgentOrchError, BudgetExceeded, ConfigError
    from agentorch.models.base import Model
    from agentorch.models.types import Usage
    from agentorch.nesting import NestedRuntime, SupervisorAgent
    from agentorch.plan import Step
    from agentorch.result import dump_output
    from agentorch.runtime import ModelCall, Runtime
    from agentorch.supervisor import Supervisor
    from agentorch.temporal import _types as t
    from agentorch.temporal._apps import app
    from agentorch.temporal.runtime import TemporalRuntime, _unwrap
    from agentorch.temporal.sandbox import load_tokenizers
    from agentorch.tools.registry import ToolRegistry


@dataclass
class _Held:
    """A reservation the run's workflow holds for one of this child's calls."""

    id: str
    usd: float
    tokens: int
    max_tokens: int
    prompt_tokens: int


class ChildRuntime(TemporalRuntime):
    """The Temporal runtime of a child workflow: its ledger is the run's workflow's."""

    def __init__(
        self, *, spec: t.RunInput, supervisor: Supervisor, registry: ToolRegistry, root_id: str
    ) -> None:
        super().__init__(
            spec=spec, supervisor=supervisor, budget=Budget(), registry=registry, root_id=root_id
        )
        self._charges = 0

    async def _ledger(self, op: t.BudgetOp) -> dict[str, Any]:
        try:
            result: dict[str, Any] = await workflow.execute_activity(
                t.BUDGET_OP,
                op,
                result_type=dict,
                activity_id=op.op_id,
                start_to_close_timeout=timedelta(seconds=self.timeouts.store_seconds),
                retry_policy=RetryPolicy(
                    maximum_attempts=self.timeouts.max_attempts,
                    non_retryable_error_types=["BudgetExceeded", "ConfigError"],
                ),
            )
        except ActivityError as exc:
            raise _unwrap(exc) from None
        return result

    def _op(self, kind: str, call: ModelCall, **fields: Any) -> t.BudgetOp:
        op_id = f"{workflow.info().workflow_id}:{call.key}:{kind}"
        return t.BudgetOp(
            root_id=self.root_id,
            op_id=op_id,
            kind=kind,
            agent=call.agent,
            step_id=call.step_id,
            call_key=call.key,
            **fields,
        )

    async def _reserve(self, call: ModelCall, candidates: list[tuple[str, str]]) -> Any:
        model = call.model
        held = await self._ledger(
            self._op(
                "reserve",
                call,
                model_id=model.id,
                price_key=model.price_key,
                encoding=model.encoding,
                candidates=[list(c) for c in candidates],
                request=call.request.model_dump(mode="json"),
            )
        )
        return _Held(**held)

    async def _release(self, call: ModelCall, reservation: Any) -> None:
        await self._ledger(self._op("release", call, reservation=reservation.id))

    async def _charge(self, call: ModelCall, usage: Usage) -> None:
        self._charges += 1
        op = self._op("charge", call, model_id=call.model.id, usage=usage.model_dump())
        op.op_id += f".{self._charges}"
        await self._ledger(op)

    async def _settle(
        self, call: ModelCall, reservation: Any, usage: Usage, answered: Model
    ) -> tuple[Usage, BudgetExceeded | None]:
        out = await self._ledger(
            self._op(
                "settle",
                call,
                reservation=reservation.id,
                model_id=answered.id,
                price_key=answered.price_key,
                usage=usage.model_dump(),
            )
        )
        halted = out.get("halted")
        return Usage.model_validate(out["usage"]), BudgetExceeded(halted) if halted else None


@workflow.defn(name=t.NESTED_WORKFLOW)
class NestedWorkflow:
    """One nested supervisor's step of a run."""

    def __init__(self) -> None:
        self._decided: set[str] = set()
        self._runtime: ChildRuntime | None = None

    @workflow.signal(name=t.DECIDED_SIGNAL)
    async def approval_decided(self, request_id: str) -> None:
        """A decision is in the store: this level or one below may be waiting for it."""
        self._decided.add(request_id)
        if self._runtime is not None:
            self._runtime.decided.add(request_id)
            for child in sorted(self._runtime.children):
                await workflow.get_external_workflow_handle(child).signal(
                    t.DECIDED_SIGNAL, request_id
                )

    @workflow.run
    async def run(self, arg: t.NestedInput) -> t.NestedOutput:
        chain = tuple((c[0], c[1]) for c in arg.chain)
        try:
            supervisor = app(arg.spec.app)
            load_tokenizers(supervisor)
            registry = supervisor.registry()
            levels = _levels(supervisor, arg.levels)
        except AgentOrchError as exc:
            raise ApplicationError(str(exc), type="ConfigError", non_retryable=True) from None
        runtime = ChildRuntime(
            spec=arg.spec, supervisor=supervisor, registry=registry, root_id=arg.root_id
        )
        runtime.decided |= self._decided
        self._runtime = runtime
        # the levels above this one, rebuilt as the embedded engine nests them (step ids,
        # policy layers, approvers); only the innermost level runs here
        scoped: Runtime = runtime
        for depth, (agent, scope) in enumerate(levels):
            scoped = NestedRuntime.under(scoped, agent, scope, chain[: depth + 1])
        assert isinstance(scoped, NestedRuntime)
        agent = levels[-1][0]
        context = StepContext(
            run_id=arg.spec.run_id,
            task=arg.spec.task,
            step=Step.model_validate(arg.step),
            inputs=dict(arg.inputs),
            state=dict(arg.state),
            feedback=list(arg.feedback),
            revision=arg.revision,
        )
        try:
            result = await agent.run_inner(context, scoped)
        except AgentOrchError as exc:  # the parent's step gets it as the same error
            await runtime.write()
            raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from None
        await runtime.write()
        return t.NestedOutput(
            output=dump_output(result.output), usage=result.usage.model_dump(mode="json")
        )


def _levels(root: Supervisor, levels: Sequence[Sequence[str]]) -> list[tuple[SupervisorAgent, str]]:
    """The nested supervisors' agents (with their step ids) from the run's top down."""
    found: list[tuple[SupervisorAgent, str]] = []
    sup = root
    for name, scope in levels:
        agent = sup.agents.get(name)
        if not isinstance(agent, SupervisorAgent):
            path = ".".join(a.name for a, _ in found)
            raise ConfigError(
                f"this worker's app has no nested supervisor {name!r}"
                + (f" under {path!r}" if path else "")
            )
        found.append((agent, scope))
        sup = agent.inner
    if not found:
        raise ConfigError("a nested supervisor's workflow was started without its level")
    return found
