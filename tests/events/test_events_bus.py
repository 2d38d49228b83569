from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from agentorch.errors import ConfigError
from agentorch.events import EventBus, Redactor
from agentorch.events.types import (
    BaseEvent,
    RunFinished,
    StepStarted,
    TextDeltaEvent,
    ToolCallStarted,
)


def ev(i: int, run_id: str = "r1") -> BaseEvent:
    return StepStarted(run_id=run_id, step_id=f"s{i}", agent="writer", ts=float(i))


def delta(text: str) -> BaseEvent:
    return TextDeltaEvent(run_id="r1", text=text)


def plain_bus(**kwargs: object) -> EventBus:
    return EventBus(redactor=Redactor(env=False), **kwargs)  # type: ignore[arg-type]


# --- sync use (no running loop) --------------------------------------------------------------


def test_sync_ordering_critical_first_and_kinds_filter() -> None:
    bus = plain_bus()
    calls: list[tuple[str, str]] = []
    bus.subscribe(lambda e: calls.append(("plain", e.kind)))
    bus.subscribe(lambda e: calls.append(("critical", e.kind)), critical=True)
    bus.subscribe(lambda e: calls.append(("runs", e.kind)), kinds=["run_finished"])
    bus.emit(ev(1))
    bus.emit(RunFinished(run_id="r1", status="succeeded"))
    assert calls == [
        ("critical", "step_started"),
        ("plain", "step_started"),
        ("critical", "run_finished"),
        ("plain", "run_finished"),
        ("runs", "run_finished"),
    ]


def test_critical_subscriber_errors_propagate_and_must_be_sync() -> None:
    bus = plain_bus()

    def store(event: BaseEvent) -> None:
        raise OSError("disk full")

    bus.subscribe(store, critical=True)
    with pytest.raises(OSError, match="disk full"):
        bus.emit(ev(1))

    async def later(event: BaseEvent) -> None: ...

    with pytest.raises(ConfigError, match="critical"):
        bus.subscribe(later, critical=True)
    with pytest.raises(ConfigError):
        bus.subscribe("not callable")  # type: ignore[arg-type]


def test_sync_failing_subscriber_is_logged_once_then_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = plain_bus(max_failures=3)
    got: list[str] = []

    def broken(event: BaseEvent) -> None:
        raise RuntimeError("boom")

    sub = bus.subscribe(broken, name="broken")
    bus.subscribe(lambda e: got.append(e.step_id or ""))
    with caplog.at_level(logging.ERROR, logger="agentorch.events"):
        for i in range(5):
            bus.emit(ev(i))
    assert got == ["s0", "s1", "s2", "s3", "s4"]
    assert not sub.active and sub not in bus.subscriptions
    messages = [r.getMessage() for r in caplog.records]
    assert sum("failed; it keeps receiving" in m for m in messages) == 1
    assert sum("unsubscribed" in m for m in messages) == 1


def test_unsubscribe_and_context_manager() -> None:
    bus = plain_bus()
    got: list[BaseEvent] = []
    with bus.subscribe(got.append):
        bus.emit(ev(1))
    bus.emit(ev(2))
    assert [e.step_id for e in got] == ["s1"]


def test_emit_returns_redacted_event_and_leaves_original_alone() -> None:
    bus = EventBus(redactor=Redactor(["hunter2-secret"], env=False))
    seen: list[BaseEvent] = []
    bus.subscribe(seen.append, critical=True)
    original = ToolCallStarted(
        run_id="r1",
        tool="login",
        call_id="c",
        idempotency_key="k",
        arguments={"user": "ann", "pw": "hunter2-secret"},
    )
    out = bus.emit(original)
    assert out.arguments == {"user": "ann", "pw": "[REDACTED]"}  # type: ignore[attr-defined]
    assert seen == [out]
    assert original.arguments["pw"] == "hunter2-secret"
    clean = ev(1)
    assert bus.emit(clean) is clean  # nothing to redact: no copy


def test_async_subscriber_without_loop_is_delivered_at_next_drain() -> None:
    bus = plain_bus()
    got: list[str] = []

    async def collect(event: BaseEvent) -> None:
        got.append(event.step_id or "")

    bus.subscribe(collect)
    bus.emit(ev(1))
    bus.emit(ev(2))
    assert got == []
    assert asyncio.run(bus.drain()) is True
    assert got == ["s1", "s2"]


def test_bus_survives_a_new_event_loop_per_run() -> None:
    bus = plain_bus()
    got: list[str] = []

    async def collect(event: BaseEvent) -> None:
        got.append(event.step_id or "")

    bus.subscribe(collect)

    async def one_run(i: int) -> None:
        bus.emit(ev(i))
        await bus.drain()

    asyncio.run(one_run(1))
    asyncio.run(one_run(2))
    assert got == ["s1", "s2"]


# --- async use ------------------------------------------------------------------------------


async def test_async_and_sync_subscribers_get_events_in_order() -> None:
    bus = plain_bus()
    async_got: list[str] = []
    sync_got: list[str] = []

    async def collect(event: BaseEvent) -> None:
        await asyncio.sleep(0)
        async_got.append(event.step_id or "")

    bus.subscribe(collect)
    bus.subscribe(lambda e: sync_got.append(e.step_id or ""))
    for i in range(20):
        bus.emit(ev(i))
    assert async_got == [] and sync_got == []  # delivery happens off the emitting path
    assert await bus.drain() is True
    expected = [f"s{i}" for i in range(20)]
    assert async_got == expected and sync_got == expected


