"""Run leases: one process at a time continues a run.

A lease names its owner as ``host:pid:nonce`` and is renewed while the run goes on. A lease whose
owner is a process on this host that no longer exists (killed, crashed) is taken over at once
rather than waiting for it to expire; a live owner, or one on another host until its lease
expires, makes ``acquire`` fail with ``RunLockedError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable

from agentorch.errors import RunLockedError
from agentorch.store.base import Store

TTL = 60.0


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
    return False


def acquire(store: Store, run_id: str, owner: str, *, now: float, ttl: float = TTL) -> None:
    try:
        store.acquire_lease(run_id, owner, ttl=ttl, now=now)
    except RunLockedError:
        holder, _ = store.lease_holder(run_id)
        if holder is None or not _owner_is_dead(holder):
            raise
        store.release_lease(run_id, holder)
        store.acquire_lease(run_id, owner, ttl=ttl, now=now)


@contextlib.asynccontextmanager
async def held(
    store: Store | None, run_id: str, *, clock: Callable[[], float] = time.time, ttl: float = TTL
) -> AsyncIterator[str]:
    """Hold the run's lease for the duration of the block, renewing it in the background."""
    owner = new_owner()
    if store is None:
        yield owner
        return
    acquire(store, run_id, owner, now=clock(), ttl=ttl)

    async def renew() -> None:
        while True:
            await asyncio.sleep(ttl / 3)
            store.renew_lease(run_id, owner, ttl=ttl, now=clock())

    renewer = asyncio.create_task(renew())
    try:
        yield owner
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await renewer
        store.release_lease(run_id, owner)
