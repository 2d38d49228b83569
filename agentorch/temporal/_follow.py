"""Following runs on Temporal from the store: one poller delivers the new events of every run a
process follows, reading only the events after the last one it delivered."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from agentorch.events.types import parse_event

if TYPE_CHECKING:
    from agentorch.store.base import Store


class Feed:
    """One followed run: its subscribers and the last event they got. ``failed`` is done with
    the error a subscriber raised (the run's follower gives up on it)."""

    def __init__(self, run_id: str, callbacks: Sequence[Callable[[Any], Any]]) -> None:
        self.run_id = run_id
        self.callbacks = tuple(callbacks)
        self.seen = 0
        self.failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class Follower:
    """Delivers the runs' new events from ``store`` every ``every`` seconds, one poller for all
    of them (a thousand runs followed at once are one timer, not a thousand)."""

    def __init__(self, store: Store, every: float) -> None:
        self.store = store
        self.every = every
        self.feeds: list[Feed] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, run_id: str, callbacks: Sequence[Callable[[Any], Any]]) -> Feed:
        feed = Feed(run_id, callbacks)
        self.feeds.append(feed)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._poll())
        return feed

    def remove(self, feed: Feed) -> None:
        with contextlib.suppress(ValueError):
            self.feeds.remove(feed)
        if not feed.failed.done():
            feed.failed.cancel()
        elif not feed.failed.cancelled():
            feed.failed.exception()  # (retrieved: the follower has raised it or moved on)
        if not self.feeds and self._task is not None and not self._task.done():
            self._task.cancel()  # (nothing to follow: the next add starts a poller again)
        self._task = None if not self.feeds else self._task

    def deliver(self, feed: Feed) -> None:
        """Hand the run's events after the last delivered one to its subscribers."""
        for record in self.store.events(feed.run_id, after=feed.seen):
            feed.seen = record.seq
            try:
                event = parse_event(record.payload)
            except ValueError:
                continue  # a kind this version does not know
            for callback in feed.callbacks:
                callback(event)

    async def _poll(self) -> None:
        while self.feeds:
            for feed in list(self.feeds):
                if feed.failed.done():
                    continue
                try:
                    self.deliver(feed)
                except Exception as exc:  # a subscriber's (or the store's): its follower raises it
                    feed.failed.set_exception(exc)
            await asyncio.sleep(self.every)
