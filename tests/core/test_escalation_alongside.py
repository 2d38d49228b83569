"""An escalation waits for its person beside the other steps: the steps that do not depend on
the escalated one keep starting and finishing; its dependants start once the decision settles
it (accepted), after it ran again (revise), or are skipped when it fails (denied at the cap)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from run_events import peak_steps

from agentorch import Agent, FunctionModel, Plan, Step, Supervisor
from agentorch.approvals import (
    ApprovalDecision,
    ApprovalRequest,
    Approver,
    CallbackApprover,
    DeferredApprover,
    approve,
    deny,
)
from agentorch.approvals_store import decide_pending
from agentorch.changes import ESCALATION_ALONGSIDE
from agentorch.events.types import ApprovalDecided, BaseEvent, StepFinished, StepStarted
from agentorch.limits import Limits
from agentorch.models.types import ModelRequest
from agentorch.runtime import Runtime
from agentorch.store import open_store


async def _note(request: ModelRequest) -> str:
    await asyncio.sleep(0.02)
    return "noted"


def _quote(request: ModelRequest) -> str:
    revised = any("too high" in getattr(m, "content", "") for m in request.messages)
    return "SUP-1 costs 1000 a year." if revised else "SUP-1 costs 1200 a year."


def _supervisor(approver: Approver, *, store: str | None = None, **limits: int) -> Supervisor:
    quoter = Agent(name="quoter", description="Quotes prices.", model=FunctionModel(_quote))
    notes = Agent(name="notes", description="Takes notes.", model=FunctionModel(_note))
    plan = Plan(
        steps=[
            Step(id="quote", agent="quoter", instruction="Quote SUP-1.", risk="high"),
            Step(id="follow", agent="notes", instruction="Note the quote.", depends_on=["quote"]),
            Step(id="n0", agent="notes", instruction="Note 0."),
            Step(id="n1", agent="notes", instruction="Note 1.", depends_on=["n0"]),
        ]
    )
    return Supervisor(
        [quoter, notes], plan=plan, approver=approver, store=store, limits=Limits(**limits)
    )


def _order(events: list[BaseEvent]) -> list[str]:
    """``+step`` started, ``-step`` finished, ``?decision`` a person decided."""
    out = []
    for e in events:
        if isinstance(e, StepStarted):
            out.append(f"+{e.step_id}")
        elif isinstance(e, StepFinished):
            out.append(f"-{e.step_id}")
        elif isinstance(e, ApprovalDecided):
            out.append(f"?{e.decision}")
    return out


def _person(
    answers: list[ApprovalDecision], events: list[BaseEvent]
) -> tuple[CallbackApprover, Callable[[BaseEvent], None]]:
    """A person who decides only once the independent chain (n0, then n1) has finished, and the
    subscriber that records the run's events and tells the person."""
    notes_done = asyncio.Event()
    asked: list[str] = []

    async def decide(request: ApprovalRequest) -> ApprovalDecision:
        asked.append(request.step_id or "")
        # before: the loop waited for this decision, n1 never started and this timed out
        try:
            await asyncio.wait_for(notes_done.wait(), timeout=10)
        except TimeoutError:
            return deny("the notes never finished while I decided", "person")
        return answers[len(asked) - 1]

    def watch(event: BaseEvent) -> None:
        events.append(event)
        if isinstance(event, StepFinished) and event.step_id == "n1":
            notes_done.set()

    return CallbackApprover(decide, name="person"), watch


async def test_independent_steps_run_while_a_person_decides_and_dependants_wait() -> None:
    events: list[BaseEvent] = []
    approver, watch = _person([approve("person")], events)
    sup = _supervisor(approver)
    sup.subscribe(watch)
    result = await sup.run("quote and take notes")
    assert result.status == "succeeded", result.error
    order = _order(events)
    # the chain n0 -> n1 started and finished while the quote waited for its person
    assert order.index("-n1") < order.index("?approved")
    # the quote's dependant started only once the person accepted the quote
    assert order.index("?approved") < order.index("+follow")
    assert order.count("+quote") == 1
    assert [r.status for r in result.steps.values()] == ["done"] * 4


async def test_a_revision_asked_by_the_person_runs_the_step_again_then_its_dependant() -> None:
    events: list[BaseEvent] = []
    approver, watch = _person([deny("too high", "person"), approve("person")], events)
    sup = _supervisor(approver)
    sup.subscribe(watch)
    result = await sup.run("quote and take notes")
    assert result.status == "succeeded", result.error
    order = _order(events)
    assert order.index("-n1") < order.index("?denied")
    assert order[order.index("?denied") :].count("+quote") == 1  # ran again after the denial
    assert order.index("?approved") < order.index("+follow")
    assert result.steps["quote"].revision == 1
    assert result.steps["quote"].output == "SUP-1 costs 1000 a year."
    assert result.steps["follow"].status == "done"


