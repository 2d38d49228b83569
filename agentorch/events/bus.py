"""The event bus: one stream of typed events, many subscribers, none of them able to stall a run.

``emit`` is synchronous and cheap. It redacts the event, calls *critical* subscribers inline (the
store's event log: if it fails, the run must know), and hands the event to every other subscriber
through that subscriber's own bounded mailbox, drained by one task per subscriber on the running
loop. A slow subscriber falls behind (and, past its bound, loses the oldest streamed-text events
first); a failing one is logged and, after a few failures in a row, unsubscribed.

Call ``emit`` from the thread that runs the event loop, or from a thread with no loop at all
(events then reach the loop's subscribers through ``call_soon_threadsafe``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from agentorch.errors import ConfigError
from agentorch.events.redact import Redactor
from agentorch.events.types import BaseEvent

logger = logging.getLogger("agentorch.events")

EventCallback = Callable[[BaseEvent], Any]

DEFAULT_MAX_QUEUE = 10_000
DEFAULT_MAX_FAILURES = 3


class _Mailbox:
    """A bounded FIFO of events for one subscriber, bound to one event loop at a time."""

    __slots__ = (
        "busy",
        "dropped",
        "dropped_reported",
        "ephemeral",
        "idle",
        "items",
        "loop",
        "maxsize",
        "task",
        "wakeup",
    )

    def __init__(self, maxsize: int) -> None:
        self.items: deque[BaseEvent] = deque()
        self.maxsize = maxsize
        self.dropped = 0
        self.dropped_reported = 0
        self.ephemeral = 0  # how many queued events are ephemeral (skip scans when none)
        self.busy = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[None] | None = None
        self.wakeup: asyncio.Event | None = None
        self.idle: asyncio.Event | None = None

    def put(self, event: BaseEvent) -> None:
        """Append, dropping the oldest ephemeral event (else the oldest event) when full."""
        items = self.items
        if len(items) >= self.maxsize:
            self.dropped += 1
            if self.ephemeral:
                for i, queued in enumerate(items):
                    if queued.ephemeral:
                        del items[i]
                        self.ephemeral -= 1
                        break
            elif event.ephemeral:
                return
            else:
                items.popleft()
        items.append(event)
        if event.ephemeral:
            self.ephemeral += 1
        if self.wakeup is not None:
            self.wakeup.set()
            self.idle.clear()  # type: ignore[union-attr]

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to ``loop`` (again, after the previous loop ended): fresh primitives."""
        self.loop = loop
        self.task = None
        self.busy = False
        self.wakeup = asyncio.Event()
        self.idle = asyncio.Event()
        if self.items:
            self.wakeup.set()
        else:
            self.idle.set()

    def pop(self) -> BaseEvent:
        event = self.items.popleft()
        if event.ephemeral:
            self.ephemeral -= 1
        return event

    def clear(self) -> None:
        self.items.clear()
        self.ephemeral = 0

    @property
    def pending(self) -> int:
        return len(self.items) + (1 if self.busy else 0)


class Subscription:
    """A subscriber of an ``EventBus``; ``unsubscribe()`` (or ``with``) ends it."""

    def __init__(
        self,
        bus: EventBus,
        callback: EventCallback,
        *,
        name: str,
        kinds: frozenset[str] | None,
        critical: bool,
        maxsize: int,
    ) -> None:
        # Weak: the bus holds its subscriptions, so a strong reference back would be a cycle
        # per bus (one per run) for the cyclic garbage collector to find.
        self._bus = weakref.ref(bus)
        self.callback = callback
        self.name = name
        self.kinds = kinds
        self.critical = critical
        self.is_async = _is_async_callable(callback)
        self.active = True
        self.failures = 0
        self.total_failures = 0
        self._mailbox = _Mailbox(maxsize)

    @property
    def dropped(self) -> int:
        """Events this subscriber lost because its queue was full."""
        return self._mailbox.dropped

    @property
    def pending(self) -> int:
        """Events queued for this subscriber (including one being handled)."""
        return self._mailbox.pending

    def unsubscribe(self) -> None:
        """Stop receiving events (events already queued are discarded)."""
        bus = self._bus()
        if bus is not None:
            bus._remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.unsubscribe()

    def __repr__(self) -> str:
        return f"<Subscription {self.name!r} critical={self.critical} active={self.active}>"


