"""Following runs on Temporal is incremental and cheap: one poller delivers every followed run's
new events (read after the last one delivered), and a quiet run's key check backs off. A fake
client stands in for the service: these tests look at what the client asks, not at Temporal."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agentorch import Agent, FunctionModel, Supervisor
from agentorch.events.types import BaseEvent, StepStarted
from agentorch.store import open_store
from agentorch.store.base import RunRecord
from agentorch.temporal import Temporal
from agentorch.temporal import _types as t
from agentorch.temporal import client as temporal_client


class _Handle:
    """A run's workflow: ends when the test says so; counts describes (healthy each time)."""

    def __init__(self, run_id: str) -> None:
        self.id = run_id
        self.finished = asyncio.Event()
        self.describes = 0

    async def result(self) -> t.RunOutput:
        await self.finished.wait()
        return t.RunOutput(run_id=self.id, status="succeeded")

    async def describe(self) -> Any:
        self.describes += 1
        task = type("Task", (), {"attempt": 1})()
        return type(
            "Described", (), {"raw_description": type("Raw", (), {"pending_workflow_task": task})()}
        )()


class _Client:
    def __init__(self) -> None:
        self.handles: dict[str, _Handle] = {}

    def get_workflow_handle(self, run_id: str, **_: Any) -> _Handle:
        return self.handles.setdefault(run_id, _Handle(run_id))


class _Counting:
    """The store, with a record of every ``events`` read: (run, after)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reads: list[tuple[str, int]] = []

    def events(self, run_id: str, *, after: int = 0) -> Any:
        self.reads.append((run_id, after))
        return self.inner.events(run_id, after=after)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(temporal_client, "FOLLOW_SECONDS", 0.01)
    monkeypatch.setattr(temporal_client, "WAIT_CHECK_SECONDS", 0.01)
    db = open_store(f"sqlite:///{tmp_path}/runs.db")
    store = _Counting(db)
    agent = Agent(name="a", description="A.", model=FunctionModel(lambda r: "ok"))
    supervisor = Supervisor([agent])
    monkeypatch.setattr(temporal_client, "_store_of", lambda _: store)
    client = _Client()
    temporal = Temporal(_client=client)  # type: ignore[arg-type]
    yield temporal, supervisor, store, client
    db.close()


def _step(store: Any, run_id: str, step_id: str) -> None:
    event = StepStarted(run_id=run_id, step_id=step_id, agent="a", ts=1.0)
    store.append_event(run_id, event.kind, 1.0, event.model_dump(mode="json"))


async def test_one_poller_delivers_every_run_s_new_events_once(setup) -> None:  # type: ignore[no-untyped-def]
    temporal, supervisor, store, client = setup
    runs = ["r1", "r2", "r3"]
    got: dict[str, list[str]] = {r: [] for r in runs}
    for run_id in runs:
        store.create_run(RunRecord(run_id=run_id, task="t", status="running"))

    def collect(run_id: str) -> Any:
        return lambda event: got[run_id].append(event.step_id)

    following = [
        asyncio.ensure_future(temporal.result(supervisor, r, follow=[collect(r)])) for r in runs
    ]
    await asyncio.sleep(0.05)
    (follower,) = temporal._followers.values()  # one poller for the three runs
    assert [feed.run_id for feed in follower.feeds] == runs
    for i in range(3):
        for run_id in runs:
            _step(store, run_id, f"s{i}")
        await asyncio.sleep(0.05)
    for run_id in runs:
        client.handles[run_id].finished.set()
    results = await asyncio.gather(*following)
    assert [r.status for r in results] == ["succeeded"] * 3
    assert got == {r: ["s0", "s1", "s2"] for r in runs}  # each once, in order
    # every read asks only for what follows the last delivered event (before: the whole log)
    for run_id in runs:
        afters = [after for rid, after in store.reads if rid == run_id]
        assert afters[-1] == 3 and sorted(afters) == afters
    assert not follower.feeds  # nothing followed: the poller stopped


async def test_a_subscriber_s_error_ends_its_follow(setup) -> None:  # type: ignore[no-untyped-def]
    temporal, supervisor, store, _ = setup
    store.create_run(RunRecord(run_id="r1", task="t", status="running"))
    _step(store, "r1", "s0")

    def broken(event: BaseEvent) -> None:
        raise RuntimeError("the view broke")

    with pytest.raises(RuntimeError, match="the view broke"):
        await asyncio.wait_for(temporal.result(supervisor, "r1", follow=[broken]), timeout=10)


async def test_a_quiet_run_s_key_check_backs_off(setup, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A run waiting days for a person was described every 4 s by each client following it."""
    temporal, supervisor, store, client = setup
    monkeypatch.setattr(temporal_client, "KEY_CHECK_SECONDS", 0.01)
    monkeypatch.setattr(temporal_client, "KEY_CHECK_MAX_SECONDS", 0.16)
    store.create_run(RunRecord(run_id="r1", task="t", status="waiting_approval"))
    following = asyncio.ensure_future(temporal.result(supervisor, "r1", until_finished=True))
    await asyncio.sleep(1.0)
    client.handles["r1"].finished.set()
    await following
    # 0.01, 0.02, 0.04, 0.08, then every 0.16 s: about 8 looks in a second (before: about 100)
    assert 1 <= client.handles["r1"].describes <= 12
