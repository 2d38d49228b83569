"""The run as a Temporal workflow: the supervisor's own driver, on the Temporal runtime.

Planning, scheduling, review, escalation and synthesis are the same code the embedded engine
runs (``Supervisor._drive_leased``): only the runtime under them differs. The workflow owns the
run tree's budget ledger, so every reservation is decided in one place, in order, and replayed
identically after a worker is lost.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from agentorch.budget import Budget
    from agentorch.errors import AgentOrchError
    from agentorch.events.types import RunStarted
    from agentorch.orchestrator import RunSpec
    from agentorch.plan import Plan
    from agentorch.result import dump_output
    from agentorch.temporal import _types as t
    from agentorch.temporal._apps import app
    from agentorch.temporal.runtime import TemporalRuntime
    from agentorch.temporal.sandbox import load_tokenizers


@workflow.defn(name=t.RUN_WORKFLOW)
class RunWorkflow:
    """One run of an app, from its plan to its result."""

    def __init__(self) -> None:
        self._decided: set[str] = set()
        self._runtime: TemporalRuntime | None = None

    @workflow.signal(name=t.DECIDED_SIGNAL)
    async def approval_decided(self, request_id: str) -> None:
        """``agentorch approve`` recorded a decision on ``request_id`` in the store."""
        self._decided.add(request_id)
        if self._runtime is not None:
            self._runtime.decided.add(request_id)
            for child in sorted(self._runtime.children):  # a nested supervisor may be the asker
                await workflow.get_external_workflow_handle(child).signal(
                    t.DECIDED_SIGNAL, request_id
                )

    @workflow.update(name=t.BUDGET_UPDATE)
    def budget(self, op: t.BudgetOp) -> dict[str, Any]:
        """A child workflow's reservation, settlement, release or charge on the run's ledger."""
        if self._runtime is None:
            raise ApplicationError(
                "the run has not started", type="ConfigError", non_retryable=True
            )
        return self._runtime.ledger(op)

    @workflow.run
    async def run(self, spec: t.RunInput) -> t.RunOutput:
        try:
            supervisor = app(spec.app)
            load_tokenizers(supervisor)
            budget = Budget.from_dict(spec.budget) if spec.budget else Budget()
            registry = supervisor.registry()
        except AgentOrchError as exc:
            raise ApplicationError(f"{type(exc).__name__}: {exc}", non_retryable=True) from None
        runtime = TemporalRuntime(
            spec=spec, supervisor=supervisor, budget=budget, registry=registry
        )
        runtime.decided |= self._decided
        self._runtime = runtime
        budget.on_event = runtime.emit
        runtime.emit(
            RunStarted(
                task=spec.task,
                workflow=spec.workflow,
                files=spec.files,
                policy_hash=registry.policy.hash if registry.policy is not None else None,
                budget=budget.to_dict(),
                agents=sorted(supervisor.agents),
                engine=supervisor.engine,
            )
        )
        declared = Plan.model_validate(spec.plan) if spec.plan else None
        run = RunSpec(task=spec.task, inputs=dict(spec.inputs), state=dict(spec.state))
        try:
            result = await supervisor._drive_leased(runtime, runtime, budget, run, declared, None)
        except AgentOrchError as exc:  # recorded in the store already (status, run_finished)
            await runtime.write()
            raise ApplicationError(
                f"{type(exc).__name__}: {exc}", type=type(exc).__name__, non_retryable=True
            ) from None
        final = next(
            (
                name
                for name, agent in supervisor.agents.items()
                if agent.structured and isinstance(result.output, agent.output_type)
            ),
            None,
        )
        return t.RunOutput(
            run_id=spec.run_id,
            status=result.status,
            error=result.error,
            output=dump_output(result.output),
            final_agent=final,
            plan=result.plan.model_dump(mode="json") if result.plan else None,
            steps=[
                {
                    "step_id": s.step_id,
                    "agent": s.agent,
                    "status": s.status,
                    "output": dump_output(s.output),
                    "error": s.error,
                    "revision": s.revision,
                    "context_tokens": s.context_tokens,
                }
                for s in result.steps.values()
            ],
            usage=result.usage.model_dump(mode="json"),
        )
