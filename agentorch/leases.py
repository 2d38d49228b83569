"""Run leases: one process at a time continues a run, and a process that lost its lease is fenced.

A lease names its owner as ``host:pid:nonce`` and is renewed while the run goes on. A lease whose
owner is a process on this host that no longer exists (killed, crashed) is taken over at once
rather than waiting for it to expire; a live owner, or one on another host until its lease
expires, makes ``acquire`` fail with ``RunLockedError``.

Every acquisition by a new owner raises the run's lease epoch (its fencing token). The holder's
store checks owner and epoch in the same transaction as each of its writes, so an owner that was
paused past its lease (SIGSTOP, a laptop lid, a VM pause) and lost the run to another process
writes nothing more: its next write, which precedes every model and tool call, raises
``LeaseLostError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from agentorch.errors import ConfigError, LeaseLostError, RunLockedError, StoreError
from agentorch.store.base import Store

#: Seconds a lease lasts unless renewed (renewed every third of it); ``AGENTORCH_LEASE_TTL``
#: overrides it.
TTL = 60.0


def default_ttl() -> float:
    """The lease duration: ``$AGENTORCH_LEASE_TTL`` seconds if set, else ``TTL``."""
    text = os.environ.get("AGENTORCH_LEASE_TTL", "").strip()
    if not text:
        return TTL
    try:
        ttl = float(text)
    except ValueError:
        ttl = 0.0
    if not ttl > 0 or ttl == float("inf"):
        raise ConfigError(
            f"AGENTORCH_LEASE_TTL={text!r} is not a positive number of seconds",
            hint="e.g. AGENTORCH_LEASE_TTL=60, or unset it for the default",
        )
    return ttl


@dataclass
class Lease:
    """The lease this process holds on a run: its owner name, its epoch and whether it was lost."""

    run_id: str
    owner: str
    epoch: int = 0
    #: Set when a renewal found another owner: no model or tool call starts after that.
    lost: bool = False
    #: Given up already, in the transaction of the run's last write (``end_in``).
    released: bool = False

    def end_in(self, store: Store) -> None:
        """Give the lease up inside the caller's transaction (the run's last write): the run is
        free for another process as soon as its outcome is committed, without a transaction of
        its own. Set ``released`` once that transaction is committed."""
        store.release_lease(self.run_id, self.owner)

    def check(self) -> None:
        """Raise ``LeaseLostError`` if the lease is known to be lost."""
        if self.lost:
            raise LeaseLostError(
                f"run {self.run_id}: this process lost its lease (epoch {self.epoch}) to another "
                "process and stopped before its next model or tool call",
                run_id=self.run_id,
                hint="another process continues the run; see `agentorch runs` for its state",
            )


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_dead(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_dying(pid)


#: ``PF_EXITING`` in the flags of ``/proc/PID/stat``: the process has begun to exit.
_EXITING = 0x4
#: SIGKILL's bit in the pending-signal masks of ``/proc/PID/status``.
_KILL_PENDING = 1 << (signal.SIGKILL - 1)


def _is_dying(pid: int) -> bool:
    """Killed, even if still in the process table (see ``_killed``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # no /proc (macOS), or the process is gone since
        return False
    return _killed(stat, status)


def _killed(stat: str, status: str) -> bool:
    """From a process's ``/proc/PID/stat`` and ``status``: SIGKILL pending, exiting (a process
    freeing a large memory stays in state R for a second or more after ``kill -9``), or a
    zombie its parent has not reaped yet (an orphan whose new parent, a container's init, reaps
    late). None of these runs another instruction of the program."""
    fields = stat.rpartition(")")[2].split()
    if fields[0] in ("Z", "X") or int(fields[6]) & _EXITING:
        return True
    pending = (
        int(line.partition(":")[2], 16)
        for line in status.splitlines()
        if line.startswith(("SigPnd:", "ShdPnd:"))
    )
    return any(mask & _KILL_PENDING for mask in pending)


def acquire(store: Store, run_id: str, owner: str, *, now: float, ttl: float = TTL) -> int:
    """Take the run's lease (from a dead owner on this host at once); return its epoch."""
    try:
        return store.acquire_lease(run_id, owner, ttl=ttl, now=now)
    except RunLockedError:
        holder, _ = store.lease_holder(run_id)
        if holder is None or not _owner_is_dead(holder):
            raise
        store.release_lease(run_id, holder)
        return store.acquire_lease(run_id, owner, ttl=ttl, now=now)


@contextlib.asynccontextmanager
async def held(
    store: Store | None,
    run_id: str,
    *,
    clock: Callable[[], float] = time.time,
    ttl: float | None = None,
    first: Callable[[], None] | None = None,
    then: Callable[[], None] | None = None,
    hold: Callable[[Callable[[], None]], None] | None = None,
) -> AsyncIterator[Lease]:
    """Hold the run's lease for the duration of the block, renewing it in the background.

    The store is fenced for the run while the block runs: its writes of the run succeed only
    while this lease is the current one. ``first`` (e.g. creating the run's row) and ``then``
    (the run's first event, under the fence) are written in the transaction that takes the lease.
    With ``hold`` (a runtime's ``hold``), that write waits for the run's next transaction, ahead
    of the run's other writes: for a run this process creates with a new id, which no other
    process can know of (or take) before its row exists.
    """
    lease = Lease(run_id, new_owner())
    if store is None:
        yield lease
        return
    ttl = default_ttl() if ttl is None else ttl

    def take() -> None:
        try:
            if first is not None:
                first()
            lease.epoch = acquire(store, run_id, lease.owner, now=clock(), ttl=ttl)
            store.fence(run_id, lease.owner, lease.epoch)
            if then is not None:
                then()
        except BaseException:
            store.unfence(run_id)  # nothing of it was committed
            raise

    if hold is not None:
        hold(take)
    else:
        with store.transaction() if first or then else contextlib.nullcontext():
            take()

    loop = asyncio.get_running_loop()
    renewal: asyncio.TimerHandle | None = None

    def renew(again: Callable[..., None]) -> None:
        """Every ttl/3 on the loop (a timer: no task to start and cancel). It is given itself
        to reschedule: a closure naming itself would be a reference cycle."""
        nonlocal renewal
        try:
            store.renew_lease(run_id, lease.owner, ttl=ttl, now=clock())
        except RunLockedError:
            lease.lost = True  # another owner took the run: stop before the next call
            return
        except StoreError:
            pass  # the store is unreachable: the fence still refuses stale writes
        except Exception:
            return  # (as a renewing task that failed: the lease lapses, the fence holds)
        renewal = loop.call_later(ttl / 3, again, again)

    renewal = loop.call_later(ttl / 3, renew, renew)
    try:
        yield lease
    finally:
        renewal.cancel()  # (the handle of the latest renewal scheduled)
        renewal = None  # (it refers to ``renew``, whose closure refers to it: no cycle left)
        store.unfence(run_id)
        if not lease.released:
            store.release_lease(run_id, lease.owner)
