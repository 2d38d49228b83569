"""The budget inside runs: usage tables, a run that hits its budget, resuming with a raised one."""

from __future__ import annotations

from pathlib import Path

from agentorch import Agent, Budget, FunctionModel, Plan, Step, Supervisor

PRICES = {"function:write": {"input": 1e-4, "output": 1e-4}}


class Writer(Agent):
    name = "writer"
    settings = Agent.settings.model_copy(update={"max_tokens": 200})


def plan(n: int) -> Plan:
    steps = [Step(id="s0", agent="writer", instruction="part 0")]
    steps += [
        Step(id=f"s{i}", agent="writer", instruction=f"part {i}", depends_on=[f"s{i - 1}"])
        for i in range(1, n)
    ]
    return Plan(steps=steps, final_step=f"s{n - 1}")


def write(request: object) -> str:
    return "a paragraph of text " * 5


async def test_usage_table_by_agent_model_and_step() -> None:
    sup = Supervisor(
        [Writer(model=FunctionModel(write))],
        tools=[],
        plan=plan(2),
        budget=Budget(usd=1, prices=PRICES),
    )
    result = await sup.run("task")
    usage = result.usage
    assert set(usage.by_agent) == {"writer"}
    assert set(usage.by_model) == {"function:write"}
    assert set(usage.by_step) == {"s0", "s1"}
    assert usage.total.requests == 2
    assert usage.total.cost_usd > 0


async def test_budget_stops_the_run_cleanly_and_resume_with_more_finishes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/runs.db"
    calls: list[int] = []

    def counted(request: object) -> str:
        calls.append(1)
        return write(request)

    writer = Writer(model=FunctionModel(counted, name="write"))
    sup = Supervisor(
        [writer], tools=[], plan=plan(4), store=url, budget=Budget(usd=0.045, prices=PRICES)
    )
    first = await sup.run("task")
    assert first.status == "budget_exceeded", first.error
    done = [s for s in first.steps.values() if s.status == "done"]
    assert done and len(done) < 4  # partial results kept
    assert first.usage.total.cost_usd <= 0.045
    paid = len(calls)

    second = await sup.resume(first.run_id, budget=Budget(usd=1.0, prices=PRICES))
    assert second.status == "succeeded", second.error
    assert len(calls) == 4  # finished steps were not run again
    assert paid < 4
    assert second.usage.total.requests == 4
