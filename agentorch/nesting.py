"""A supervisor as a specialist of another supervisor (nesting).

The inner supervisor plans and runs its own steps inside the parent's run: the same run id,
budget, journal, store, lease and events, so a nested run is checkpointed, resumed and audited with
its parent. Its step ids and call keys carry the parent step's id as a prefix (``ops.book``). Its
agents reach its own tools under its own policy and approver, and under every enclosing
supervisor's policy, which names them by path (``ops.clerk``); the stricter answer wins.
Delegating to an agent that is already doing the same thing up the chain is a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from agentorch.agent import Agent, AgentResult, StepContext
from agentorch.approvals import ApprovalDecision, ApprovalRequest, Approver
from agentorch.errors import (
    ApprovalPending,
    BudgetExceeded,
    ConfigError,
    DelegationCycleError,
    InDoubtError,
    PlanError,
    UserError,
)
from agentorch.events.types import BaseEvent, StepWaiting
from agentorch.models.base import Model
from agentorch.orchestrator import Outcome, RunSpec
from agentorch.planner import make_plan
from agentorch.policy import Policy
from agentorch.policy.layers import Layer, PolicyLayers
from agentorch.runtime import ModelCall, Runtime, ToolInvocation
from agentorch.runtime_base import BaseRuntime
from agentorch.store.base import StepRecord
from agentorch.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from agentorch.models.types import ModelResponse, ToolResultMessage
    from agentorch.supervisor import Supervisor
    from agentorch.tools.base import Tool


class SupervisorAgent(Agent):
    """A supervisor used as a specialist: it plans and runs its own steps inside the parent's run."""

    def __init__(self, inner: Supervisor, **overrides: Any) -> None:
        super().__init__(**overrides)
        # these belong to the run, which is the outermost supervisor's: refuse rather than ignore
        ignored = [
            option
            for option, value in (
                ("budget", inner.budget),
                ("store", inner.store_spec),
                ("on_event", inner.callbacks),
                ("plan_reviewer", inner.plan_reviewer),
            )
            if value
        ]
        if ignored:
            raise ConfigError(
                f"nested supervisor {self.name!r} has its own {', '.join(ignored)}, which a nested "
                "run cannot use: it runs inside the outer run, on its budget, store and events",
                hint="give them to the outermost supervisor (Budget(per_agent=...) caps one agent)",
            )
        self.inner = inner

    def resolve_model(self, override: str | Model | None = None) -> Model:
        return self.inner._router() or _NoModel()

    def offline_model(self) -> Model | None:
        return _NoModel()

    async def execute(self, context: StepContext, runtime: Runtime, model: Model) -> AgentResult:
        # the delegations above this step (not a run-wide list: parallel steps are not a chain)
        chain = runtime.chain if isinstance(runtime, NestedRuntime) else ()
        key = (self.name, context.instruction)
        if key in chain:
            raise DelegationCycleError(
                f"delegation cycle: {self.name!r} was asked to do the same thing it is already doing"
            )
        # a revision is a fresh nested run (ops.r1.write, ...) told what the reviewers asked
        scope = context.step.id + (f".r{context.revision}" if context.revision else "")
        root = runtime.root if isinstance(runtime, NestedRuntime) else runtime
        elsewhere = getattr(root, "run_nested", None)
        if elsewhere is not None:  # the runtime runs it apart (on Temporal: a child workflow)
            result: AgentResult = await elsewhere(self, context, scope, (*chain, key), runtime)
            return result
        return await self.run_inner(
            context, NestedRuntime.under(runtime, self, scope, (*chain, key))
        )

    async def run_inner(self, context: StepContext, scoped: NestedRuntime) -> AgentResult:
        """Plan (unless declared), run and synthesize the inner supervisor's steps on ``scoped``."""
        from agentorch.models.types import Usage

        plan = self.inner.plan
        task = context.instruction
        if context.feedback:
            task += f"\n\nRevision {context.revision}: reviewers asked for changes:\n" + "\n".join(
                f"- {reason}" for reason in context.feedback
            )
        spec = RunSpec(task=task, inputs=dict(context.inputs), state=context.state)
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
        self._raise_unless_succeeded(outcome, scoped)
        output = await orchestrator.synthesize(plan, outcome)
        usage = Usage()  # the nested step reports what its own steps used
        for record in outcome.steps.values():
            if record.status == "done" and record.usage:
                usage = usage + Usage.model_validate(record.usage)
        return AgentResult(output=output, usage=usage, messages=[], turns=0)

    def _raise_unless_succeeded(self, outcome: Outcome, scoped: NestedRuntime) -> None:
        """Report the inner outcome to the parent's scheduler as the step's own outcome."""
        if outcome.status == "succeeded":
            return
        if outcome.status in ("waiting_approval", "in_doubt"):
            waiting = ", ".join(scoped.prefix + s for s in outcome.waiting)
            request_id = scoped.waiting[-1] if scoped.waiting else ""
            if outcome.status == "in_doubt":
                raise InDoubtError(
                    f"nested supervisor {self.name!r} has a tool call in doubt ({waiting})",
                    key=request_id,
                )
            raise ApprovalPending(
                f"nested supervisor {self.name!r} waits for a decision ({waiting})",
                request_id=request_id,
            )
        if isinstance(outcome.exception, BudgetExceeded | UserError):
            raise outcome.exception
        causes = [f"{sid}: {r.error}" for sid, r in outcome.steps.items() if r.error]
        message = f"nested supervisor {self.name!r} ended {outcome.status}: " + (
            "; ".join(causes) or outcome.error or ""
        )
        if any("DelegationCycleError" in c for c in causes):
            raise DelegationCycleError(message)
        raise PlanError(message)


