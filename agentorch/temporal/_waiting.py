"""A run on Temporal that can go no further without a person: how a client tells, and what it reports.

The run's workflow waits for the decision (for days if need be) with no process held, so a client
following it stops there, as the embedded engine's run stops: with ``waiting_approval`` (or
``in_doubt`` for a call lost with its worker), and ``agentorch approve`` continues the workflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from temporalio.client import Client

    from agentorch.result import RunResult
    from agentorch.store.base import ApprovalRecord, Store
    from agentorch.supervisor import Supervisor


async def waits_for_a_person(client: Client, store: Store, run_id: str) -> str | None:
    """The run's status when it waits for a person and nothing else: a decision pending in the
    store, and no activity, workflow task or finished child in flight in its workflow or in any
    child workflow (a nested supervisor's, at any depth). ``None`` while anything can still run."""
    pending = store.approvals(run_id, pending_only=True)
    if not pending:
        return None
    from temporalio.service import RPCError

    todo = [run_id]
    while todo:
        try:
            described = await client.get_workflow_handle(todo.pop()).describe()
        except RPCError:
            return None  # a busy service: the next look tells
        raw = described.raw_description
        running = described.status is not None and described.status.name == "RUNNING"
        if not running or raw.pending_activities or raw.HasField("pending_workflow_task"):
            return None  # (a child that just finished: its parent is about to continue)
        todo.extend(child.workflow_id for child in raw.pending_children)
    if not store.approvals(run_id, pending_only=True):
        return None  # decided while we looked: the workflow continues
    return "in_doubt" if any(a.subject == "in_doubt" for a in pending) else "waiting_approval"


def waiting_result(supervisor: Supervisor, store: Store, run_id: str, status: str) -> RunResult:
    """The run as the store has it now: its steps so far (those a person holds up shown
    ``waiting``), what it has spent, and the decisions it waits for."""
    from agentorch._spend import restore_spend
    from agentorch.budget import Budget
    from agentorch.plan import Plan
    from agentorch.result import RunResult, StepResult, typed_output

    record = store.get_run(run_id)
    plan = Plan.model_validate(record.plan) if record.plan else None
    pending = store.approvals(run_id, pending_only=True)
    ids = {s.id for s in plan.steps} if plan is not None else None
    steps = {}
    for step in store.get_steps(run_id):
        if ids is not None and step.step_id not in ids:
            continue  # a nested supervisor's own step: reported by its parent step
        state = step.status
        if state == "running" and _held(step.step_id, pending):
            state = "waiting"
        agent = supervisor.agents.get(step.agent)
        steps[step.step_id] = StepResult(
            step.step_id,
            step.agent,
            state,
            typed_output(agent, step.output),
            step.error,
            step.revision,
            step.context_tokens,
        )
    budget = Budget.from_dict(record.budget) if record.budget else Budget()
    restore_spend(budget, store, run_id)
    return RunResult(
        run_id=run_id,
        status=status,
        output=None,
        plan=plan,
        steps=steps,
        usage=budget.report(),
        error=None,
        pending_approvals=pending,
    )


def _held(step_id: str, pending: list[ApprovalRecord]) -> bool:
    """Whether a pending decision belongs to the step (or to a nested step under it)."""
    return any(
        a.step_id is not None and (a.step_id == step_id or a.step_id.startswith(f"{step_id}."))
        for a in pending
    )
