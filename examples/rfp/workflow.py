"""The RFP-response workflow: parse -> write each section -> review -> edit -> submit.

Run it with ``agentorch run examples/rfp`` (offline without a provider key) or from Python::

    from agentorch.workflow import load_workflow

    result = load_workflow("examples/rfp").run_sync(engine="offline", approver=...)

The plan is declared, not planned by a router: one writer step per category (run in parallel),
each reviewed by the compliance reviewer and the risk critic; pricing and legal sections are high
risk, so a person always signs them off. The editor runs even when a section failed (the failure
becomes an open issue), writes ``response.md`` into the output folder once a person approves, and
the submitter submits it (always after a person's approval).

Paths: the RFP, the approved-answer library and the policy are found beside this file; the
output folder is ``out/`` under the current directory (``agentorch run --output DIR`` changes it).
"""

from __future__ import annotations

from pathlib import Path

from agentorch import Budget, Plan, Step
from agentorch.discovery import builtin_agents
from agentorch.orchestrator import EscalationPolicy
from agentorch.workflow import Workflow

HERE = Path(__file__).resolve().parent
SECTIONS = ("technical", "security", "sla", "pricing", "legal", "other")
HIGH_RISK = ("pricing", "legal")  # commit money or legal terms: a person always signs them off


def build_plan() -> Plan:
    """The declared plan: 3 steps per section, plus parse, edit and submit."""
    steps = [
        Step(
            id="parse",
            agent="parser",
            instruction="Read the RFP and list every numbered requirement with its modality "
            "and category.",
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
    for section in SECTIONS:
        write = f"write_{section}"
        steps += [
            Step(
                id=write,
                agent="writer",
                instruction=f"Draft the answers to the {section} requirements from approved answers only.",
                depends_on=["parse"],
                params={"category": section},
                risk="high" if section in HIGH_RISK else "low",
            ),
            Step(
                id=f"compliance_{section}",
                agent="compliance",
                instruction=f"Build the compliance matrix of the {section} section and judge its coverage.",
                depends_on=["parse"],
                reviews=write,
                params={"category": section},
            ),
            Step(
                id=f"critic_{section}",
                agent="critic",
                instruction=f"Flag risky commitments and unsourced claims in the {section} section.",
                depends_on=["parse"],
                reviews=write,
                params={"category": section},
            ),
        ]
    reviewed = [s.id for s in steps if s.id not in ("parse", "check_parse")]
    steps += [
        Step(
            id="edit",
            agent="editor",
            instruction="Assemble the buyer's response (response.md: answers only) and the bid "
            "team's review (bid-review.md: compliance matrix, checked values, open issues, "
            "decisions) and write both.",
            depends_on=["parse", *reviewed],
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