class NestedRuntime(BaseRuntime):
    """The run's runtime as a nested supervisor sees it.

    Step ids, call keys and events carry the nested step's path; tool calls go through the inner
    supervisor's registry under every level's policy; approvals go to each level's approver.
    """

    def __init__(
        self,
        root: Runtime,
        prefix: str,
        registry: ToolRegistry,
        layers: PolicyLayers,
        approvers: tuple[Approver | None, ...],
        chain: tuple[tuple[str, str], ...] = (),
        path: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.root = root
        #: (nested supervisor's agent name, step id) of each level from the run's top down.
        self.path = path
        #: (agent, instruction) of each nested step from the run's top down to this level.
        self.chain = chain
        self.run_id = root.run_id
        #: ``ops.`` (or ``top.ops.`` two levels down): what this level's step ids are stored under.
        self.prefix = prefix
        self.registry = registry
        self.layers = layers
        #: One per layer: who decides for that level (its own approver or the one it inherits).
        self.approvers = approvers
        #: Request ids of this level's waiting steps, in order (the parent step waits on them).
        self.waiting: list[str] = []

    def uses_change(self, change: str) -> bool:
        return self.root.uses_change(change)

    @classmethod
    def under(
        cls,
        parent: Runtime,
        agent: SupervisorAgent,
        step_id: str,
        chain: tuple[tuple[str, str], ...] = (),
    ) -> NestedRuntime:
        """The runtime for ``agent``'s inner supervisor, run as step ``step_id`` of ``parent``."""
        if isinstance(parent, NestedRuntime):
            root, prefix, path = parent.root, parent.prefix, parent.path
            layers, approvers = parent.layers, parent.approvers
        else:
            outer = getattr(parent, "registry", None)
            if not isinstance(outer, ToolRegistry):
                raise ConfigError(
                    f"nested supervisor {agent.name!r} needs a runtime with a tool registry"
                )
            root, prefix, path = parent, "", ()
            layers = PolicyLayers([Layer(outer.policy or Policy.empty())])
            approvers = (getattr(parent, "approver", None),)
        own = agent.inner.registry()
        layers = layers.nested(own.policy, agent.name)
        registry = ToolRegistry(list(own), policy=own.policy)
        registry.rules = layers
        return cls(
            root,
            f"{prefix}{step_id}.",
            registry,
            layers,
            (agent.inner.approver or approvers[0], *approvers),
            chain,
            (*path, (agent.name, step_id)),
        )

    # --- clock, ids, events, state -------------------------------------------------------------

    def now(self) -> float:
        return self.root.now()

    def new_id(self, prefix: str = "") -> str:
        return self.root.new_id(prefix)

    def _step(self, step_id: str | None) -> str:
        """A step id of this level as the run stores it (no id: the nested step itself)."""
        if step_id is None:
            return self.prefix[:-1]
        return step_id if step_id.startswith(self.prefix) else self.prefix + step_id

    def emit(self, event: BaseEvent) -> None:
        event.step_id = self._step(event.step_id)
        if isinstance(event, StepWaiting) and event.request_id:
            self.waiting.append(event.request_id)
        self.root.emit(event)

    def add_secret(self, value: str) -> None:
        add = getattr(self.root, "add_secret", None)
        if add is not None:
            add(value)

    def checkpoint(self) -> AbstractContextManager[None]:
        return self.root.checkpoint()

    def hold(self, write: Callable[[], None]) -> None:
        self.root.hold(write)

    def holding(self) -> AbstractContextManager[None]:
        return self.root.holding()

    def save_step(self, record: StepRecord) -> None:
        self.root.save_step(record.model_copy(update={"step_id": self.prefix + record.step_id}))

    def load_steps(self) -> dict[str, StepRecord]:
        n = len(self.prefix)
        return {
            sid[n:]: r.model_copy(update={"step_id": sid[n:]})
            for sid, r in self.root.load_steps().items()
            if sid.startswith(self.prefix)
        }

    def update_run(self, **fields: Any) -> None:
        return None  # the run record is the parent's

    # --- calls ---------------------------------------------------------------------------------

    async def call_model(self, call: ModelCall) -> ModelResponse:
        return await self.root.call_model(
            replace(call, key=self.prefix + call.key, step_id=self._step(call.step_id))
        )

    async def call_tool(self, invocation: ToolInvocation) -> ToolResultMessage:
        scoped = replace(
            invocation, key=self.prefix + invocation.key, step_id=self._step(invocation.step_id)
        )
        return await self.registry.call(scoped, self)

    async def execute_journaled(
        self,
        invocation: ToolInvocation,
        tool: Tool,
        arguments: dict[str, Any],
        run: Callable[[], Any],
        *,
        started: BaseEvent,
        finished: Callable[[str, bool, bool], BaseEvent],
        approval: ApprovalDecision | None = None,
    ) -> tuple[str, bool, bool]:
        execute = getattr(self.root, "execute_journaled", None)
        if execute is None:
            raise ConfigError("a nested supervisor's tools need a runtime with a journal")
        result: tuple[str, bool, bool] = await execute(
            invocation,
            tool,
            arguments,
            run,
            started=started,
            finished=finished,
            approver=self.approvers[0],
            approval=approval,
        )
        return result

    # --- approvals -----------------------------------------------------------------------------

    async def request_approval(
        self, request: ApprovalRequest, *, approver: Approver | None = None
    ) -> ApprovalDecision:
        """Ask each level whose rules need a person, innermost first; a denial ends it."""
        tool = self.registry.find(request.tool or "") if request.subject == "tool" else None
        if approver is not None or tool is None:
            return await self.root.request_approval(request, approver=approver or self.approvers[0])
        levels = self.layers.asking(request.agent or "", tool, request.arguments)
        asked: list[Approver | None] = []
        decision: ApprovalDecision | None = None
        arguments = request.arguments
        for level in levels:
            who = self.approvers[level]
            if any(who is a for a in asked):
                continue
            layer = self.layers.layers[level]
            name = layer.name(request.agent or "")
            subject = tool if level == 0 else replace(tool, requires_approval=False)
            reason = layer.policy.approval_reason(name, subject, arguments) or request.reason
            ask = request.model_copy(
                update={
                    "request_id": request.request_id + (f"@{level}" if asked else ""),
                    "agent": name,
                    "arguments": arguments,
                    "reason": reason,
                }
            )
            asked.append(who)
            decision = await self.root.request_approval(ask, approver=who)
            if not decision.approved:
                return decision
            if decision.arguments is not None:
                arguments = decision.arguments
        assert decision is not None  # ``asking`` names at least one level
        if arguments != request.arguments and decision.arguments is None:
            decision = decision.model_copy(update={"arguments": arguments})
        return decision


def agent_tree(agents: Mapping[str, Agent]) -> tuple[list[str], list[str]]:
    """Every agent path under a supervisor (``ops``, ``ops.clerk``, ...) and every tool name.

    Policies name nested agents by these paths; the tool names include the nested supervisors'
    own tools.
    """
    paths: list[str] = []
    tools: set[str] = set()
    seen: set[int] = set()

    def walk(level: Mapping[str, Agent], prefix: str) -> None:
        for name, agent in level.items():
            paths.append(prefix + name)
            if isinstance(agent, SupervisorAgent) and id(agent.inner) not in seen:
                seen.add(id(agent.inner))
                tools.update(agent.inner.registry().names())
                walk(agent.inner.agents, f"{prefix}{name}.")

    walk(agents, "")
    return paths, sorted(tools)


class _NoModel(Model):
    provider = "none"
    name = "nested-supervisor"

    async def request(
        self, request: Any
    ) -> Any:  # never called: a nested supervisor has its own loop
        raise ConfigError("a nested supervisor has no model of its own")
