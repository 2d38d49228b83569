"""Steps running at once: a default limit, overridable, applied in plan order (deterministic)."""

from __future__ import annotations

import asyncio

import pytest
from run_events import peak_steps

from agentorch import Agent, FunctionModel, Plan, Step, Supervisor, Verdict
from agentorch.errors import ConfigError
from agentorch.events.types import BaseEvent, StepStarted
from agentorch.limits import CONCURRENT_STEPS_KEY, DEFAULT_CONCURRENT_STEPS, Limits
from agentorch.models.types import ModelRequest
from agentorch.nesting import SupervisorAgent


class Gauge:
    """A model that counts its calls in flight, and the peak."""

    def __init__(self, delays: dict[str, float] | None = None) -> None:
        self.in_flight = 0
        self.peak = 0
        self.delays = delays or {}

    async def __call__(self, request: ModelRequest) -> str:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        text = str(request.messages[-1].content)
        delay = next((d for key, d in self.delays.items() if key in text), 0.01)
        try:
            await asyncio.sleep(delay)
        finally:
            self.in_flight -= 1
        return "done"


def _fan(n: int) -> Plan:
    """``n`` independent steps, then one that joins them."""
    steps = [Step(id=f"s{i}", agent="worker", instruction=f"part {i} of {n}") for i in range(n)]
    join = Step(id="join", agent="worker", instruction="join", depends_on=[s.id for s in steps])
    return Plan(steps=[*steps, join], final_step="join")


def _supervisor(gauge: Gauge, plan: Plan, limits: Limits | None = None) -> Supervisor:
    worker = Agent(name="worker", description="Does one part.", model=FunctionModel(gauge))
    return Supervisor([worker], tools=[], plan=plan, limits=limits)


def _starts(events: list[BaseEvent]) -> list[str]:
    return [e.step_id for e in events if isinstance(e, StepStarted)]


async def test_a_run_keeps_at_most_the_default_number_of_steps_in_flight() -> None:
    assert Limits().max_concurrent_steps == DEFAULT_CONCURRENT_STEPS == 16
    gauge = Gauge()
    events: list[BaseEvent] = []
    sup = _supervisor(gauge, _fan(40))
    sup.subscribe(events.append)
    result = await sup.run("forty parts")
    assert result.status == "succeeded"
    # every part ran, never more than 16 model calls at once (before: all 40 at once)
    assert gauge.peak == 16 and peak_steps(events) == 16
    assert _starts(events) == [*(f"s{i}" for i in range(40)), "join"]


@pytest.mark.parametrize("limit", [1, 3])
async def test_the_limit_is_overridable_and_steps_start_in_plan_order(limit: int) -> None:
    # parts finish out of order (the slow ones first in the plan): slots still go in plan order
    delays = {f"part {i} of": 0.05 if i % 3 == 0 else 0.005 for i in range(12)}
    orders = []
    for _ in range(2):
        gauge = Gauge(delays)
        events: list[BaseEvent] = []
        sup = _supervisor(gauge, _fan(12), Limits(max_concurrent_steps=limit))
        sup.subscribe(events.append)
        assert (await sup.run("twelve parts")).status == "succeeded"
        assert gauge.peak == limit
        orders.append(_starts(events))
    assert orders[0] == orders[1] == [*(f"s{i}" for i in range(12)), "join"]


async def test_no_limit_starts_every_ready_step_at_once() -> None:
    gauge = Gauge()
    sup = _supervisor(gauge, _fan(40), Limits(max_concurrent_steps=None))
    assert (await sup.run("forty parts")).status == "succeeded"
    assert gauge.peak == 40


async def test_the_run_s_recorded_override_wins_over_the_limits() -> None:
    gauge = Gauge()
    sup = _supervisor(gauge, _fan(10))
    result = await sup.run("ten parts", state={CONCURRENT_STEPS_KEY: 2})
    assert result.status == "succeeded" and gauge.peak == 2


