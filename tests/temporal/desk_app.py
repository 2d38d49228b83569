"""The ``desk`` workflow project of the Temporal tests: notes that need nobody, and a price a
person must approve (its histories under ``histories/`` were recorded with it: change it only
with them)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

#: A workflow with a step whose tool a person must approve beside steps that need nobody.
DESK = '''
"""Notes that need nobody, and a price a person must approve."""

import asyncio

from agentorch import Agent, Plan, Step
from agentorch.models.testing import FunctionModel, tool_call_response
from agentorch.models.types import ToolResultMessage
from agentorch.workflow import Workflow

NOTES = int(__import__("os").environ.get("DESK_NOTES", "3"))
PRICED = __import__("os").environ.get("DESK_PRICED", "1") == "1"


async def note_model(request):
    await asyncio.sleep(0.3)
    return "noted"


def pricing_model(request):
    results = [m for m in request.messages if isinstance(m, ToolResultMessage)]
    if not results:
        return tool_call_response(("rate_card_lookup", {"sku": "SUP-1"}))
    return f"SUP-1 costs {results[0].content} a year."


class Notes(Agent):
    name = "notes"
    description = "Takes notes."
    instructions = "Take the note."

    def offline_model(self):
        return FunctionModel(note_model, name="notes")


class Pricing(Agent):
    name = "pricing"
    description = "Prices line items against the rate card."
    instructions = "Use rate_card_lookup for every SKU."
    tools = ["rate_card_lookup"]

    def offline_model(self):
        return FunctionModel(pricing_model, name="pricing")


steps = [Step(id=f"note{i}", agent="notes", instruction=f"Note {i}.") for i in range(NOTES)]
if PRICED:
    steps.insert(0, Step(id="price", agent="pricing", instruction="Price SUP-1."))
workflow = Workflow(name="desk", task="Price SKU SUP-1 and take notes.", agents=[Notes, Pricing],
                    plan=Plan(steps=steps))
'''

TOOLS = '''
from agentorch import tool


@tool(risk="read", requires_approval=True)
def rate_card_lookup(sku: str) -> float:
    """Look up the list price for a SKU."""
    return {"SUP-1": 1200.0}.get(sku, 0.0)
'''


def project(root: Path) -> Path:
    (root / "desk" / "tools").mkdir(parents=True)
    (root / "desk" / "desk.py").write_text(textwrap.dedent(DESK))
    (root / "desk" / "tools" / "desk_tools.py").write_text(textwrap.dedent(TOOLS))
    return root / "desk" / "desk.py"


def desk_supervisor(workflow: Path, db: Any) -> Any:
    """The project's supervisor as ``agentorch worker`` serves it (offline models)."""
    from agentorch.approvals import DeferredApprover
    from agentorch.cli.prepare import RunOptions, prepare_workflow

    prepared = prepare_workflow(
        str(workflow), "offline", RunOptions(), DeferredApprover(), None, db, None
    )
    return prepared.supervisor


#: A step a person must accept (high risk) beside a chain of steps that need nobody: the
#: ``desk-escalation`` history was recorded with it (change it only with it).
ESCALATING = '''
"""A quote a person must accept, and notes that need nobody."""

import asyncio

from agentorch import Agent, Plan, Step
from agentorch.models.testing import FunctionModel
from agentorch.workflow import Workflow


async def note_model(request):
    await asyncio.sleep(0.3)
    return "noted"


def quote_model(request):
    return "SUP-1 costs 1200 a year."


class Notes(Agent):
    name = "notes"
    description = "Takes notes."
    instructions = "Take the note."

    def offline_model(self):
        return FunctionModel(note_model, name="notes")


class Quoter(Agent):
    name = "quoter"
    description = "Quotes prices."
    instructions = "Quote the price."

    def offline_model(self):
        return FunctionModel(quote_model, name="quoter")


steps = [
    Step(id="quote", agent="quoter", instruction="Quote SUP-1.", risk="high"),
    Step(id="follow", agent="notes", instruction="Note the quote.", depends_on=["quote"]),
    Step(id="note0", agent="notes", instruction="Note 0."),
    Step(id="note1", agent="notes", instruction="Note 1.", depends_on=["note0"]),
]
workflow = Workflow(name="desk", task="Quote SKU SUP-1 and take notes.", agents=[Notes, Quoter],
                    plan=Plan(steps=steps))
'''


def escalating_project(root: Path) -> Path:
    """The ``desk`` project with ``ESCALATING`` as its workflow (and no tools)."""
    (root / "desk").mkdir(parents=True)
    (root / "desk" / "desk.py").write_text(textwrap.dedent(ESCALATING))
    return root / "desk" / "desk.py"