class EventStream:
    """An async iterator over a bus's events, from its creation until ``close()``."""

    def __init__(
        self, bus: EventBus, kinds: frozenset[str] | None, run_id: str | None, maxsize: int
    ) -> None:
        self._bus = bus
        self.kinds = kinds
        self.run_id = run_id
        self._mailbox = _Mailbox(maxsize)
        self.closed = False

    @property
    def dropped(self) -> int:
        return self._mailbox.dropped

    def _offer(self, event: BaseEvent) -> None:
        if self.run_id is not None and event.run_id != self.run_id:
            return
        self._mailbox.put(event)

    def close(self) -> None:
        """End the stream: iteration stops after the events already queued."""
        if self.closed:
            return
        self.closed = True
        self._bus._remove_stream(self)
        mb = self._mailbox
        if mb.wakeup is not None and mb.loop is not None:
            _call_on(mb.loop, mb.wakeup.set)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> BaseEvent:
        mb = self._mailbox
        loop = asyncio.get_running_loop()
        if mb.loop is not loop:
            mb.bind(loop)
        assert mb.wakeup is not None
        while not mb.items:
            if self.closed:
                raise StopAsyncIteration
            mb.wakeup.clear()
            await mb.wakeup.wait()
        return mb.pop()

    async def aclose(self) -> None:
        self.close()


