"""A supervisor as a specialist of another supervisor (nesting).

The inner supervisor plans and runs its own steps inside the parent's run: the same runtime, so the
same budget, journal, store and events; its step ids and call keys carry the parent step's id as
a prefix. Delegating to an agent that is already doing the same thing up the chain is a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentorch.agent import Agent, AgentResult, StepContext
from agentorch.errors import ConfigError, DelegationCycleError, PlanError
from agentorch.events.types import BaseEvent
from agentorch.models.base import Model
from agentorch.orchestrator import RunSpec
from agentorch.planner import make_plan
from agentorch.runtime import Runtime
from agentorch.store.base import StepRecord

if TYPE_CHECKING:
    from agentorch.supervisor import Supervisor


class SupervisorAgent(Agent):
    """A supervisor used as a specialist: it plans and runs its own steps inside the parent's run."""

    def __init__(self, inner: Supervisor, **overrides: Any) -> None:
        super().__init__(**overrides)
        self.inner = inner

    def resolve_model(self, override: str | Model | None = None) -> Model:
        return self.inner._router() or _NoModel()

    def offline_model(self) -> Model | None:
        return _NoModel()

    async def execute(self, context: StepContext, runtime: Runtime, model: Model) -> AgentResult:
        from agentorch.models.types import Usage

        stack = context.state.setdefault("_delegation", [])
        key = (self.name, context.instruction)
        if list(key) in stack:
            raise DelegationCycleError(
                f"delegation cycle: {self.name!r} was asked to do the same thing it is already doing"
            )
        stack.append(list(key))
        try:
            prefix = f"{context.step.id}."
            plan = self.inner.plan
            spec = RunSpec(
                task=context.instruction, inputs=dict(context.inputs), state=context.state
            )
            scoped = _PrefixedRuntime(runtime, prefix)
            if plan is None:
                plan = await make_plan(
                    scoped,
                    router=self.inner._router(),
                    agents=self.inner.agents,
                    spec=spec,
                    limits=self.inner.limits,
                )
            orchestrator = self.inner._orchestrator(scoped, plan, spec)
            outcome = await orchestrator.execute(plan)
            if outcome.status != "succeeded":
                causes = [f"{sid}: {r.error}" for sid, r in outcome.steps.items() if r.error]
                message = f"nested supervisor {self.name!r} ended {outcome.status}: " + (
                    "; ".join(causes) or outcome.error or ""
                )
                if any("DelegationCycleError" in c for c in causes):
                    raise DelegationCycleError(message)
                raise PlanError(message)
            output = await orchestrator.synthesize(plan, outcome)
            return AgentResult(output=output, usage=Usage(), messages=[], turns=0)
        finally:
            stack.pop()


class _PrefixedRuntime(Runtime):
    """A parent runtime seen by a nested supervisor: its step ids and call keys carry a prefix."""

    def __init__(self, parent: Runtime, prefix: str) -> None:
        self.parent = parent
        self.prefix = prefix
        self.run_id = parent.run_id

    def now(self) -> float:
        return self.parent.now()

    def new_id(self, prefix: str = "") -> str:
        return self.parent.new_id(prefix)

    def emit(self, event: BaseEvent) -> None:
        if event.step_id is not None and not event.step_id.startswith(self.prefix):
            event.step_id = self.prefix + event.step_id
        self.parent.emit(event)

    async def call_model(self, call: Any) -> Any:
        from dataclasses import replace

        return await self.parent.call_model(replace(call, key=self.prefix + call.key))

    def visible_tools(self, agent: Agent) -> Any:
        return self.parent.visible_tools(agent)

    async def call_tool(self, invocation: Any) -> Any:
        from dataclasses import replace

        return await self.parent.call_tool(replace(invocation, key=self.prefix + invocation.key))

    async def request_approval(self, request: Any) -> Any:
        return await self.parent.request_approval(request)

    def save_step(self, record: StepRecord) -> None:
        self.parent.save_step(record.model_copy(update={"step_id": self.prefix + record.step_id}))

    def load_steps(self) -> dict[str, StepRecord]:
        n = len(self.prefix)
        return {
            sid[n:]: r.model_copy(update={"step_id": sid[n:]})
            for sid, r in self.parent.load_steps().items()
            if sid.startswith(self.prefix)
        }

    def update_run(self, **fields: Any) -> None:
        return None

    def count_tokens(self, model: Model, text: str) -> int:
        return self.parent.count_tokens(model, text)


class _NoModel(Model):
    provider = "none"
    name = "nested-supervisor"

    async def request(
        self, request: Any
    ) -> Any:  # never called: a nested supervisor has its own loop
        raise ConfigError("a nested supervisor has no model of its own")
