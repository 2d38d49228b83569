"""Running a coroutine on a fresh event loop and closing that loop without hanging.

``asyncio.run`` waits at the end for every task still pending and for the default executor's
threads; a tool abandoned past its timeout (a thread that never returns, a task that swallows
its cancellation) would make it wait forever. Here leftover tasks get a bounded grace and
worker threads are not joined, so a run returns once its own work is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from agentorch.errors import SyncInAsyncError

T = TypeVar("T")

#: How long leftover tasks get to finish their cancellation when the loop closes.
CLOSE_GRACE = 1.0


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion; refuse clearly inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run_to_end(coro)  # unlike asyncio.run, never waits on an abandoned tool
    coro.close()
    raise SyncInAsyncError(
        "run_sync() was called inside a running event loop",
        hint="use `await supervisor.run(...)` (or `await agent.run(...)`) in async code",
    )


def run_to_end(coro: Coroutine[Any, Any, T]) -> T:
    """Like ``asyncio.run``, Ctrl-C included (the main task is cancelled, then
    ``KeyboardInterrupt`` raised), but the loop closes without waiting on abandoned work."""
    loop = asyncio.new_event_loop()
    task = loop.create_task(coro)
    interrupts = 0

    def on_sigint(signum: int, frame: Any) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1 and not task.done():
            task.cancel()
            loop.call_soon_threadsafe(lambda: None)
            return
        raise KeyboardInterrupt

    installed = (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )
    if installed:
        signal.signal(signal.SIGINT, functools.partial(on_sigint))
    try:
        asyncio.set_event_loop(loop)
        try:
            return loop.run_until_complete(task)
        except asyncio.CancelledError:
            if interrupts:
                raise KeyboardInterrupt from None
            raise
    finally:
        if installed and signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        close_loop(loop)
        asyncio.set_event_loop(None)


def close_loop(loop: asyncio.AbstractEventLoop, grace: float = CLOSE_GRACE) -> None:
    """Cancel what is left on ``loop``, wait at most ``grace`` seconds for it, and close it.

    Worker threads (a prompt waiting for input, an abandoned sync tool) are not joined.
    """
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=grace))
            for t in pending:
                if t.done() and not t.cancelled():
                    t.exception()  # retrieved, so it is not reported as never retrieved
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.wait_for(loop.shutdown_asyncgens(), timeout=grace))
    finally:
        loop.close()
