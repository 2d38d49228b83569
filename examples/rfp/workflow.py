"""The RFP-response workflow: parse -> write each part -> review -> edit -> assemble -> submit.

Run it with ``agentorch run examples/rfp`` (offline without a provider key) or from Python::

    from agentorch.workflow import load_workflow

    result = load_workflow("examples/rfp").run_sync(engine="offline", approver=...)

The plan is declared, not planned by a router, and it grows with the RFP: the document is split
into parts (whole sections where they fit, by category: technical, security, sla, pricing, legal,
other) small enough that no model call reads more than the run's context budget (32,000 tokens by
default; ``agentorch run --context-tokens N``). Each part gets a parser step, a writer step
(reviewed by the compliance reviewer and the risk critic) and an editor step; the parts' lists
are merged, and the response and the bid review assembled, in code. Pricing and legal parts are
high risk, so a person always signs them off. The assembling step runs even when a part failed
(the failure becomes an open issue), writes ``response.md`` into the output folder once a person
approves, and the submitter submits it (always after a person's approval).

Paths: the RFP, the approved-answer library and the policy are found beside this file; the
output folder is ``out/`` under the current directory (``agentorch run --output DIR`` changes it).
"""

from __future__ import annotations

from pathlib import Path

from agentorch import Budget, Plan, Step
from agentorch.discovery import builtin_agents, builtin_module
from agentorch.orchestrator import EscalationPolicy
from agentorch.workflow import PlanInputs, Workflow

HERE = Path(__file__).resolve().parent
HIGH_RISK = ("pricing", "legal")  # commit money or legal terms: a person always signs them off


def build_plan(inputs: PlanInputs | None = None) -> Plan:
    """The declared plan: per document part, parse / write / review twice / edit; then merge,
    check, assemble and submit."""
    inputs = inputs or PlanInputs(files=(HERE / "rfp.md",))
    parts = builtin_module("agents", "_parts").document_parts(inputs.files, inputs.context_tokens)
    steps = [
        Step(
            id=f"parse_{part.name}",
            agent="parser",
            instruction=f"List every numbered requirement of this part of the RFP "
            f"({part.heading or part.file}) with its modality and category.",
            params=part.params(),
        )
        for part in parts
    ]
    steps += [
        Step(
            id="parse",
            agent="parser",
            instruction="Merge the parts' requirement lists into the RFP's one list.",
            depends_on=[s.id for s in steps],
            params={"merge": True},
        ),
        Step(
            id="check_parse",
            agent="compliance",
            instruction="Check that the requirements extracted account for the requirement-like "
            "statements the parser saw; never pass an empty result.",
            depends_on=["parse"],
            reviews="parse",
            params={"check": "extraction"},
        ),
    ]
    drafted: list[str] = []
    for part in parts:
        write = f"write_{part.name}"
        section = {"part": part.name, "category": part.category}
        reviewers = [f"compliance_{part.name}", f"critic_{part.name}"]
        steps += [
            Step(
                id=write,
                agent="writer",
                instruction=f"Draft the answers to the requirements of {part.heading or 'this part'}"
                " from approved answers only.",
                depends_on=["parse"],
                params=section,
                risk="high" if part.category in HIGH_RISK else "low",
            ),
            Step(
                id=reviewers[0],
                agent="compliance",
                instruction="Build the compliance matrix of this part and judge its coverage.",
                depends_on=["parse"],
                reviews=write,
                params=section,
            ),
            Step(
                id=reviewers[1],
                agent="critic",
                instruction="Flag risky commitments and unsourced claims in this part.",
                depends_on=["parse"],
                reviews=write,
                params=section,
            ),
            Step(
                id=f"edit_{part.name}",
                agent="editor",
                instruction="Edit this part's answers for the buyer: flow and grammar only.",
                depends_on=["parse", write, *reviewers],
                continue_on_failed_deps=True,
                params=section,
            ),
        ]
        drafted += [write, *reviewers, f"edit_{part.name}"]
    steps += [
        Step(
            id="edit",
            agent="editor",
            instruction="Assemble the buyer's response (response.md: answers only) and the bid "
            "team's review (bid-review.md: compliance matrix, checked values, open issues, "
            "decisions) and write both.",
            depends_on=["parse", *drafted],
            continue_on_failed_deps=True,
            params={"file": "response.md", "review_file": "bid-review.md"},
        ),
        Step(
            id="submit",
            agent="submitter",
            instruction="Submit the written response document to the buyer.",
            depends_on=["parse", "edit"],
            continue_on_failed_deps=True,
            risk="medium",
        ),
    ]
    return Plan(steps=steps, final_step="submit", rationale="The bid team's standard RFP process.")


workflow = Workflow(
    name="rfp",
    description="Draft, review and submit a response to a Request for Proposals.",
    task="Draft our response to this RFP from the approved-answer library, with a compliance "
    "matrix and the open issues, and submit it once approved.",
    agents=builtin_agents(),
    plan=build_plan,
    files=[HERE / "rfp.md"],
    policy=HERE / "policy.toml",
    state={"library": str(HERE / "library"), "output_dir": "out"},
    budget=Budget(usd=2.00, tokens=2_000_000),
    escalation=EscalationPolicy(),
)
