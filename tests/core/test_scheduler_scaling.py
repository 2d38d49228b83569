"""The scheduler's work grows linearly with the plan: lookups by id, only touched steps examined."""

from __future__ import annotations

import pytest

from agentorch import Agent, Plan, Step, Supervisor
from agentorch.models.testing import FunctionModel, text_response
from agentorch.orchestrator import Limits, Orchestrator


def _chain(n: int, **extra: object) -> Plan:
    return Plan(
        steps=[
            Step(
                id=f"s{i}",
                agent="worker",
                instruction=f"step {i}",
                depends_on=[f"s{i - 1}"] if i else [],
            )
            for i in range(n)
        ],
        **extra,  # type: ignore[arg-type]
    )


def test_plan_lookups_by_id_follow_edits_of_the_step_list() -> None:
    plan = _chain(4)
    assert plan.step("s2").instruction == "step 2"
    assert plan.direct_dependants("s1") == ["s2"]
    assert plan.dependants_of("s1") == ["s2", "s3"]
    plan.steps[2] = Step(id="x", agent="worker", instruction="replaced in place")
    assert plan.step("x").instruction == "replaced in place"
    with pytest.raises(KeyError):
        plan.step("s2")
    plan.steps.append(Step(id="r", agent="critic", instruction="review", reviews="s0"))
    assert [s.id for s in plan.reviewers_of("s0")] == ["r"]
    assert plan.direct_dependants("s0") == ["s1", "r"]


@pytest.mark.parametrize("n", [16, 256])
async def test_a_chain_examines_each_step_a_bounded_number_of_times(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    examined = 0
    original = Orchestrator._is_ready

    def counting(self: Orchestrator, *args: object) -> bool:
        nonlocal examined
        examined += 1
        return original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Orchestrator, "_is_ready", counting)
    model = FunctionModel(lambda request: text_response("done"), name="fake")
    sup = Supervisor(
        [Agent(name="worker", description="Does one step.", model=model)],
        model=model,
        limits=Limits(max_steps=n + 1, max_plan_steps=n),
    )
    result = await sup.run("chain", plan=_chain(n, final_step=f"s{n - 1}"))
    assert result.status == "succeeded"
    # each step is examined when the run starts and again each time it or its dependency changes:
    # a constant number of times per step, whatever the plan's length (it was n per completion)
    assert examined <= 6 * n


async def test_a_failed_step_skips_its_whole_chain_of_dependants() -> None:
    def answer(request: object) -> object:
        raise RuntimeError("boom")

    failing = FunctionModel(answer, name="failing")
    model = FunctionModel(lambda request: text_response("done"), name="fake")
    plan = _chain(5)
    plan.steps[0] = Step(id="s0", agent="broken", instruction="step 0")
    sup = Supervisor(
        [
            Agent(name="worker", description="Does one step.", model=model),
            Agent(name="broken", description="Fails.", model=failing),
        ],
        model=model,
    )
    result = await sup.run("chain", plan=plan)
    assert result.steps["s0"].status == "failed"
    assert [result.steps[f"s{i}"].status for i in range(1, 5)] == ["skipped"] * 4


def test_cycles_are_found_in_a_long_chain_declared_backwards() -> None:
    from agentorch.plan import find_cycle

    steps = list(reversed(_chain(5_000).steps))  # each step visited before its dependency
    assert find_cycle(Plan(steps=steps)) is None
    steps[-1] = Step(id="s0", agent="worker", instruction="loops", depends_on=["s4999"])
    cycle = find_cycle(Plan(steps=steps))
    assert cycle is not None and cycle[0] == cycle[-1] and len(cycle) == 5_001
    tight = [
        Step(id="a", agent="worker", instruction="a", depends_on=["b"]),
        Step(id="b", agent="worker", instruction="b", depends_on=["c", "a"]),
        Step(id="c", agent="worker", instruction="c"),
    ]
    assert find_cycle(Plan(steps=tight)) == ["a", "b", "a"]
