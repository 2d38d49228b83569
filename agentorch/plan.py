"""Plans: typed steps, each naming a specialist, and their validation.

A plan comes from the router model (validated, re-planned with the errors when invalid) or is
declared in Python (a fixed workflow); both run on the same scheduler.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

RiskLevel = Literal["low", "medium", "high"]


class Step(BaseModel):
    """One unit of delegated work."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Short unique id, e.g. 'parse' or 'write_security'.")
    agent: str = Field(description="Name of the specialist that does this step.")
    instruction: str = Field(description="What the specialist must do in this step.")
    depends_on: list[str] = Field(
        default_factory=list, description="Ids of steps whose outputs this step needs."
    )
    risk: RiskLevel = Field(default="low", description="How risky the step's result is.")
    inputs: list[str] = Field(
        default_factory=list, description="Names of input files or passages this step needs to see."
    )
    reviews: str | None = Field(
        default=None,
        description="For reviewer steps: the id of the step whose output this one reviews.",
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Extra parameters for the specialist."
    )
    model: str | None = Field(
        default=None, description="Override the specialist's model for this step."
    )
    continue_on_failed_deps: bool = Field(
        default=False,
        description="Run even when a dependency failed (the failure is shown in the context).",
    )

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        value = value.strip()
        if not value or any(c in value for c in "/ \t\n"):
            raise ValueError("step id must be non-empty, without spaces or '/'")
        return value

    def all_dependencies(self) -> list[str]:
        deps = list(self.depends_on)
        if self.reviews and self.reviews not in deps:
            deps.append(self.reviews)
        return deps


class Plan(BaseModel):
    """Steps to run, with an optional final step whose output is the run's output."""

    model_config = ConfigDict(extra="forbid")

    steps: list[Step] = Field(description="The steps, in any order; dependencies define the order.")
    final_step: str | None = Field(
        default=None, description="Id of the step whose output is the final result, if any."
    )
    rationale: str = Field(default="", description="One or two sentences on why this plan.")

    _index: _PlanIndex | None = PrivateAttr(default=None)

    def _indexed(self) -> _PlanIndex:
        """Lookups by id in O(1); rebuilt when ``steps`` is replaced or resized."""
        index = self._index
        if index is None or index.steps is not self.steps or index.size != len(self.steps):
            index = self._index = _PlanIndex(self.steps)
        return index

    def step(self, step_id: str) -> Step:
        pos = self._indexed().position.get(step_id)
        if pos is not None and self.steps[pos].id == step_id:
            return self.steps[pos]
        for step in self.steps:  # the list was edited in place: look it up the slow way
            if step.id == step_id:
                self._index = None
                return step
        raise KeyError(step_id)

    def position(self, step_id: str) -> int:
        """Where ``step_id`` stands in ``steps`` (the scheduler's tie-break order)."""
        return self._indexed().position[step_id]

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.steps]

    def reviewers_of(self, step_id: str) -> list[Step]:
        return [self.steps[pos] for pos in self._indexed().reviewers.get(step_id, ())]

    def direct_dependants(self, step_id: str) -> list[str]:
        """Steps that name ``step_id`` in ``depends_on`` or ``reviews``."""
        return self._indexed().dependants.get(step_id, [])

    def dependants_of(self, step_id: str) -> list[str]:
        """Every step that (transitively) depends on ``step_id``."""
        out: list[str] = []
        seen: set[str] = set()
        frontier = [step_id]
        while frontier:
            for dependant in self.direct_dependants(frontier.pop()):
                if dependant not in seen:
                    seen.add(dependant)
                    out.append(dependant)
                    frontier.append(dependant)
        return out

    def sinks(self) -> list[Step]:
        """Steps nobody depends on."""
        needed = {d for s in self.steps for d in s.all_dependencies()}
        return [s for s in self.steps if s.id not in needed]


class _PlanIndex:
    """Positions, reviewers and direct dependants of a plan's steps, by id."""

    __slots__ = ("dependants", "position", "reviewers", "size", "steps")

    def __init__(self, steps: list[Step]) -> None:
        self.steps = steps
        self.size = len(steps)
        self.position: dict[str, int] = {}
        self.reviewers: dict[str, list[int]] = {}
        self.dependants: dict[str, list[str]] = {}
        for pos, step in enumerate(steps):
            self.position.setdefault(step.id, pos)
            if step.reviews:
                self.reviewers.setdefault(step.reviews, []).append(pos)
            for dep in step.all_dependencies():
                self.dependants.setdefault(dep, []).append(step.id)


