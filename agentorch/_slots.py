"""Concurrency slots of one supervisor level's steps (``Limits.max_concurrent_steps``).

A step waiting for a person gives its slot back, so the steps that need nobody keep running; once
decided, it takes a slot again before any step that has not started yet. Everything here is plain
asyncio on the run's event loop, so a Temporal workflow replays the same hand-overs in the same
order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextvars import ContextVar
from types import TracebackType

#: The slot of the step the current task runs (set in each step's own task; tasks the step
#: starts, such as a nested supervisor's escalations, share it).
_CURRENT: ContextVar[_Hold | None] = ContextVar("agentorch_step_slots", default=None)


class StepSlots:
    """Slots held by one level's running steps; ``limit=None`` means no limit."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.busy = 0
        self._returning: deque[asyncio.Future[None]] = deque()
        self._wake: asyncio.Future[None] | None = None

    def free(self) -> int | None:
        """Slots a step that has not started may take now (``None``: any number)."""
        if self.limit is None:
            return None
        return 0 if self._returning else max(0, self.limit - self.busy)

    def take(self) -> None:
        """A step starts (the scheduler checked ``free`` first)."""
        self.busy += 1

    def release(self) -> None:
        """A step's task ended: its slot goes to a decided step first."""
        self.busy -= 1
        self._hand_over()

    def woken(self) -> asyncio.Future[None]:
        """A future the scheduler waits on beside its steps: done when a slot was given back."""
        if self._wake is None or self._wake.done():
            self._wake = asyncio.get_running_loop().create_future()
        return self._wake

    def enter(self) -> None:
        """Make these the slots of the current task's step (called first thing in its task)."""
        _CURRENT.set(_Hold(self))

    def _park(self) -> None:
        self.busy -= 1
        self._hand_over()
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def _unpark(self) -> None:
        if self.limit is None or (not self._returning and self.busy < self.limit):
            self.busy += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._returning.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if not turn.done() or turn.cancelled():
                self._discard(turn)
                self.busy += 1  # the ending step's task gives it back (``release``)
            raise

    def _discard(self, turn: asyncio.Future[None]) -> None:
        if turn in self._returning:
            self._returning.remove(turn)

    def _hand_over(self) -> None:
        while self._returning and self.limit is not None and self.busy < self.limit:
            turn = self._returning.popleft()
            if turn.done():
                continue
            self.busy += 1
            turn.set_result(None)


class _Hold:
    """One step's slot: given back once however many of the step's tasks wait for a person at
    the same time (a nested supervisor's escalations), taken again when the last is decided."""

    def __init__(self, slots: StepSlots) -> None:
        self.slots = slots
        self.waiting = 0
        self.given_back = False


class PersonWait:
    """``async with PersonWait() as wait: ... wait.park() ...``: from ``park()`` until the block
    ends, the current step holds no slot; leaving the block takes one again (waiting for it if
    the level is full; at once when the block ends with an error, as the step then ends)."""

    def __init__(self) -> None:
        self.hold = _CURRENT.get()
        self.parked = False

    def park(self) -> None:
        """The step is about to wait for a person: give its slot back (once)."""
        hold = self.hold
        if hold is not None and not self.parked:
            self.parked = True
            hold.waiting += 1
            if not hold.given_back:
                hold.given_back = True
                hold.slots._park()

    async def __aenter__(self) -> PersonWait:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        hold = self.hold
        if not self.parked or hold is None:
            return
        self.parked = False
        hold.waiting -= 1
        if hold.waiting or not hold.given_back:
            return  # another of the step's waits still keeps its slot given back
        hold.given_back = False
        if exc_type is None:
            await hold.slots._unpark()
        else:
            hold.slots.busy += 1