async def test_a_revision_runs_under_the_limit_and_its_dependant_waits_for_it() -> None:
    gauge = Gauge()
    verdicts = iter(["revise", "pass"])
    drafts = iter(["first draft", "second draft"])

    async def draft(request: ModelRequest) -> str:
        await gauge(request)
        text = str(request.messages[-1].content)
        return next(drafts) if "draft it" in text else "done"

    def review(request: ModelRequest) -> str:
        verdict = next(verdicts)
        return f'{{"verdict": "{verdict}", "confidence": 0.9, "reasons": ["more detail"]}}'

    worker = Agent(name="worker", description="Does one part.", model=FunctionModel(draft))
    critic = Agent(
        name="critic", description="Reviews.", model=FunctionModel(review), output_type=Verdict
    )
    steps = [
        Step(id="draft", agent="worker", instruction="draft it"),
        Step(id="check", agent="critic", instruction="review", reviews="draft"),
        Step(id="use", agent="worker", instruction="use it", depends_on=["draft"]),
        *(Step(id=f"o{i}", agent="worker", instruction=f"other {i}") for i in range(4)),
    ]
    events: list[BaseEvent] = []
    sup = Supervisor(
        [worker, critic], tools=[], plan=Plan(steps=steps), limits=Limits(max_concurrent_steps=2)
    )
    sup.subscribe(events.append)
    result = await sup.run("draft and use")
    assert result.status == "succeeded", result.error
    assert result.steps["draft"].revision == 1 and result.steps["draft"].output == "second draft"
    starts = _starts(events)
    assert starts.index("use") > len(starts) - 1 - starts[::-1].index("draft")
    assert peak_steps(events) == 2


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_a_bad_limit_is_a_config_error(bad: object) -> None:
    with pytest.raises(ConfigError, match="max_concurrent_steps"):
        Limits(max_concurrent_steps=bad)  # type: ignore[arg-type]


async def test_a_nested_supervisor_s_step_holds_one_slot_and_runs_under_its_own_limit() -> None:
    gauge = Gauge()
    inner_worker = Agent(name="worker", description="Does one part.", model=FunctionModel(gauge))
    inner_plan = Plan(
        steps=[Step(id=f"t{i}", agent="worker", instruction=f"task {i}") for i in range(6)]
    )
    team = Supervisor(
        [inner_worker],
        tools=[],
        plan=inner_plan,
        name="team",
        description="Does tasks.",
        limits=Limits(max_concurrent_steps=3),
    )
    outer = Agent(name="worker", description="Does one part.", model=FunctionModel(gauge))
    plan = Plan(
        steps=[
            Step(id="team", agent="team", instruction="do the tasks"),
            *(Step(id=f"s{i}", agent="worker", instruction=f"part {i}") for i in range(6)),
        ]
    )
    sup = Supervisor(
        [SupervisorAgent(team, name="team", description="Does tasks."), outer],
        tools=[],
        plan=plan,
        limits=Limits(max_concurrent_steps=2),
    )
    result = await sup.run("tasks and parts")
    assert result.status == "succeeded", result.error
    # the team's step holds one of the run's 2 slots and runs 3 of its own at once: at most 4
    assert gauge.peak == 4


async def test_resume_can_change_the_limit_and_records_the_new_value(tmp_path) -> None:
    from agentorch import DeferredApprover
    from agentorch.store import open_store

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    gate = Step(id="gate", agent="worker", instruction="decide", risk="high")  # waits for a person
    parts = [
        Step(id=f"s{i}", agent="worker", instruction=f"part {i}", depends_on=["gate"])
        for i in range(8)
    ]
    plan = Plan(steps=[gate, *parts])
    worker = Agent(name="worker", description="Does one part.", model=FunctionModel(Gauge()))
    first = await Supervisor(
        [worker], tools=[], plan=plan, store=url, approver=DeferredApprover()
    ).run("eight parts", state={CONCURRENT_STEPS_KEY: 1})
    assert first.status == "waiting_approval", first.error
    gauge = Gauge()
    worker = Agent(name="worker", description="Does one part.", model=FunctionModel(gauge))
    sup = Supervisor([worker], tools=[], plan=plan, store=url)
    sup.approve(first.run_id, step="gate")
    with pytest.raises(ConfigError, match="max_concurrent_steps"):
        await sup.resume(first.run_id, max_concurrent_steps=0)
    result = await sup.resume(first.run_id, max_concurrent_steps=3)
    assert result.status == "succeeded", result.error
    assert gauge.peak == 3  # not the recorded 1
    store = open_store(url)
    try:
        assert store.get_run(first.run_id).spec["state"][CONCURRENT_STEPS_KEY] == 3
        assert store.verify_audit(first.run_id).ok  # the change is sealed like any other
    finally:
        store.close()
