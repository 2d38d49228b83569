"""What a run returns: ``RunResult`` with each step's ``StepResult``, outputs typed again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentorch.budget import UsageReport
from agentorch.plan import Plan
from agentorch.store.base import ApprovalRecord

if TYPE_CHECKING:
    from agentorch.agent import Agent
    from agentorch.orchestrator import Outcome


@dataclass
class StepResult:
    step_id: str
    agent: str
    status: str
    output: Any
    error: str | None
    revision: int
    context_tokens: int


@dataclass
class RunResult:
    """What a run produced: output, status, the plan with each step's result, usage, run id."""

    run_id: str
    status: str
    output: Any
    plan: Plan | None
    steps: dict[str, StepResult]
    usage: UsageReport
    error: str | None = None
    pending_approvals: list[ApprovalRecord] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


def dump_output(value: Any) -> Any:
    """A structured output as JSON data for the store; anything else as it is."""
    from pydantic import BaseModel

    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def typed_output(agent: Agent | None, value: Any) -> Any:
    """Stored JSON back into the agent's output type (left as is if it no longer validates)."""
    if agent is None or value is None or not agent.structured:
        return value
    from pydantic import ValidationError

    try:
        return agent.output_type.model_validate(value)
    except ValidationError:
        return value


def final_output(
    agents: Mapping[str, Agent], plan: Plan | None, outcome: Outcome | None, output: Any
) -> Any:
    """The run's output typed by the agent of the final step (or of the one finished sink step)."""
    if plan is None or outcome is None:
        return output
    final = outcome.final_step
    if final is None:
        sinks = [s.id for s in plan.sinks() if s.id in outcome.outputs]
        if len(sinks) != 1:
            return output
        final = sinks[0]
    return typed_output(agents.get(plan.step(final).agent), output)


def step_results(agents: Mapping[str, Agent], outcome: Outcome | None) -> dict[str, StepResult]:
    """Each step's result, its output typed by its agent's output type."""
    if outcome is None:
        return {}
    return {
        sid: StepResult(
            sid,
            r.agent,
            r.status,
            typed_output(agents.get(r.agent), r.output),
            r.error,
            r.revision,
            r.context_tokens,
        )
        for sid, r in outcome.steps.items()
    }