def validate_plan(plan: Plan, agents: Iterable[str], *, max_steps: int | None = None) -> list[str]:
    """Every problem with ``plan`` as a sentence the router can act on; empty when valid."""
    known = set(agents)
    errors: list[str] = []
    if not plan.steps:
        return ["the plan has no steps; include at least one step"]
    if max_steps is not None and len(plan.steps) > max_steps:
        errors.append(f"the plan has {len(plan.steps)} steps; at most {max_steps} are allowed")
    seen: set[str] = set()
    for step in plan.steps:
        if step.id in seen:
            errors.append(f"step id {step.id!r} is used more than once")
        seen.add(step.id)
        if step.agent not in known:
            errors.append(
                f"step {step.id!r} names unknown agent {step.agent!r}; available: {', '.join(sorted(known))}"
            )
    ids = {s.id for s in plan.steps}
    for step in plan.steps:
        for dep in step.all_dependencies():
            if dep not in ids:
                errors.append(
                    f"step {step.id!r} depends on {dep!r}, which is not a step of the plan"
                )
            elif dep == step.id:
                errors.append(f"step {step.id!r} depends on itself")
    if plan.final_step is not None and plan.final_step not in ids:
        errors.append(f"final_step {plan.final_step!r} is not a step of the plan")
    cycle = find_cycle(plan)
    if cycle:
        errors.append("dependency cycle: " + " -> ".join(cycle))
    return errors


def find_cycle(plan: Plan) -> list[str] | None:
    """A dependency cycle as a list of step ids (first repeated at the end), or ``None``."""
    graph = {s.id: [d for d in s.all_dependencies() if d != s.id] for s in plan.steps}
    # Iterative depth-first search: no recursion limit on long plans, and no self-referencing
    # closure (a reference cycle the garbage collector would have to find, once per run).
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for root in graph:
        if root in state:
            continue
        state[root] = 1
        stack = [root]
        pending = [iter(graph[root])]
        while pending:
            for dep in pending[-1]:
                if dep not in graph:
                    continue
                if state.get(dep) == 1:
                    return [*stack[stack.index(dep) :], dep]
                if dep not in state:
                    state[dep] = 1
                    stack.append(dep)
                    pending.append(iter(graph[dep]))
                    break
            else:
                state[stack.pop()] = 2
                pending.pop()
    return None


class ComparedValue(BaseModel):
    """One value a reviewer compared: what was required and what is offered, side by side."""

    label: str = Field(description="What the value is about, e.g. 'notification'.")
    required: str = ""
    offered: str = ""
    verdict: str = Field(default="", description="e.g. 'meets', 'falls short', 'conflicts'.")


class ReviewPoint(BaseModel):
    """One thing a reviewer puts before a person: what was asked, what is proposed, and why."""

    item: str = Field(description="What it is about, e.g. 'R-3.6 Security incidents (must)'.")
    asked: str = Field(default="", description="What was asked, e.g. the requirement's text.")
    proposed: str = Field(default="", description="What is proposed, e.g. the drafted answer.")
    values: list[ComparedValue] = Field(default_factory=list)
    reason: str = Field(default="", description="The reviewer's reason, in one sentence.")


class Verdict(BaseModel):
    """A reviewer's typed verdict on another step's output.

    Reviewer specialists (critic, compliance) return this or a subclass of it.
    """

    verdict: Literal["pass", "revise", "escalate"] = Field(
        description="pass: good as is; revise: send back with reasons; escalate: a person must decide."
    )
    confidence: float = Field(default=1.0, ge=0.0, le=1.0, description="How sure the reviewer is.")
    reasons: list[str] = Field(
        default_factory=list, description="Why; what to change when revising."
    )
    flags: list[str] = Field(
        default_factory=list,
        description="Risk flags, e.g. 'pricing_commitment', 'legal_exposure', 'absolute_claim', 'unsourced_claim'.",
    )
    points: list[ReviewPoint] = Field(
        default_factory=list,
        description="For an escalation: each point a person must judge (asked, proposed, values).",
    )