async def test_one_worker_task_per_subscriber_not_per_event() -> None:
    bus = plain_bus()

    async def a(event: BaseEvent) -> None: ...

    bus.subscribe(a)
    bus.subscribe(lambda e: None)
    before = len(asyncio.all_tasks())
    for i in range(500):
        bus.emit(ev(i))
    assert len(asyncio.all_tasks()) - before == 2
    await bus.drain()


async def test_raising_and_blocked_subscribers_do_not_affect_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = plain_bus(max_failures=2)
    never = asyncio.Event()
    got: list[str] = []
    blocked_got: list[str] = []

    async def blocked(event: BaseEvent) -> None:
        blocked_got.append(event.step_id or "")
        await never.wait()

    async def raising(event: BaseEvent) -> None:
        raise ValueError("subscriber bug")

    async def good(event: BaseEvent) -> None:
        got.append(event.step_id or "")

    blocked_sub = bus.subscribe(blocked, name="blocked")
    raising_sub = bus.subscribe(raising, name="raising")
    bus.subscribe(good)
    with caplog.at_level(logging.WARNING, logger="agentorch.events"):
        for i in range(50):
            assert bus.emit(ev(i)).step_id == f"s{i}"
        flushed = await bus.drain(timeout=0.2)
    assert flushed is False  # the blocked one was given up on, the call returned
    assert got == [f"s{i}" for i in range(50)]
    assert blocked_got == ["s0"] and blocked_sub.pending == 50
    assert not raising_sub.active
    messages = [r.getMessage() for r in caplog.records]
    assert any("'blocked' did not finish" in m for m in messages)
    assert sum("'raising' failed; it keeps" in m for m in messages) == 1
    never.set()
    assert await bus.drain() is True
    assert len(blocked_got) == 50


async def test_full_queue_drops_oldest_ephemeral_first_and_reports(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = plain_bus(max_queue=3)
    got: list[str] = []
    sub = bus.subscribe(lambda e: got.append(getattr(e, "text", None) or e.step_id or ""))
    # The worker cannot run until we yield, so the whole burst meets the bound.
    for e in (ev(1), delta("d1"), ev(2), delta("d2"), ev(3), ev(4), delta("d3")):
        bus.emit(e)
    assert sub.dropped == 4
    assert bus.dropped() == {sub.name: 4}
    with caplog.at_level(logging.WARNING, logger="agentorch.events"):
        await bus.drain()
    assert got == ["s2", "s3", "s4"]
    assert any("4 event(s) dropped" in r.getMessage() for r in caplog.records)


async def test_emit_from_a_worker_thread_reaches_loop_subscribers() -> None:
    bus = plain_bus()
    got: list[tuple[str, bool]] = []
    loop_thread = threading.get_ident()
    bus.subscribe(lambda e: got.append((e.step_id or "", threading.get_ident() == loop_thread)))
    bus.emit(ev(1))
    await asyncio.to_thread(bus.emit, ev(2))
    await asyncio.sleep(0)
    await bus.drain()
    assert got == [("s1", True), ("s2", True)]


async def test_stream_yields_events_until_closed() -> None:
    bus = plain_bus()
    stream = bus.stream()
    only_r2 = bus.stream(run_id="r2")
    bus.emit(ev(0))  # emitted before anyone iterates: still delivered

    async def consume(s: object) -> list[str]:
        return [f"{e.run_id}:{e.step_id}" async for e in s]  # type: ignore[attr-defined]

    task = asyncio.create_task(consume(stream))
    task2 = asyncio.create_task(consume(only_r2))
    await asyncio.sleep(0)
    bus.emit(ev(1))
    bus.emit(ev(2, run_id="r2"))
    await asyncio.sleep(0)
    bus.emit(ev(3))
    bus.close()
    assert await task == ["r1:s0", "r1:s1", "r2:s2", "r1:s3"]
    assert await task2 == ["r2:s2"]
    bus.emit(ev(4))  # closed streams are no longer fed
    assert [e async for e in stream] == []


async def test_stream_kinds_filter_and_individual_close() -> None:
    bus = plain_bus()
    stream = bus.stream(kinds=["run_finished"])
    bus.emit(ev(1))
    bus.emit(RunFinished(run_id="r1", status="succeeded"))
    stream.close()
    assert [e.kind async for e in stream] == ["run_finished"]


def test_invalid_bus_options() -> None:
    with pytest.raises(ConfigError):
        EventBus(max_queue=0)
    with pytest.raises(ConfigError):
        EventBus(max_failures=0)


async def test_callables_returning_awaitables_and_async_call_objects() -> None:
    bus = plain_bus()
    got: list[str] = []

    async def record(event: BaseEvent) -> None:
        got.append(f"lambda:{event.step_id}")

    class Sink:
        async def __call__(self, event: BaseEvent) -> None:
            got.append(f"object:{event.step_id}")

    bus.subscribe(lambda e: record(e))
    sub = bus.subscribe(Sink())
    assert sub.is_async
    bus.emit(ev(1))
    await bus.drain()
    assert sorted(got) == ["lambda:s1", "object:s1"]


def test_awaitable_from_a_sync_subscriber_without_loop_counts_as_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = plain_bus(max_failures=1)

    async def record(event: BaseEvent) -> None: ...

    sub = bus.subscribe(lambda e: record(e), name="sneaky")
    with caplog.at_level(logging.ERROR, logger="agentorch.events"):
        bus.emit(ev(1))
    assert not sub.active
    assert any("no event loop is running" in r.getMessage() or r.exc_info for r in caplog.records)
