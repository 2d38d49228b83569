"""Property: whatever sequence of kills, failures and successes one model call goes through across
restarts, the spend restored on resume counts every attempt killed in flight at its reservation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentorch import Budget, FunctionModel
from agentorch._spend import restore_spend as _restore_spend
from agentorch.engine import EmbeddedRuntime
from agentorch.errors import ProviderError
from agentorch.events.bus import EventBus
from agentorch.models.types import ModelRequest, UserMessage
from agentorch.runtime import ModelCall
from agentorch.store import RunRecord, open_store
from agentorch.tools.registry import ToolRegistry

PRICES = {"function:answer": {"input": 1e-6, "output": 2e-6}}


async def attempt(store_url: str, outcome: str) -> tuple[float, float]:
    """One process's try at the call: (its reservation, what it was charged if it finished)."""
    store = open_store(store_url)
    gate = asyncio.Event()

    async def answer(request: ModelRequest) -> str:
        if outcome == "killed":
            await gate.wait()  # never set: the process dies here
        if outcome == "failed":
            raise ProviderError("overloaded", provider="function", model="answer")
        return "the answer"

    budget = Budget(usd=10.0, prices=PRICES)
    runtime = EmbeddedRuntime(
        run_id="r1",
        budget=budget,
        bus=EventBus(),
        registry=ToolRegistry(()),
        approver=None,
        store=store,
    )
    call = ModelCall(
        key="s/0/model/1",
        agent="solo",
        step_id="s",
        model=FunctionModel(answer, name="answer"),
        request=ModelRequest(messages=(UserMessage(content="question " * 50),)),
    )
    task = asyncio.create_task(runtime.call_model(call))
    charged = 0.0
    try:
        if outcome == "killed":
            while not store.journal("r1") or store.journal("r1")[0].status != "started":
                await asyncio.sleep(0.001)
            await asyncio.sleep(0.005)
            task.cancel()  # like SIGKILL: the journal keeps the call "started"
            with pytest.raises(asyncio.CancelledError):
                await task
        elif outcome == "failed":
            with pytest.raises(ProviderError):
                await task
        else:
            charged = (await task).usage.cost_usd
        reserved = store.journal("r1")[0].request["reserved_usd"]
    finally:
        store.close()
    return reserved, charged


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(["killed", "failed"]), min_size=1, max_size=5), st.booleans())
def test_every_killed_attempt_stays_charged(
    tmp_path_factory: pytest.TempPathFactory, outcomes: list[str], ends: bool
) -> None:
    folder: Path = tmp_path_factory.mktemp("killed")
    url = f"sqlite:///{folder / 'runs.db'}"
    store = open_store(url)
    store.create_run(RunRecord(run_id="r1", task="t", status="running"))
    store.close()
    expected = 0.0
    for outcome in [*outcomes, *(["completed"] if ends else [])]:
        reserved, charged = asyncio.run(attempt(url, outcome))
        expected += reserved if outcome == "killed" else charged
    store = open_store(url)
    try:
        restored = Budget(usd=10.0, prices=PRICES)
        _restore_spend(restored, store, "r1")
    finally:
        store.close()
    assert restored.spent_usd == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert restored.report().total.requests == outcomes.count("killed") + ends