class EventBus:
    """Fans typed events out to subscribers; redacts secrets before anyone sees them.

    Args:
        redactor: Redaction applied to every event (default: a ``Redactor`` that knows the
            secret-looking environment variables and the common key shapes).
        max_queue: Bound of each non-critical subscriber's queue.
        max_failures: A non-critical subscriber that raises this many times in a row is dropped.
    """

    def __init__(
        self,
        *,
        redactor: Redactor | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        max_failures: int = DEFAULT_MAX_FAILURES,
    ) -> None:
        if max_queue < 1:
            raise ConfigError(f"max_queue must be at least 1, got {max_queue}")
        if max_failures < 1:
            raise ConfigError(f"max_failures must be at least 1, got {max_failures}")
        self.redactor = redactor if redactor is not None else Redactor()
        self.max_queue = max_queue
        self.max_failures = max_failures
        self._critical: tuple[Subscription, ...] = ()
        self._others: tuple[Subscription, ...] = ()
        self._streams: tuple[EventStream, ...] = ()
        self._counter = 0

    # --- subscribing --------------------------------------------------------------------------

    def subscribe(
        self,
        callback: EventCallback,
        *,
        name: str | None = None,
        kinds: Iterable[str] | None = None,
        critical: bool = False,
    ) -> Subscription:
        """Call ``callback(event)`` for every event (or only those whose ``kind`` is in ``kinds``).

        ``callback`` may be a function or an async function. Critical subscribers must be sync:
        they run inline in ``emit`` and their exceptions reach the code that emitted.
        """
        if not callable(callback):
            raise ConfigError(f"event subscriber must be callable, got {type(callback).__name__}")
        if isinstance(kinds, str):
            kinds = [kinds]
        if critical and _is_async_callable(callback):
            raise ConfigError(
                "a critical event subscriber must be a plain function: it runs inline in emit()",
                hint="make it synchronous, or subscribe it with critical=False",
            )
        self._counter += 1
        sub = Subscription(
            self,
            callback,
            name=name or _callable_name(callback, self._counter),
            kinds=frozenset(kinds) if kinds is not None else None,
            critical=critical,
            maxsize=self.max_queue,
        )
        if critical:
            self._critical = (*self._critical, sub)
        else:
            self._others = (*self._others, sub)
        return sub

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.unsubscribe()

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return self._critical + self._others

    @property
    def wants_content(self) -> bool:
        """Whether a subscriber asked for model-call content (its ``capture_content`` is true).

        The runtime emits ``model_call_content`` events only then: prompts and completions are
        large, and nobody else needs them.
        """
        return any(getattr(s.callback, "capture_content", False) for s in self.subscriptions)

    def _remove(self, sub: Subscription) -> None:
        sub.active = False
        self._critical = tuple(s for s in self._critical if s is not sub)
        self._others = tuple(s for s in self._others if s is not sub)
        mb = sub._mailbox
        mb.clear()
        if mb.wakeup is not None and mb.loop is not None:
            _call_on(mb.loop, mb.wakeup.set)  # lets the worker see it is inactive and stop

    def stream(
        self,
        *,
        kinds: Iterable[str] | None = None,
        run_id: str | None = None,
        maxsize: int | None = None,
    ) -> EventStream:
        """An async iterator over events emitted from now on, ending when ``close()`` is called.

        Use it as ``async for event in bus.stream(): ...``; it subscribes immediately, so no
        event emitted after this call is missed.
        """
        stream = EventStream(
            self,
            frozenset([kinds] if isinstance(kinds, str) else kinds) if kinds is not None else None,
            run_id,
            maxsize or self.max_queue,
        )
        self._streams = (*self._streams, stream)
        return stream

    def _remove_stream(self, stream: EventStream) -> None:
        self._streams = tuple(s for s in self._streams if s is not stream)

    def close(self) -> None:
        """End every open stream (their iterators finish after the events already queued)."""
        for stream in self._streams:
            stream.close()

    # --- emitting -----------------------------------------------------------------------------

    def emit(self, event: BaseEvent) -> BaseEvent:
        """Redact ``event`` and deliver it; return the redacted event. Never waits on a subscriber.

        Raises:
            Exception: whatever a critical subscriber raised.
        """
        event = self.redactor.redact_event(event)
        kind = event.kind
        for sub in self._critical:
            if sub.kinds is None or kind in sub.kinds:
                sub.callback(event)
        others = self._others
        streams = self._streams
        if not others and not streams:
            return event
        loop = asyncio._get_running_loop()
        for sub in others:
            if sub.kinds is None or kind in sub.kinds:
                self._deliver(sub, event, loop)
        for stream in streams:
            if stream.kinds is None or kind in stream.kinds:
                self._deliver_stream(stream, event, loop)
        return event

    def _deliver(
        self, sub: Subscription, event: BaseEvent, loop: asyncio.AbstractEventLoop | None
    ) -> None:
        if not sub.active:
            return
        mb = sub._mailbox
        if loop is None:
            if mb.loop is not None and mb.loop.is_running() and not mb.loop.is_closed():
                mb.loop.call_soon_threadsafe(self._deliver, sub, event, mb.loop)
                return
            if mb.loop is not None:  # that loop is gone: forget its primitives and task
                mb.loop = mb.task = mb.wakeup = mb.idle = None
                mb.busy = False
            if not sub.is_async:
                while mb.items:  # queued while a loop ran: keep the order
                    self._call_sync(sub, mb.pop())
                self._call_sync(sub, event)
                return
            mb.put(event)  # an async subscriber waits for the next loop (emit or drain)
            return
        if mb.loop is not loop:
            mb.bind(loop)
        mb.put(event)
        if mb.task is None:
            mb.task = loop.create_task(self._worker(sub, mb), name=f"agentorch-events:{sub.name}")

    def _deliver_stream(
        self, stream: EventStream, event: BaseEvent, loop: asyncio.AbstractEventLoop | None
    ) -> None:
        mb = stream._mailbox
        if loop is None and mb.loop is not None and mb.loop.is_running():
            mb.loop.call_soon_threadsafe(stream._offer, event)
        else:
            stream._offer(event)

    def _call_sync(self, sub: Subscription, event: BaseEvent) -> None:
        if not sub.active:
            return
        try:
            result = sub.callback(event)
            if inspect.isawaitable(result):
                if inspect.iscoroutine(result):
                    result.close()
                raise TypeError("returned an awaitable, but no event loop is running")
        except Exception as exc:
            self._failed(sub, exc)
        else:
            sub.failures = 0

    async def _worker(self, sub: Subscription, mb: _Mailbox) -> None:
        assert mb.wakeup is not None and mb.idle is not None
        wakeup, idle = mb.wakeup, mb.idle
        items = mb.items
        handled = 0
        while sub.active:
            if not items:
                idle.set()
                wakeup.clear()
                await wakeup.wait()
                continue
            event = mb.pop()
            mb.busy = True
            handled += 1
            try:
                result = sub.callback(event)
                if inspect.isawaitable(result):
                    await result
                elif handled % 64 == 0:
                    await asyncio.sleep(0)  # a backlog of sync calls must not hog the loop
            except Exception as exc:
                self._failed(sub, exc)
            else:
                sub.failures = 0
            finally:
                mb.busy = False
        idle.set()

    def _failed(self, sub: Subscription, exc: Exception) -> None:
        sub.failures += 1
        sub.total_failures += 1
        if sub.total_failures == 1:
            logger.error(
                "event subscriber %r failed; it keeps receiving events", sub.name, exc_info=exc
            )
        if sub.failures >= self.max_failures:
            logger.error(
                "event subscriber %r failed %d times in a row (last: %s: %s); unsubscribed",
                sub.name,
                sub.failures,
                type(exc).__name__,
                exc,
            )
            self._remove(sub)

    # --- flushing -----------------------------------------------------------------------------

    async def drain(self, timeout: float | None = 5.0) -> bool:
        """Wait until every subscriber has handled its queued events; ``True`` if all did.

        A subscriber still busy after ``timeout`` seconds is given up on (logged, left running):
        a blocked subscriber never hangs the run.
        """
        loop = asyncio.get_running_loop()
        waiting: dict[asyncio.Future[Any], Subscription] = {}
        for sub in self._others:
            mb = sub._mailbox
            if mb.loop is not loop:
                if not mb.items:
                    continue
                mb.bind(loop)  # events queued with no running loop: deliver them now
            if mb.task is None and mb.items:
                mb.task = loop.create_task(
                    self._worker(sub, mb), name=f"agentorch-events:{sub.name}"
                )
            if mb.pending and mb.idle is not None:
                waiting[asyncio.ensure_future(_wait_idle(mb))] = sub
        ok = True
        if waiting:
            _, not_done = await asyncio.wait(waiting, timeout=timeout)
            for fut in not_done:
                fut.cancel()
                sub = waiting[fut]
                ok = False
                logger.warning(
                    "event subscriber %r did not finish within %ss (%d event(s) pending); "
                    "not waiting for it",
                    sub.name,
                    timeout,
                    sub.pending,
                )
        self._report_drops()
        return ok

    def _report_drops(self) -> None:
        for sub in self._others:
            mb = sub._mailbox
            if mb.dropped > mb.dropped_reported:
                logger.warning(
                    "event subscriber %r was too slow: %d event(s) dropped (queue bound %d)",
                    sub.name,
                    mb.dropped - mb.dropped_reported,
                    mb.maxsize,
                )
                mb.dropped_reported = mb.dropped

    def dropped(self) -> dict[str, int]:
        """Events dropped so far, per subscriber name (only subscribers that dropped any)."""
        counts = {s.name: s.dropped for s in self._others if s.dropped}
        for i, stream in enumerate(self._streams):
            if stream.dropped:
                counts[f"stream-{i}"] = stream.dropped
        return counts


async def _wait_idle(mb: _Mailbox) -> None:
    assert mb.idle is not None
    await mb.idle.wait()


def _call_on(loop: asyncio.AbstractEventLoop, fn: Callable[[], Any]) -> None:
    """Run ``fn`` on ``loop``: directly when we are on it (or it is gone), else thread-safely."""
    if asyncio._get_running_loop() is loop or not loop.is_running():
        fn()
    else:
        loop.call_soon_threadsafe(fn)


def _is_async_callable(fn: Any) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - async __call__ on an instance
    return call is not None and inspect.iscoroutinefunction(call)


def _callable_name(fn: Any, counter: int) -> str:
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{name}#{counter}"
