"""Writes a run holds for its next transaction: a call's result, a step's start or result.

A durable run commits a transaction at every boundary that needs one (a call's intent before the
call runs). Writes with nothing outside the run after them need not be a transaction of their
own: they are held and committed first in the run's next transaction, and at the latest when the
event loop next runs something else -- before any awaited effect of the run. A crash before that
leaves the store as a crash while the held write was being committed would today (a call
journaled "started": charged at its reservation, or put in doubt, on resume), so no guarantee
changes; a run makes about half as many transactions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING

from agentorch.errors import LeaseLostError

if TYPE_CHECKING:
    from agentorch.store.base import Store


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

    def checkpoint(self) -> AbstractContextManager[None]:
        if self.store is None:
            return nullcontext()
        return self._checkpoint(self.store)

    @contextmanager
    def _checkpoint(self, store: Store) -> Iterator[None]:
        """One transaction: the held writes first, then the block's."""
        with store.transaction():
            self._depth += 1
            try:
                if self._held:
                    held, self._held = self._held, []
                    self._held_rows = {}
                    for write in held:
                        write()
                yield
            finally:
                self._depth -= 1

    def _holds(self) -> bool:
        return self.store is not None and self.hold_writes and not self._depth

    def hold(self, write: Callable[[], object]) -> None:
        """Hold ``write`` (state writes and the events reporting them) for the run's next
        transaction; see the module's docstring."""
        if not self._holds():
            write()
            return
        if not self._held:
            try:
                asyncio.get_running_loop().call_soon(self._commit_held)
            except RuntimeError:  # no event loop: nothing runs before the next write
                write()
                return
        self._held.append(write)

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
        """The event loop's turn came before the run's next write: commit the held writes alone.

        On failure they are held again, so the run's next write retries them and its caller
        hears of the error (a live view may then see their events twice).
        """
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
