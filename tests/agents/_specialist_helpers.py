"""Helpers for the built-in specialists' tests: the bundled classes, a recorder, a supervisor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentorch import Agent, CallbackApprover, Plan, Step, Supervisor
from agentorch.approvals import ApprovalRequest
from agentorch.discovery import builtin_module, discover_agents

REPO = Path(__file__).resolve().parents[2]
RFP = REPO / "examples" / "rfp" / "rfp.md"
LIBRARY = REPO / "examples" / "rfp" / "library"
POLICY = REPO / "examples" / "rfp" / "policy.toml"


def builtin(name: str) -> type[Agent]:
    """A built-in specialist class by its name (loaded by path, as the runtime does)."""
    return discover_agents(project_dir=REPO / "nowhere", entry_points=False)[name]


def types() -> Any:
    return builtin_module("agents", "_types")


class Recorder:
    """An approver that approves everything and records what it was asked."""

    def __init__(self) -> None:
        self.requests: list[ApprovalRequest] = []
        self.approver = CallbackApprover(self.decide, name="test")

    def decide(self, request: ApprovalRequest) -> bool:
        self.requests.append(request)
        return True


def section_plan(category: str, *, reviewers: bool = True) -> Plan:
    steps = [
        Step(id="parse", agent="parser", instruction="List the requirements."),
        Step(
            id="write",
            agent="writer",
            instruction="Draft.",
            depends_on=["parse"],
            params={"category": category},
        ),
    ]
    if reviewers:
        steps += [
            Step(
                id="compliance",
                agent="compliance",
                instruction="Check.",
                depends_on=["parse"],
                reviews="write",
                params={"category": category},
            ),
            Step(
                id="critic",
                agent="critic",
                instruction="Flag risks.",
                depends_on=["parse"],
                reviews="write",
                params={"category": category},
            ),
        ]
    return Plan(steps=steps)


def supervisor(
    plan: Plan, *replace: Agent, recorder: Recorder | None = None, **kwargs: Any
) -> Supervisor:
    """All built-in specialists (``replace`` swaps some by name) under the RFP policy, offline."""
    agents = {
        name: cls()
        for name, cls in discover_agents(project_dir=REPO / "nowhere", entry_points=False).items()
    }
    agents.update({a.name: a for a in replace})
    return Supervisor(
        list(agents.values()),
        plan=plan,
        engine="offline",
        policy=POLICY,
        approver=(recorder or Recorder()).approver,
        **kwargs,
    )
