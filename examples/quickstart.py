"""Quickstart: a supervisor with built-in specialists and one of your own, offline.

    python examples/quickstart.py

No API key needed: every specialist runs on a deterministic function model (the built-ins on
their offline rules, ours on a small Python function), driving the real runtime - tool
permissions, the budget, reviews and the escalation to a person (here: a callback that approves).
Prints the plan, each step's output and the usage table.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from pydantic import BaseModel

from agentorch import Agent, Budget, CallbackApprover, FunctionModel, Plan, Step, Supervisor
from agentorch.approvals import ApprovalRequest
from agentorch.discovery import discover_agents
from agentorch.models import ModelRequest, UserMessage
from agentorch.models.testing import json_response

HERE = Path(__file__).resolve().parent


class BidAdvice(BaseModel):
    """Our specialist's typed output."""

    bid: bool
    coverage: float
    reasons: list[str]


def advise(request: ModelRequest) -> object:
    """Plays the model of our specialist: reads the compliance matrix from its prompt."""
    prompt = next(m.content for m in request.messages if isinstance(m, UserMessage))
    report = json.loads(prompt.split("(compliance)\n", 1)[1].split("\n\n## ", 1)[0])
    rows = report["matrix"]
    covered = sum(row["status"] == "covered" for row in rows) / max(len(rows), 1)
    missing = [row["requirement_id"] for row in rows if row["status"] == "missing"]
    reasons = [f"{covered:.0%} of the security requirements are covered"]
    reasons += [f"{rid} has no approved answer" for rid in missing]
    return json_response(BidAdvice(bid=covered >= 0.8, coverage=round(covered, 2), reasons=reasons))


class BidAdvisor(Agent):
    """A specialist is one class: name, description, instructions, tools, output type."""

    name = "bid_advisor"
    description = "Recommends bid / no-bid from a section's compliance matrix."
    instructions = "You advise the bid manager. Recommend bid or no-bid with reasons."
    output_type = BidAdvice

    def offline_model(self) -> FunctionModel:
        return FunctionModel(advise, name="bid-advisor-rules")


def approve(request: ApprovalRequest) -> bool:
    print(f"  [approval] {request.subject} of {request.step_id}: {request.reason[:100]}...")
    return True


def main() -> None:
    builtins = discover_agents(entry_points=False)
    agents = [builtins[name]() for name in ("parser", "writer", "compliance", "critic")]
    plan = Plan(
        steps=[
            Step(id="parse", agent="parser", instruction="List the RFP's requirements."),
            Step(id="write", agent="writer", instruction="Draft the security answers.",
                 depends_on=["parse"], params={"category": "security"}),
            Step(id="compliance", agent="compliance", instruction="Check coverage.",
                 depends_on=["parse"], reviews="write", params={"category": "security"}),
            Step(id="critic", agent="critic", instruction="Flag risks.",
                 depends_on=["parse"], reviews="write", params={"category": "security"}),
            Step(id="advice", agent="bid_advisor", instruction="Bid or no-bid?",
                 depends_on=["compliance"]),
        ],
        final_step="advice",
    )  # fmt: skip
    supervisor = Supervisor(
        [*agents, BidAdvisor()],
        plan=plan,
        engine="offline",
        budget=Budget(usd=1.00, tokens=500_000),
        approver=CallbackApprover(approve),
    )
    state = {"library": str(HERE / "rfp" / "library"), "cache_dir": tempfile.mkdtemp()}
    result = supervisor.run_sync(
        "Should we bid on this RFP's security section?",
        files=[HERE / "rfp" / "rfp.md"],
        state=state,
    )

    print(f"\nRun {result.run_id}: {result.status}\n\nPlan:")
    for step in plan.steps:
        after = f" (after {', '.join(step.all_dependencies())})" if step.all_dependencies() else ""
        print(f"  {step.id:<11} {step.agent:<11} {step.instruction}{after}")
    print("\nOutputs:")
    for step_id, step in result.steps.items():
        output = (
            step.output.model_dump_json() if isinstance(step.output, BaseModel) else step.output
        )
        print(f"  {step_id:<11} {step.status:<9} {str(output)[:110]}")
    print(f"\nAdvice: {result.output}\n\nUsage:")
    print(f"  {'agent/model':<36} {'requests':>8} {'tokens':>8} {'cost $':>8}")
    for row in result.usage.table():
        name = f"{row['group']}:{row['name']}" if row["group"] != "total" else "total"
        print(f"  {name:<36} {row['requests']:>8} {row['total_tokens']:>8} {row['cost_usd']:>8.4f}")


if __name__ == "__main__":
    main()
