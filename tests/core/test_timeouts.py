"""Timeouts that bound: a tool or model past its timeout gives control back to the run, whatever
it does (a sync tool that never returns, an async tool that swallows cancellation, a custom
model that never answers). An abandoned side-effecting call stays in doubt in the journal.

The stuck tools wait on events released at the end of each test, and run on daemon threads,
so nothing here can hold up pytest's exit (checked by the last test)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from agentorch import Agent, ApproveAll, Budget, Plan, ScriptedModel, Step, Supervisor, tool
from agentorch.events.types import BaseEvent
from agentorch.models.base import Model
from agentorch.models.testing import tool_call_response
from agentorch.models.types import ModelRequest, ModelResponse, ModelSettings, ToolResultMessage

RELEASE = threading.Event()
CALLS: list[str] = []
#: Generous: only there so a regression fails the test instead of hanging the suite.
GUARD = 30.0


@pytest.fixture(autouse=True)
def _release() -> Iterator[None]:
    RELEASE.clear()
    CALLS.clear()
    yield
    RELEASE.set()


@tool(risk="write", timeout=0.2)
def stuck_sync(order: str) -> str:
    """Place an order (and hang)."""
    CALLS.append(order)
    RELEASE.wait()
    return "placed"


@tool(risk="write", timeout=0.2)
async def stubborn_async(order: str) -> str:
    """Place an order and refuse to be cancelled."""
    CALLS.append(order)
    while not RELEASE.is_set():
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            continue
    return "placed"


@tool(risk="write", timeout=0.2)
async def polite_async(order: str) -> str:
    """Place an order slowly, honouring cancellation."""
    CALLS.append(order)
    await asyncio.sleep(60)
    return "placed"


class Buyer(Agent):
    name = "buyer"
    description = "Buys."
    tools = ["stuck_sync", "stubborn_async", "polite_async"]


def make(model: Model, events: list[BaseEvent] | None = None, **kwargs: Any) -> Supervisor:
    return Supervisor(
        [Buyer(model=model)],
        tools=[stuck_sync, stubborn_async, polite_async],
        budget=Budget(allow_unpriced=True),
        plan=Plan(steps=[Step(id="s", agent="buyer", instruction="buy")], final_step="s"),
        approver=ApproveAll(),
        store=":memory:",
        on_event=(events if events is not None else []).append,
        **kwargs,
    )


def reply(model: ScriptedModel) -> ToolResultMessage:
    return [m for m in model.requests[1].messages if isinstance(m, ToolResultMessage)][-1]


@pytest.mark.parametrize("tool_name", ["stuck_sync", "stubborn_async"])
async def test_a_tool_that_will_not_stop_is_abandoned_and_left_in_doubt(tool_name: str) -> None:
    events: list[BaseEvent] = []
    model = ScriptedModel([tool_call_response((tool_name, {"order": "A-1"})), "moved on"])
    supervisor = make(model, events)
    try:
        result = await asyncio.wait_for(supervisor.run("buy"), GUARD)
    finally:
        RELEASE.set()  # before pytest's own loop closes: it would wait for the stubborn task
    assert result.status == "succeeded", result.error
    assert CALLS == ["A-1"]
    message = reply(model)
    assert message.is_error and "abandoned" in message.content and "unknown" in message.content
    journal = supervisor.store.journal(result.run_id, kind="tool")  # type: ignore[union-attr]
    assert [e.status for e in journal] == ["started"]  # in doubt: a resume asks a person
    finished = [e for e in events if e.kind == "tool_call_finished"]
    assert finished and finished[-1].is_error  # type: ignore[attr-defined]


async def test_an_async_tool_that_honours_cancellation_just_times_out() -> None:
    model = ScriptedModel([tool_call_response(("polite_async", {"order": "B-2"})), "ok"])
    supervisor = make(model)
    result = await asyncio.wait_for(supervisor.run("buy"), GUARD)
    assert result.status == "succeeded"
    assert "timed out after 0.2 s" in reply(model).content
    journal = supervisor.store.journal(result.run_id, kind="tool")  # type: ignore[union-attr]
    assert [e.status for e in journal] == ["failed"]


def test_run_sync_returns_while_an_abandoned_tool_still_runs() -> None:
    """``asyncio.run`` would wait for the thread and the stubborn task when it closes its loop."""
    for tool_name in ("stuck_sync", "stubborn_async"):
        model = ScriptedModel([tool_call_response((tool_name, {"order": "C-3"})), "done"])
        done = threading.Event()
        outcome: list[Any] = []

        def go(
            model: ScriptedModel = model, done: threading.Event = done, outcome: list[Any] = outcome
        ) -> None:
            outcome.append(make(model).run_sync("buy"))
            done.set()

        threading.Thread(target=go, daemon=True).start()
        assert done.wait(GUARD), f"run_sync hung on {tool_name}"
        assert outcome[0].status == "succeeded"


class SilentModel(Model):
    """A custom model that never answers."""

    provider = "custom"
    name = "silent"

    def __init__(self) -> None:
        self.calls = 0

    async def request(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class Quiet(Agent):
    name = "quiet"
    description = "Never answers."
    settings = ModelSettings(timeout=0.2)


async def test_a_model_that_never_answers_is_bounded_by_its_timeout() -> None:
    model = SilentModel()
    supervisor = Supervisor(
        [Quiet(model=model)],
        budget=Budget(allow_unpriced=True),
        plan=Plan(steps=[Step(id="s", agent="quiet", instruction="x")], final_step="s"),
        retries=1,
    )
    result = await asyncio.wait_for(supervisor.run("x"), GUARD)
    assert result.status == "failed"
    assert "timed out" in (result.error or "") or "timed out" in str(result.steps["s"].error)
    assert model.calls == 2  # a timeout is retryable, like a provider's own


async def test_a_standalone_agent_model_is_bounded_too() -> None:
    from agentorch.errors import ProviderError

    with pytest.raises(ProviderError, match="timed out"):
        await asyncio.wait_for(Quiet(model=SilentModel()).run("x"), GUARD)


def test_the_worker_pool_replaces_a_stuck_worker_and_never_runs_a_call_given_up_early() -> None:
    from agentorch.tools._bounded import _Call, _DaemonPool

    pool = _DaemonPool(1)
    started, ran = threading.Event(), threading.Event()
    stuck = _Call(lambda: (started.set(), RELEASE.wait()))
    pool.submit(stuck)
    assert started.wait(GUARD)
    queued = _Call(lambda: ran.set())
    pool.submit(queued)  # the only worker is busy: it waits in the queue
    assert pool.give_up(queued) is False  # never started, so it never will
    assert pool.give_up(stuck) is True  # running: abandoned, its place freed
    after = threading.Event()
    pool.submit(_Call(lambda: after.set()))
    assert after.wait(GUARD)  # a fresh worker took the stuck one's place
    RELEASE.set()
    assert not ran.wait(0.2)


async def test_time_queued_for_a_worker_does_not_count_against_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many steps calling tools at once queue for the workers: a call that waited its turn
    longer than its timeout still runs, and is bounded from when it starts."""
    from agentorch.tools import _bounded

    monkeypatch.setattr(_bounded, "_POOL", _bounded._DaemonPool(1))
    gate = threading.Event()
    busy = asyncio.ensure_future(_bounded.call_sync(lambda: gate.wait(GUARD), 5.0, "busy"))
    await asyncio.sleep(0.05)
    queued = asyncio.ensure_future(_bounded.call_sync(lambda: "ran", 0.2, "queued"))
    await asyncio.sleep(0.6)  # three times its timeout, waiting for the only worker
    assert not queued.done()
    gate.set()
    assert await asyncio.wait_for(busy, GUARD) is True
    assert await asyncio.wait_for(queued, GUARD) == "ran"
    slow = asyncio.ensure_future(_bounded.call_sync(lambda: RELEASE.wait(GUARD), 0.2, "slow"))
    with pytest.raises(_bounded.ToolAbandoned):  # its own run is still bounded
        await asyncio.wait_for(slow, GUARD)


def test_no_thread_left_can_block_the_exit() -> None:
    """Every thread still alive (abandoned tool threads included) is a daemon thread."""
    RELEASE.set()
    blocking = [
        t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon
    ]
    assert blocking == [], blocking
