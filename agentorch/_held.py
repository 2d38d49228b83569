"""Writes a run holds for its next transaction: a call's result, a step's start or result.

A durable run commits a transaction at every boundary that needs one (a call's intent before the
call runs). Writes with nothing outside the run after them need not be a transaction of their
own: they are held and committed first in the run's next transaction, and at the latest
``HOLD_FOR`` seconds after the first of them was held. Every effect of the run waits for a
transaction (a call's intent, see below) or commits the held writes first (an approval asked, the
run's end), so nothing outside the run happens before the held writes are committed. A crash
before that leaves the store as a crash while the held write was being committed would (a call
journaled "started": charged at its reservation, or put in doubt, on resume), so no guarantee
changes.

A write that must be durable before the caller goes on (a call's intent) is ``commit``-ted: it
joins the held writes and the caller waits for the transaction that commits them, on the event
loop's second turn. The intents the run's other tasks reach meanwhile (parallel steps) share that
transaction (group commit); each call still starts only once its own intent is committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING

from agentorch.errors import LeaseLostError

if TYPE_CHECKING:
    from agentorch.store.base import Store

#: Seconds a held write nobody waits for may wait for the run's next transaction: what a crash
#: can lose of the run's progress (re-done on resume), in exchange for fewer transactions.
HOLD_FOR = 0.01


class HeldWrites:
    """The embedded runtime's checkpoints, with held writes (``hold``, ``held``)."""

    store: Store | None
    #: Hold writes at all: only when the run's owner ends it with a write of its own (the
    #: supervisor's outcome), which commits what is still held.
    hold_writes: bool = False

    def _init_held(self) -> None:
        self._held: list[Callable[[], object]] = []
        #: Where in ``_held`` the last held write of each keyed row is (``_write(key=...)``).
        self._held_rows: dict[str, int] = {}
        self._depth = 0  # checkpoints open
        self._holding = 0  # ``held`` blocks open
        #: Callers waiting for the held writes to be committed (``commit``).
        self._waiters: list[asyncio.Future[None]] = []
        #: The commit of held writes nobody waits for (``HOLD_FOR``), when one is scheduled.
        self._timer: asyncio.TimerHandle | None = None
        #: A commit on the event loop's second turn is scheduled (a caller waits for it).
        self._soon = False

    def checkpoint(self) -> AbstractContextManager[None]:
        if self.store is None:
            return nullcontext()
        return self._checkpoint(self.store)

    @contextmanager
    def _checkpoint(self, store: Store) -> Iterator[None]:
        """One transaction: the held writes first, then the block's; then the callers waiting
        for the held writes hear whether they were committed."""
        waiters: list[asyncio.Future[None]] = []
        try:
            with store.transaction():
                self._depth += 1
                try:
                    if self._held:
                        held, self._held = self._held, []
                        self._held_rows = {}
                        waiters, self._waiters = self._waiters, []
                        for write in held:
                            write()
                    yield
                finally:
                    self._depth -= 1
        except BaseException as exc:
            _settle(waiters, exc)
            raise
        _settle(waiters, None)

    def _holds(self) -> bool:
        return self.store is not None and self.hold_writes and not self._depth

    def hold(self, write: Callable[[], object]) -> None:
        """Hold ``write`` (state writes and the events reporting them) for the run's next
        transaction; see the module's docstring."""
        if not self._holds():
            write()
            return
        if self._timer is None and not self._soon:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop: nothing runs before the next write
                write()
                return
            self._timer = loop.call_later(HOLD_FOR, self._commit_held)
        self._held.append(write)

    async def commit(self, write: Callable[[], object]) -> None:
        """Write ``write`` durably before returning (a call's intent, before the call).

        It is held with the run's other writes and committed on the event loop's second turn, in
        one transaction with the intents the run's other tasks reach meanwhile.
        A caller that stops waiting (cancelled, or the transaction failed) never has its write
        committed later: the call it announced does not run.
        """
        if not self._holds() or self._holding:
            with self.checkpoint():
                write()
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def announced() -> None:
            if not waiter.done():
                write()

        self._waiters.append(waiter)
        self.hold(announced)
        if not self._soon:
            loop = waiter.get_loop()
            loop.call_soon(loop.call_soon, self._commit_held)  # (the second turn)
            self._soon = True
        await waiter

    @contextmanager
    def holding(self) -> Iterator[None]:
        """The runtime's writes and events inside are held, as one group (``hold``); an error
        inside drops them, as a failed checkpoint would."""
        if not self._holds():
            with self.checkpoint():
                yield
            return
        mark = len(self._held)
        self._holding += 1
        try:
            yield
        except BaseException:
            del self._held[mark:]
            self._held_rows = {k: i for k, i in self._held_rows.items() if i < mark}
            raise
        finally:
            self._holding -= 1

    def _write(self, write: Callable[[], object], key: str | None = None) -> None:
        """A state write or an event of the run: held in a ``holding`` block, else written,
        after the held writes (in one transaction with them).

        ``key`` names the row a write replaces whole (an upsert): a later held write of the same
        row takes the earlier one's place, so a transaction writes (and records in the audit
        chain) only the row's last state -- the one a reader could ever see.
        """
        if self._holding:
            if key is not None and self._holds():
                at = self._held_rows.get(key)
                if at is not None:
                    self._held[at] = write
                    return
                self._held_rows[key] = len(self._held)
            self.hold(write)
        elif self._held and not self._depth:
            with self.checkpoint():
                write()
        else:
            write()

    def write_held(self) -> None:
        """Commit the held writes now (before waiting for a person, or ending)."""
        if self._held and not self._depth:
            with self.checkpoint():
                pass

    def _commit_held(self) -> None:
        """The held writes' time came before the run's next write: commit them alone.

        On failure they are held again, so the run's next write retries them and its caller
        hears of the error (a live view may then see their events twice).
        """
        self._soon = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._depth:  # (a checkpoint is open in another thread: it commits them)
            return
        held, rows = list(self._held), dict(self._held_rows)
        try:
            self.write_held()
        except LeaseLostError:
            self.drop_held()  # another process owns the run: nothing more is written here
        except Exception:
            self._held, self._held_rows = held, rows

    def drop_held(self) -> None:
        """Forget the held writes (the run stopped without the lease: nothing more is written)."""
        self._held = []
        self._held_rows = {}
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiters, self._waiters = self._waiters, []
        if waiters:
            run_id = str(getattr(self, "run_id", ""))
            lost = LeaseLostError(
                f"run {run_id}: this process lost its lease and wrote nothing more", run_id=run_id
            )
            _settle(waiters, lost)


def _settle(waiters: list[asyncio.Future[None]], error: BaseException | None) -> None:
    """Tell the callers waiting for a commit how it ended (on their loop's thread)."""
    if not waiters:
        return
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    for waiter in waiters:
        loop = waiter.get_loop()
        if loop is running:
            _resolve(waiter, error)
        else:
            loop.call_soon_threadsafe(_resolve, waiter, error)


def _resolve(waiter: asyncio.Future[None], error: BaseException | None) -> None:
    if waiter.done():  # (its caller was cancelled)
        return
    if error is None:
        waiter.set_result(None)
    else:
        waiter.set_exception(error)
