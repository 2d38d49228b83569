"""Planning: the router model turns a task and a roster of specialists into a validated ``Plan``."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from pydantic import ValidationError

from agentorch.errors import ConfigError, PlanError
from agentorch.events.types import PlanMade, PlanRejected
from agentorch.models.types import (
    ModelRequest,
    ModelSettings,
    OutputSchema,
    SystemMessage,
    UserMessage,
)
from agentorch.plan import Plan, validate_plan
from agentorch.runtime import ModelCall, Runtime

if TYPE_CHECKING:
    from agentorch.agent import Agent
    from agentorch.models.base import Model
    from agentorch.models.types import Message
    from agentorch.orchestrator import Limits, RunSpec

PLANNER_INSTRUCTIONS = """You are the supervisor of a team of specialist agents. Break the task into steps and \
assign each step to exactly one specialist from the list, by name. Give each step a short id, a clear \
instruction, the ids of the steps whose outputs it needs (depends_on), its risk (low, medium, high: high for \
anything that commits money, legal terms or external actions), and the input files it needs (inputs). A \
reviewer step sets `reviews` to the id of the step it checks. Use as few steps as the task needs. Set \
final_step to the step whose output is the final result. Answer with the JSON plan only."""


@functools.cache
def plan_schema() -> OutputSchema:
    """The plan's output schema, built once: pydantic's schema generation costs milliseconds."""
    return OutputSchema(name="plan", description="The plan.", json_schema=Plan.model_json_schema())


async def make_plan(
    rt: Runtime,
    *,
    router: Model | None,
    agents: Mapping[str, Agent],
    spec: RunSpec,
    limits: Limits,
    record: bool = False,
) -> Plan:
    """Ask the router for a plan; send invalid ones back with the errors, a bounded number of times.

    ``record``: keep the plan on the run's record, in the transaction of its ``plan_made`` event.
    """
    if router is None:
        raise PlanError("no plan was declared and there is no router model to make one")
    roster = "\n".join(
        f"- {a.name}: {a.description or a.instructions[:200]}" for a in agents.values()
    )
    files = ", ".join(spec.inputs) or "none"
    messages: list[Message] = [
        SystemMessage(content=PLANNER_INSTRUCTIONS),
        UserMessage(
            content=f"## Task\n{spec.task}\n\n## Specialists\n{roster}\n\n## Input files\n{files}"
        ),
    ]
    schema = plan_schema()
    for attempt in range(1, limits.max_plan_attempts + 1):
        request = ModelRequest(
            messages=tuple(messages), output_schema=schema, settings=ModelSettings(max_tokens=4096)
        )
        response = await rt.call_model(
            ModelCall(
                key=f"plan/a{attempt}",
                agent="supervisor",
                step_id=None,
                model=router,
                request=request,
            )
        )
        errors: list[str]
        try:
            text = response.text.strip()
            if text.startswith("```"):
                text = text.strip("`").removeprefix("json").strip()
            plan = Plan.model_validate_json(text)
        except ValidationError as exc:
            errors = [
                f"invalid plan JSON: {e['msg']} at {'.'.join(map(str, e['loc'])) or 'root'}"
                for e in exc.errors()[:8]
            ]
        else:
            errors = validate_plan(plan, agents, max_steps=limits.max_plan_steps)
            if not errors:
                dumped = plan.model_dump(mode="json")
                # held for the run's next write: the steps' first intents (or the plan's review)
                with rt.holding():
                    if record:
                        rt.update_run(plan=dumped)
                    rt.emit(PlanMade(plan=dumped, attempt=attempt, source="router"))
                return plan
        rt.emit(PlanRejected(errors=errors, attempt=attempt))
        messages += [
            response.message,
            UserMessage(
                content="The plan was rejected:\n"
                + "\n".join(f"- {e}" for e in errors)
                + "\nSend a corrected plan."
            ),
        ]
    raise PlanError(
        f"the router gave no valid plan in {limits.max_plan_attempts} attempts: {'; '.join(errors)}"
    )


async def review_plan(
    runtime: Runtime,
    plan: Plan,
    reviewer: Callable[[Plan], Plan | Awaitable[Plan]],
    agents: Iterable[str],
    max_steps: int,
) -> Plan:
    """Let a person (or code) approve, edit or cancel the plan before any step runs."""
    with runtime.checkpoint():
        pass  # the plan is committed before anyone is asked (the run may wait long)
    reviewed = reviewer(plan)
    if inspect.isawaitable(reviewed):
        reviewed = await reviewed
    if not isinstance(reviewed, Plan):
        raise ConfigError(f"plan_reviewer returned {type(reviewed).__name__}, not a Plan")
    if reviewed != plan:
        errors = validate_plan(reviewed, agents, max_steps=max_steps)
        if errors:
            raise PlanError("the reviewed plan is invalid: " + "; ".join(errors))
        dumped = reviewed.model_dump(mode="json")
        with runtime.checkpoint():
            runtime.update_run(plan=dumped)
            runtime.emit(PlanMade(plan=dumped, source="review"))
    return reviewed
