"""A run before it starts: its arguments checked and its record built, for any engine."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentorch.budget import Budget
from agentorch.errors import PlanError, UnknownAgentError, UserError
from agentorch.orchestrator import RunSpec
from agentorch.plan import Plan, validate_plan
from agentorch.store.base import RunRecord, jsonable_state

if TYPE_CHECKING:
    from agentorch.supervisor import Supervisor


@dataclass
class NewRun:
    """A checked, not yet started run: what it runs on and the record the store will hold."""

    spec: RunSpec
    declared: Plan | None
    budget: Budget
    record: RunRecord


def new_run(
    supervisor: Supervisor,
    task: str,
    files: Sequence[str | Path] = (),
    inputs: Mapping[str, str] | None = None,
    plan: Plan | None = None,
    state: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    workflow: str | None = None,
) -> NewRun:
    """Check a run's arguments and build its record (whatever engine then runs it)."""
    if not isinstance(task, str) or not task.strip():
        raise UserError("the task is empty", hint="describe what the supervisor should do")
    from agentorch.documents import read_inputs  # PDF/DOCX readers load only when used

    all_inputs = read_inputs(files)
    all_inputs.update(inputs or {})
    declared = plan or supervisor.plan
    if declared is not None:
        errors = validate_plan(
            declared, supervisor.agents, max_steps=supervisor.limits.max_declared_steps
        )
        if errors:
            raise (
                UnknownAgentError("the declared plan is invalid: " + "; ".join(errors))
                if any("unknown agent" in e for e in errors)
                else PlanError("the declared plan is invalid: " + "; ".join(errors))
            )
    registry = supervisor.registry()
    budget = (
        supervisor.budget.fresh() if supervisor.budget is not None else Budget()
    )  # each run its own spend
    spec = RunSpec(task=task, inputs=all_inputs, state=dict(state or {}))
    spec.state.setdefault("files", {Path(f).name: str(Path(f).resolve()) for f in files})
    record = RunRecord(
        run_id=run_id or uuid.uuid4().hex[:12],
        task=task,
        status="running",
        workflow=workflow,
        spec={
            "files": [str(f) for f in files],
            "inputs": all_inputs,
            "state": jsonable_state(spec.state),
            "engine": supervisor.engine,
            "declared": declared is not None,
        },
        policy_hash=registry.policy.hash if registry.policy is not None else None,
        budget=budget.to_dict(),
        plan=declared.model_dump(mode="json") if declared else None,
    )
    return NewRun(spec=spec, declared=declared, budget=budget, record=record)
