"""The ``Supervisor``: plans a task, delegates steps to specialists, reviews, escalates, resumes."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from agentorch._loop import run_sync
from agentorch._spend import restore_spend
from agentorch.agent import Agent
from agentorch.approvals import Approver
from agentorch.budget import Budget
from agentorch.engine import EmbeddedRuntime
from agentorch.errors import (
    AgentOrchError,
    BudgetExceeded,
    ConfigError,
    DuplicateNameError,
    LeaseLostError,
    PriceError,
    RunCancelled,
    UserError,
)
from agentorch.events.bus import EventBus
from agentorch.events.types import (
    BaseEvent,
    PlanMade,
    RunFinished,
    RunPaused,
    RunResumed,
    RunStarted,
)
from agentorch.models.base import Model
from agentorch.orchestrator import EscalationPolicy, Limits, Orchestrator, Outcome, RunSpec
from agentorch.plan import Plan
from agentorch.planner import make_plan, review_plan
from agentorch.result import RunResult, dump_output, final_output, step_results
from agentorch.runtime import Runtime
from agentorch.store.base import RESUMABLE, ApprovalRecord, Store
from agentorch.store.redacting import RedactingStore
from agentorch.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from agentorch._new_run import NewRun
    from agentorch.leases import Lease
    from agentorch.policy import Policy
    from agentorch.temporal import Temporal
    from agentorch.tools.base import Tool


class Drains(Protocol):
    """What the driver needs of the event path: waiting until the events are delivered."""

    async def drain(self, timeout: float | None = ...) -> bool: ...


class Supervisor:
    """Plans a task into steps, runs each on its specialist, reviews, escalates, synthesizes."""

    def __init__(
        self,
        agents: Sequence[Agent | type[Agent]] = (),
        *,
        model: str | Model | None = None,
        router_model: str | Model | None = None,
        budget: Budget | None = None,
        store: str | Store | None = None,
        approver: Approver | None = None,
        tools: ToolRegistry | Iterable[Tool | Callable[..., Any]] | None = None,
        policy: Policy | str | Path | None = None,
        plan: Plan | None = None,
        limits: Limits | None = None,
        escalation: EscalationPolicy | None = None,
        on_event: Callable[[BaseEvent], Any] | Sequence[Callable[[BaseEvent], Any]] | None = None,
        plan_reviewer: Callable[[Plan], Plan | Awaitable[Plan]] | None = None,
        engine: str = "models",
        retries: int = 3,
        stream: bool = False,
        name: str = "supervisor",
        description: str = "Plans a task and delegates it to specialists.",
    ) -> None:
        from agentorch._checks import check_supervisor_args

        check_supervisor_args(locals())
        self.agents: dict[str, Agent] = {}
        for item in agents:
            agent = item() if isinstance(item, type) else item
            if agent.name in self.agents:
                raise DuplicateNameError(f"two specialists are named {agent.name!r}")
            self.agents[agent.name] = agent
        if engine not in ("models", "offline"):
            raise ConfigError(f"engine must be 'models' or 'offline', not {engine!r}")
        self.model = model
        self.router_model = router_model
        self.budget = budget
        self.store_spec = store
        self.approver = approver
        self._tools = tools
        self.policy_spec = policy
        self.plan = plan
        self.limits = limits or Limits()
        self.escalation = escalation or EscalationPolicy()
        callbacks = [on_event] if callable(on_event) else list(on_event or [])
        self.callbacks: list[Callable[[BaseEvent], Any]] = callbacks
        #: Called with the plan before any step runs; returns the plan to run (edited or as is)
        #: or raises (e.g. ``RunCancelled``) to stop the run before anything else is spent.
        self.plan_reviewer = plan_reviewer
        self.engine = engine
        self.retries = retries
        self.stream_text = stream
        self.name = name
        self.description = description
        self._store: Store | None = None
        from agentorch.events.redact import Redactor

        #: One redactor for the supervisor's runs: the bus and the store both pass through it.
        self.redactor = Redactor()
        self._registry: ToolRegistry | None = None
        self._models: dict[str, Model] = {}

    # --- wiring --------------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[BaseEvent], Any]) -> None:
        self.callbacks.append(callback)

    @property
    def store(self) -> Store | None:
        if self._store is None and self.store_spec is not None:
            from agentorch.store import open_store

            self._store = RedactingStore(open_store(self.store_spec), self.redactor)
        return self._store

    def registry(self) -> ToolRegistry:
        if self._registry is None:
            if isinstance(self._tools, ToolRegistry):
                registry = self._tools
            elif self._tools is None:
                from agentorch.discovery import discover_tools

                registry = ToolRegistry(discover_tools())
            else:
                registry = ToolRegistry(self._tools)
            registry.max_argument_bytes = self.limits.max_tool_argument_bytes
            registry.max_result_bytes = self.limits.max_tool_result_bytes
            if self.policy_spec is not None:
                from agentorch.policy import Policy

                policy = (
                    self.policy_spec
                    if isinstance(self.policy_spec, Policy)
                    else Policy.load(self.policy_spec)
                )
                from agentorch.nesting import agent_tree

                paths, nested_tools = agent_tree(self.agents)
                policy.validate_names(paths, {*registry.names(), *nested_tools})
                registry.policy = policy
            for agent in self.agents.values():
                for name in agent.tools or ():
                    if (
                        ":" not in name
                        and name not in registry
                        and "*" not in name
                        and "<=" not in name
                    ):
                        raise ConfigError(
                            f"agent {agent.name!r} lists unknown tool {name!r}",
                            hint=f"registered tools: {', '.join(registry.names()) or 'none'}",
                        )
            self._registry = registry
        return self._registry

    def _resolve(self, spec: str | Model) -> Model:
        from agentorch.models.wrappers import wrap_model

        key = spec if isinstance(spec, str) else f"obj:{id(spec)}"
        if key not in self._models:
            from agentorch.models import infer_model

            self._models[key] = wrap_model(infer_model(spec), retries=self.retries)
            self._learn_key(self._models[key])
        return self._models[key]

    def _learn_key(self, model: Model) -> None:
        """An API key given to a model object directly is redacted like one from the environment."""
        from agentorch.models.wrappers import model_candidates

        for candidate in (model, *model_candidates(model)):
            for attr in ("api_key", "_api_key"):
                value = getattr(candidate, attr, None)
                if isinstance(value, str) and value:
                    self.redactor.add(value)

    def model_for(self, agent: Agent, override: str | None = None) -> Model:
        from agentorch.nesting import SupervisorAgent

        if isinstance(agent, SupervisorAgent):  # plans and routes with its own models
            return agent.resolve_model()
        if self.engine == "offline":
            offline = agent.offline_model()
            if offline is None:
                raise ConfigError(
                    f"agent {agent.name!r} has no offline model",
                    hint="set a provider key (e.g. OPENAI_API_KEY) and choose a model with --model",
                )
            return offline
        spec = override or agent.model or self.model
        if spec is None:
            raise ConfigError(
                f"agent {agent.name!r} has no model and the supervisor has no default model",
                hint="pass model='openai:gpt-4.1-mini' to the Supervisor or set `model` on the agent class",
            )
        return self._resolve(spec)

    def _router(self) -> Model | None:
        spec = self.router_model or self.model
        if self.engine == "offline" or spec is None:
            return None
        return self._resolve(spec)

    def _synthesizer(self) -> Model | None:
        if self.engine == "offline" or self.model is None:
            return None
        return self._resolve(self.model)

    # --- running -------------------------------------------------------------------------------

    async def run(
        self,
        task: str,
        *,
        files: Sequence[str | Path] = (),
        inputs: Mapping[str, str] | None = None,
        plan: Plan | None = None,
        state: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        workflow: str | None = None,
        temporal: Temporal | None = None,
    ) -> RunResult:
        """Run a task to a terminal state (succeeded, failed, waiting_approval, budget_exceeded, ...).

        With ``temporal`` (``agentorch.temporal.Temporal``) the run executes as a workflow on
        that Temporal service's workers instead of in this process; its events still reach this
        supervisor's subscribers.
        """
        if temporal is not None:
            return await temporal.run(
                self,
                task,
                files=files,
                inputs=inputs,
                plan=plan,
                state=state,
                run_id=run_id,
                workflow=workflow,
            )
        new = self.new_run(task, files, inputs, plan, state, run_id, workflow)
        spec, declared, budget, record = new.spec, new.declared, new.budget, new.record
        fresh_id, run_id = run_id is None, record.run_id
        registry = self.registry()
        store = self.store
        runtime, bus = self._runtime(run_id, budget, registry, store)
        policy_hash = record.policy_hash
        create: Callable[[], None] | None = None
        if store is not None:
            record.created_at = record.updated_at = runtime.now()
            create = functools.partial(store.create_run, record)
            runtime.created_run()  # nothing of it is in the store to read back
            # A new id nobody else knows: the run's row, lease and first event can wait for
            # its first transaction (an id the caller chose may be taken: checked at once).
            runtime.create_with_first_write = fresh_id

        def started() -> None:
            runtime.emit(
                RunStarted(
                    task=task,
                    workflow=workflow,
                    files=list(record.spec["files"]),
                    policy_hash=policy_hash,
                    budget=budget.to_dict(),
                    agents=sorted(self.agents),
                    engine=self.engine,
                )
            )

        return await self._drive(runtime, bus, budget, spec, declared, store, started, create)

    def new_run(
        self,
        task: str,
        files: Sequence[str | Path] = (),
        inputs: Mapping[str, str] | None = None,
        plan: Plan | None = None,
        state: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        workflow: str | None = None,
    ) -> NewRun:
        """Check a run's arguments and build its record (whatever engine then runs it)."""
        from agentorch._new_run import new_run

        return new_run(self, task, files, inputs, plan, state, run_id, workflow)

    def run_sync(self, task: str, **kwargs: Any) -> RunResult:
        """``run`` for synchronous code; refuses inside a running event loop."""
        return run_sync(self.run(task, **kwargs))

    async def stream(self, task: str, **kwargs: Any) -> AsyncIterator[BaseEvent]:
        """Run the task and yield its events as they happen; the last one is ``run_finished``."""
        queue: asyncio.Queue[BaseEvent | None] = asyncio.Queue()
        self.callbacks.append(queue.put_nowait)

        async def go() -> RunResult:
            try:
                return await self.run(task, **kwargs)
            finally:
                queue.put_nowait(None)

        runner = asyncio.create_task(go())
        try:
            while (event := await queue.get()) is not None:
                yield event
            await runner
        finally:
            self.callbacks.remove(queue.put_nowait)
            if not runner.done():
                runner.cancel()

    async def resume(
        self,
        run_id: str,
        *,
        budget: Budget | None = None,
        max_concurrent_steps: int | None = None,
    ) -> RunResult:
        """Continue a run that was killed, interrupted, waiting for approval or stopped by its budget.

        ``max_concurrent_steps`` replaces the steps the run keeps in flight from here on (its
        recorded value, else ``Limits``); the new value is recorded, so a later resume keeps it.
        """
        from agentorch.limits import CONCURRENT_STEPS_KEY

        if max_concurrent_steps is not None:
            from agentorch._checks import check_int

            check_int("resume", "max_concurrent_steps", max_concurrent_steps, minimum=1)
        store = self.store
        if store is None:
            raise ConfigError(
                "resume needs a store", hint="pass store='sqlite:///runs.db' to the Supervisor"
            )
        record = store.get_run(run_id)
        if "temporal" in record.spec:  # resuming it here could run its calls a second time
            raise UserError(
                f"run {record.run_id} runs on Temporal: its workflow continues it, not resume",
                hint=f"see it with `agentorch show {record.run_id}`; decide its approvals with "
                "`agentorch approve`",
            )
        if record.status == "succeeded":
            raise UserError(f"run {record.run_id} already succeeded; nothing to resume")
        if record.status not in RESUMABLE:
            raise UserError(f"run {record.run_id} is {record.status} and cannot be resumed")
        run_id = record.run_id
        if budget is None:
            budget = Budget.from_dict(record.budget) if record.budget else Budget()
        else:
            budget = budget.fresh()
        registry = self.registry()
        runtime, bus = self._runtime(run_id, budget, registry, store)
        runtime.check_audit()  # act on nothing the audit log does not vouch for
        spec = RunSpec(
            task=record.task,
            inputs=dict(record.spec.get("inputs", {})),
            state=dict(record.spec.get("state", {})),
        )
        changed: dict[str, Any] = {}
        if max_concurrent_steps is not None:
            spec.state[CONCURRENT_STEPS_KEY] = max_concurrent_steps
            state = {**record.spec.get("state", {}), CONCURRENT_STEPS_KEY: max_concurrent_steps}
            changed["spec"] = {**record.spec, "state": state}
        declared = Plan.model_validate(record.plan) if record.plan else None

        def resumed() -> None:
            # Runs once the lease is held: a resume refused for a live owner writes nothing.
            current = store.get_run(run_id)
            if current.status not in RESUMABLE:
                raise UserError(f"run {run_id} is {current.status} and cannot be resumed")
            restore_spend(budget, store, run_id)
            with store.transaction():
                store.update_run(
                    run_id,
                    status="running",
                    budget=budget.to_dict(),
                    updated_at=runtime.now(),
                    **changed,
                )
                done = [s.step_id for s in store.get_steps(run_id) if s.status == "done"]
                runtime.emit(RunResumed(completed_steps=done, budget=budget.to_dict()))

        return await self._drive(runtime, bus, budget, spec, declared, store, resumed)

    def resume_sync(self, run_id: str, **kwargs: Any) -> RunResult:
        return run_sync(self.resume(run_id, **kwargs))

    def approve(
        self,
        run_id: str,
        request_id: str | None = None,
        *,
        step: str | None = None,
        deny: bool = False,
        reason: str = "",
        approver: str = "python",
        arguments: dict[str, Any] | None = None,
        decision: str | None = None,
    ) -> ApprovalRecord:
        """Decide a pending approval of a waiting run (then ``resume`` it)."""
        from agentorch.approvals_store import decide_pending

        store = self.store
        if store is None:
            raise ConfigError(
                "approve needs a store", hint="pass store='sqlite:///runs.db' to the Supervisor"
            )
        return decide_pending(
            store,
            run_id,
            request_id=request_id,
            step=step,
            deny=deny,
            reason=reason,
            approver=approver,
            arguments=arguments,
            decision=decision,
        )

    # --- internals -----------------------------------------------------------------------------

    def _runtime(
        self, run_id: str, budget: Budget, registry: ToolRegistry, store: Store | None
    ) -> tuple[EmbeddedRuntime, EventBus]:
        bus = EventBus(redactor=self.redactor)
        if store is not None:
            # The bus has already redacted every event with the same redactor the store uses.
            log = store.inner if isinstance(store, RedactingStore) else store

            def persist(event: BaseEvent) -> None:
                if not event.ephemeral:
                    log.record_event(run_id, event.kind, event.ts, event.model_dump(mode="json"))

            bus.subscribe(persist, name="store", critical=True)
        for callback in self.callbacks:
            bus.subscribe(callback)
        runtime = EmbeddedRuntime(
            run_id=run_id,
            budget=budget,
            bus=bus,
            registry=registry,
            approver=self.approver,
            store=store,
            stream=self.stream_text,
        )
        budget.on_event = runtime.emit
        runtime.hold_writes = True  # every run ends with a write of its outcome (see _drive)
        return runtime, bus

    def _orchestrator(self, runtime: Runtime, plan: Plan, spec: RunSpec) -> Orchestrator:
        models = {s.id: self.model_for(self.agents[s.agent], s.model) for s in plan.steps}
        return Orchestrator(
            runtime,
            agents=self.agents,
            models=models,
            synthesizer=self._synthesizer(),
            limits=self.limits,
            escalation=self.escalation,
            spec=spec,
        )

    async def _drive(
        self,
        runtime: EmbeddedRuntime,
        bus: EventBus,
        budget: Budget,
        spec: RunSpec,
        declared: Plan | None,
        store: Store | None,
        begin: Callable[[], None],
        create: Callable[[], None] | None = None,
    ) -> RunResult:
        """Take the run's lease, write the run's first event (``begin``) under it, and run.

        A new run's row (``create``), its lease and its first event are one transaction: the
        run's first (with its first call's intent, say) for a run with a new id.
        """
        from agentorch import leases
        from agentorch.models.wrappers import close_model

        first, then = (create, begin) if create is not None else (None, None)
        hold = runtime.hold if create is not None and runtime.create_with_first_write else None
        try:
            async with leases.held(
                store, runtime.run_id, clock=runtime.now, first=first, then=then, hold=hold
            ) as lease:
                runtime.lease = lease
                try:
                    if then is None:
                        begin()
                    return await self._drive_leased(
                        runtime, bus, budget, spec, declared, store, lease
                    )
                except LeaseLostError:
                    # Another process owns the run now: write nothing, report it here.
                    await bus.drain(timeout=1.0)
                    raise
        finally:
            # The run is over: its budget reports to nobody now, which also breaks the
            # budget -> runtime -> budget cycle so the run is freed without the cyclic collector.
            budget.on_event = None
            runtime.drop_held()  # (a run that stopped without its last write: lease lost)
            # SDK clients belong to this event loop: close them with the run
            await close_model(*self._models.values())

    async def _drive_leased(
        self,
        runtime: Runtime,
        bus: Drains,
        budget: Budget,
        spec: RunSpec,
        declared: Plan | None,
        store: Store | None,
        lease: Lease | None = None,
    ) -> RunResult:
        """Plan, run the steps, synthesize, and write the run's outcome (its last write, which
        gives up ``lease`` in the same transaction)."""
        outcome: Outcome | None = None
        output: Any = None
        status, error = "failed", None
        plan = declared
        try:
            if plan is None:
                plan = await make_plan(
                    runtime,
                    router=self._router(),
                    agents=self.agents,
                    spec=spec,
                    limits=self.limits,
                    record=True,
                )
            else:
                runtime.emit(PlanMade(plan=plan.model_dump(mode="json"), source="declared"))
            if self.plan_reviewer is not None and not runtime.load_steps():
                cap = self.limits.max_declared_steps if declared else self.limits.max_plan_steps
                plan = await review_plan(runtime, plan, self.plan_reviewer, self.agents, cap)
            orchestrator = self._orchestrator(runtime, plan, spec)
            outcome = await orchestrator.execute(plan)
            if isinstance(outcome.exception, UserError):
                raise outcome.exception
            status, error = outcome.status, outcome.error
            if status == "succeeded":
                output = await orchestrator.synthesize(plan, outcome)
        except asyncio.CancelledError:
            runtime.update_run(status="interrupted", usage=budget.report().model_dump(mode="json"))
            runtime.emit(
                RunPaused(reason="interrupted", message="interrupted; resume with the run id")
            )
            await bus.drain(timeout=1.0)
            raise
        except RunCancelled as exc:
            runtime.update_run(status="cancelled", error=f"RunCancelled: {exc}")
            runtime.emit(RunFinished(status="cancelled", error=str(exc)))
            await bus.drain(timeout=1.0)
            raise
        except LeaseLostError:
            raise  # the run belongs to another process now: nothing more is written here
        except BudgetExceeded as exc:
            status, error = "budget_exceeded", f"BudgetExceeded: {exc}"
        except PriceError as exc:  # found mid-run (a model's price): an outcome, not a crash
            status, error = "failed", f"PriceError: {exc}"
        except UserError as exc:
            runtime.update_run(status="failed", error=f"{type(exc).__name__}: {exc}")
            runtime.emit(RunFinished(status="failed", error=f"{type(exc).__name__}: {exc}"))
            await bus.drain(timeout=1.0)
            raise
        except AgentOrchError as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        report = budget.report()
        with runtime.checkpoint():  # the run's outcome and the events reporting it
            if status in ("waiting_approval", "budget_exceeded", "in_doubt"):
                runtime.emit(RunPaused(reason=status, message=error or ""))  # type: ignore[arg-type]
            usage = report.model_dump(mode="json")
            runtime.update_run(status=status, output=dump_output(output), error=error, usage=usage)
            runtime.emit(RunFinished(status=status, error=error, usage=usage))
            if lease is not None and store is not None:
                lease.end_in(store)
        if lease is not None and store is not None:
            lease.released = True
        await bus.drain()
        pending = store.approvals(runtime.run_id, pending_only=True) if store is not None else []
        return RunResult(
            run_id=runtime.run_id,
            status=status,
            output=final_output(self.agents, plan, outcome, output),
            plan=plan,
            steps=step_results(self.agents, outcome),
            usage=report,
            error=error,
            pending_approvals=pending,
        )

    # --- nesting -------------------------------------------------------------------------------

    def as_agent(self, name: str | None = None, description: str | None = None) -> Agent:
        """This supervisor as a specialist of another: same budget, store and events as the parent."""
        from agentorch.nesting import SupervisorAgent

        return SupervisorAgent(
            self, name=name or self.name, description=description or self.description
        )
