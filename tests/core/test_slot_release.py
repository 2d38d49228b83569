"""A step waiting for a person gives its concurrency slot back: the steps that need nobody go
on meanwhile, and once decided it takes the next free slot before any step not yet started."""

from __future__ import annotations

import asyncio

from run_events import peak_steps

from agentorch import Agent, FunctionModel, Plan, Step, Supervisor, tool
from agentorch.approvals import ApprovalRequest, ApproveAll, Approver, CallbackApprover
from agentorch.events.types import ApprovalDecided, BaseEvent, StepFinished, StepStarted
from agentorch.limits import Limits
from agentorch.models.testing import text_response, tool_call_response
from agentorch.models.types import ModelRequest, ModelResponse, ToolResultMessage


@tool(risk="write", requires_approval=True)
def stamp(document: str) -> str:
    """Stamp a document as issued."""
    return f"{document} stamped"


def _stamper(request: ModelRequest) -> ModelResponse:
    if not any(isinstance(m, ToolResultMessage) for m in request.messages):
        return tool_call_response(("stamp", {"document": "order 7"}))
    return text_response("order 7 issued")


async def _note(request: ModelRequest) -> str:
    await asyncio.sleep(0.05)
    return "noted"


def _supervisor(approver: Approver, notes: int) -> Supervisor:
    clerk = Agent(
        name="clerk", description="Issues orders.", model=FunctionModel(_stamper), tools=["stamp"]
    )
    writer = Agent(name="notes", description="Takes notes.", model=FunctionModel(_note))
    plan = Plan(
        steps=[
            Step(id="issue", agent="clerk", instruction="Issue order 7."),
            *(Step(id=f"n{i}", agent="notes", instruction=f"Note {i}.") for i in range(notes)),
        ]
    )
    return Supervisor(
        [clerk, writer],
        tools=[stamp],
        plan=plan,
        approver=approver,
        limits=Limits(max_concurrent_steps=1),
    )


def _order(events: list[BaseEvent]) -> list[str]:
    """What happened, in order: ``+step`` started, ``-step`` finished, ``decided``."""
    out = []
    for e in events:
        if isinstance(e, StepStarted):
            out.append(f"+{e.step_id}")
        elif isinstance(e, StepFinished):
            out.append(f"-{e.step_id}")
        elif isinstance(e, ApprovalDecided):
            out.append("decided")
    return out


async def test_the_steps_that_need_nobody_run_while_a_person_decides() -> None:
    events: list[BaseEvent] = []
    notes_done = asyncio.Event()

    async def person(request: ApprovalRequest) -> bool:
        # before: the asking step held the only slot, the notes never started, and this timed out
        try:
            await asyncio.wait_for(notes_done.wait(), timeout=10)
        except TimeoutError:
            return False
        return True

    def watch(event: BaseEvent) -> None:
        events.append(event)
        if isinstance(event, StepFinished) and event.step_id == "n1":
            notes_done.set()

    sup = _supervisor(CallbackApprover(person, name="person"), notes=2)
    sup.subscribe(watch)
    result = await sup.run("issue order 7 and take notes")
    assert result.status == "succeeded", result.error
    assert result.steps["issue"].output == "order 7 issued"
    assert _order(events) == ["+issue", "+n0", "-n0", "+n1", "-n1", "decided", "-issue"]
    # the notes kept the limit among themselves: one at a time
    assert peak_steps(e for e in events if getattr(e, "step_id", "") != "issue") == 1


async def test_a_decided_step_takes_the_next_slot_before_steps_not_started() -> None:
    events: list[BaseEvent] = []
    first_note = asyncio.Event()

    async def person(request: ApprovalRequest) -> bool:
        await asyncio.wait_for(first_note.wait(), timeout=10)
        return True  # decided while n0 holds the slot

    def watch(event: BaseEvent) -> None:
        events.append(event)
        if isinstance(event, StepStarted) and event.step_id == "n0":
            first_note.set()

    sup = _supervisor(CallbackApprover(person, name="person"), notes=3)
    sup.subscribe(watch)
    assert (await sup.run("issue order 7 and take notes")).status == "succeeded"
    order = _order(events)
    assert order == ["+issue", "+n0", "decided", "-n0", "-issue", "+n1", "-n1", "+n2", "-n2"]


async def test_an_approver_that_answers_at_once_keeps_its_slot() -> None:
    events: list[BaseEvent] = []
    sup = _supervisor(ApproveAll(), notes=2)
    sup.subscribe(events.append)
    assert (await sup.run("issue order 7 and take notes")).status == "succeeded"
    assert _order(events) == ["+issue", "decided", "-issue", "+n0", "-n0", "+n1", "-n1"]