async def test_a_denial_at_the_revision_cap_fails_the_step_and_skips_its_dependant() -> None:
    events: list[BaseEvent] = []
    approver, watch = _person([deny("too high", "person")], events)
    sup = _supervisor(approver, max_revisions=0)
    sup.subscribe(watch)
    result = await sup.run("quote and take notes")
    order = _order(events)
    assert order.index("-n1") < order.index("?denied")
    assert "+follow" not in order
    statuses = {sid: r.status for sid, r in result.steps.items()}
    assert statuses == {"quote": "failed", "follow": "skipped", "n0": "done", "n1": "done"}
    assert "revision cap" in (result.steps["quote"].error or "")


async def test_a_run_recorded_before_the_change_waits_for_the_decision_as_it_did(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Gated by ``ESCALATION_ALONGSIDE``: without it, nothing is taken in while a person decides."""
    monkeypatch.setattr(Runtime, "uses_change", lambda self, change: change != ESCALATION_ALONGSIDE)
    events: list[BaseEvent] = []
    decided = asyncio.Event()

    async def person(request: ApprovalRequest) -> bool:
        await asyncio.sleep(0.3)  # n0 finishes meanwhile; the loop takes it in only later
        decided.set()
        return True

    sup = _supervisor(CallbackApprover(person, name="person"))
    sup.subscribe(events.append)
    assert (await sup.run("quote and take notes")).status == "succeeded"
    order = _order(events)
    assert order.index("?approved") < order.index("-n0") < order.index("+n1")


async def test_a_deferred_escalation_leaves_the_run_waiting_and_resume_settles_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/runs.db"
    first = await _supervisor(DeferredApprover(), store=url).run("quote and take notes")
    assert first.status == "waiting_approval", first.error
    statuses = {sid: r.status for sid, r in first.steps.items()}
    # everything that did not depend on the quote finished; its dependant waits
    assert statuses == {"quote": "done", "follow": "pending", "n0": "done", "n1": "done"}
    store = open_store(url)
    try:
        decide_pending(store, first.run_id, step="quote", approver="person")
    finally:
        store.close()
    events: list[BaseEvent] = []
    sup = _supervisor(DeferredApprover(), store=url)
    sup.subscribe(events.append)
    second = await sup.resume(first.run_id)
    assert second.status == "succeeded", second.error
    assert _order(events) == ["+follow", "-follow"]  # only the dependant ran
    store = open_store(url)
    try:
        quote = {s.step_id: s for s in store.get_steps(first.run_id)}["quote"]
    finally:
        store.close()
    assert quote.settled and any("approved by person" in d for d in quote.decisions)


async def test_cancelling_the_run_while_a_person_decides_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/runs.db"
    asked = asyncio.Event()

    async def person(request: ApprovalRequest) -> bool:
        asked.set()
        await asyncio.Event().wait()  # never decides
        return True

    sup = _supervisor(CallbackApprover(person, name="person"), store=url)
    before = asyncio.all_tasks()
    run = asyncio.create_task(sup.run("quote and take notes"))
    await asyncio.wait_for(asked.wait(), timeout=10)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert [t for t in asyncio.all_tasks() if t not in before and not t.done()] == []
    store = open_store(url)
    try:
        (stored,) = store.list_runs()
        steps = {s.step_id: s for s in store.get_steps(stored.run_id)}
    finally:
        store.close()
    # the quote stays done and unsettled (asked again on resume); its dependant never started
    assert steps["quote"].status == "done" and not steps["quote"].settled
    assert "follow" not in steps or steps["follow"].status == "pending"


async def test_a_nested_level_s_escalations_give_its_step_s_slot_back_once() -> None:
    """Two escalations waiting at once inside a nested supervisor give the outer step's one slot
    back once: the outer level's other steps still run one at a time under its limit of 1."""
    quoter = Agent(name="quoter", description="Quotes prices.", model=FunctionModel(_quote))
    inner = Supervisor(
        [quoter],
        plan=Plan(
            steps=[
                Step(id=f"q{i}", agent="quoter", instruction=f"Quote {i}.", risk="high")
                for i in range(2)
            ]
        ),
        name="desk",
        description="The quoting desk.",
    )
    events: list[BaseEvent] = []
    notes_done = asyncio.Event()

    async def person(request: ApprovalRequest) -> bool:
        await asyncio.wait_for(notes_done.wait(), timeout=10)
        return True

    def watch(event: BaseEvent) -> None:
        events.append(event)
        if isinstance(event, StepFinished) and event.step_id == "n2":
            notes_done.set()

    notes = Agent(name="notes", description="Takes notes.", model=FunctionModel(_note))
    outer = Supervisor(
        [inner.as_agent(), notes],
        plan=Plan(
            steps=[
                Step(id="desk", agent="desk", instruction="Quote both."),
                *(Step(id=f"n{i}", agent="notes", instruction=f"Note {i}.") for i in range(3)),
            ]
        ),
        approver=CallbackApprover(person, name="person"),
        limits=Limits(max_concurrent_steps=1),
    )
    outer.subscribe(watch)
    result = await outer.run("quote and take notes")
    assert result.status == "succeeded", result.error
    outer_events = [e for e in events if "." not in (getattr(e, "step_id", "") or ".")]
    order = _order(outer_events)
    assert order.index("-n2") < order.index("-desk")  # the notes ran while the desk waited
    assert peak_steps(e for e in outer_events if getattr(e, "step_id", "") != "desk") == 1
