"""Tool calls bounded by their timeout whatever the tool does.

A sync tool runs on a daemon worker thread, its timeout counted from when a worker takes it (time
queued behind other calls does not count): at the timeout the run takes control back at once
and the thread is abandoned (it cannot be stopped; being a daemon it never holds up the
process's exit) and replaced in the pool. An async tool is cancelled at the timeout; one that swallows the cancellation
is abandoned after a short grace. An abandoned call may still take effect, so it raises
``ToolAbandoned`` and the runtime leaves it in doubt in the journal instead of calling it
finished. ``SystemExit`` and other ``BaseException``s a tool raises become ``ToolCrashed``, an
ordinary error, so they fail the call and not the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import queue
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

#: Async tool tasks abandoned while still running (kept referenced until they end).
ABANDONED: set[asyncio.Task[Any]] = set()

#: Longest wait for an async tool to honour its cancellation after the timeout.
CANCEL_GRACE = 1.0


class ToolAbandoned(Exception):
    """A tool call ran past its timeout and could not be stopped; its outcome is unknown."""


class ToolCrashed(Exception):
    """A tool raised a ``BaseException`` such as ``SystemExit``: carried as an ordinary error."""

    def __init__(self, original: BaseException) -> None:
        self.original = original
        try:
            detail = str(original)
        except Exception:
            detail = ""
        super().__init__(
            f"{type(original).__name__}: {detail}" if detail else type(original).__name__
        )


def _abandon_message(name: str, timeout: float, how: str) -> str:
    return (
        f"tool {name!r} did not finish within its timeout of {timeout:g} s and was abandoned "
        f"({how}); its outcome is unknown: it may still take effect. Do not call it again "
        "unless you know it did not."
    )


class _Call:
    """One sync call handed to the pool."""

    __slots__ = ("abandoned", "cancelled", "run", "running", "started")

    def __init__(self, run: Callable[[], None]) -> None:
        self.run = run
        self.running = False
        self.cancelled = False
        self.abandoned = False
        self.started = 0.0  # time.monotonic() when a worker took it

    def ran_for(self) -> float:
        """Seconds since a worker took the call; 0 while it waits in the queue."""
        return time.monotonic() - self.started if self.running else 0.0


class _DaemonPool:
    """Worker threads for sync tools: reused like an executor's, but daemons that are never
    joined (at exit or when a loop closes), and a worker stuck in an abandoned call is
    replaced instead of waited for."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._queue: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._live = 0

    def submit(self, call: _Call) -> None:
        self._queue.put(call)
        if self._idle.acquire(timeout=0):
            return
        with self._lock:
            if self._live >= self.size:
                return
            self._live += 1
        threading.Thread(target=self._work, name="agentorch-tool", daemon=True).start()

    def give_up(self, call: _Call) -> bool:
        """Stop waiting for ``call``: True if it is running (abandoned), False if it never
        started (it never will)."""
        with self._lock:
            if not call.running:
                call.cancelled = True
                return False
            call.abandoned = True
            self._live -= 1  # a fresh worker may take the stuck one's place
            return True

    def _work(self) -> None:
        while True:
            call = self._queue.get()
            with self._lock:
                if call.cancelled:
                    skip = True
                else:
                    call.started = time.monotonic()  # set before running: ran_for reads both
                    skip, call.running = False, True
            if skip:
                self._idle.release()
                continue
            call.run()
            if call.abandoned:
                return  # already discounted from the pool
            self._idle.release()


_POOL = _DaemonPool(min(32, (os.cpu_count() or 1) + 4))


async def call_sync(function: Callable[[], Any], timeout: float | None, name: str) -> Any:
    """Run ``function`` on a daemon worker thread; give up waiting after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()

    def settle(value: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is None:
            future.set_result(value)
        elif isinstance(error, Exception):
            future.set_exception(error)
        else:  # SystemExit, KeyboardInterrupt (not the user's: this is a worker thread), ...
            future.set_exception(ToolCrashed(error))

    def work() -> None:
        value: Any = None
        error: BaseException | None = None
        try:
            value = context.run(function)
        except BaseException as exc:
            error = exc
        # A closed loop raises RuntimeError: the run has moved on without this call.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, value, error)
        error = None  # this frame is in the error's traceback: no cycle back to it

    call = _Call(work)
    _POOL.submit(call)
    try:
        while True:
            # The timeout bounds the call's own run: time queued for a worker (many steps
            # calling tools at once) does not count, so a call waits its turn instead of failing.
            left = None if timeout is None else timeout - call.ran_for()
            done, _ = await asyncio.wait({future}, timeout=None if left is None else max(0, left))
            if future in done or call.ran_for() >= (timeout or 0):
                break
    except asyncio.CancelledError:
        _POOL.give_up(call)
        raise
    if future in done:
        try:
            return future.result()
        finally:
            # A failed call's traceback holds this frame: let go of the future holding the error.
            del done, future
    future.cancel()
    assert timeout is not None
    _POOL.give_up(call)  # running past its timeout: abandoned, a fresh worker takes its place
    raise ToolAbandoned(_abandon_message(name, timeout, "a sync tool's thread cannot be stopped"))


async def call_async(
    function: Callable[[], Awaitable[Any]], timeout: float | None, name: str
) -> Any:
    """Await ``function()``; cancel it at ``timeout``, abandon it if it will not stop."""

    async def guarded() -> Any:
        try:
            return await function()
        except (Exception, asyncio.CancelledError, KeyboardInterrupt):
            raise  # KeyboardInterrupt here may be the user's Ctrl-C: it is not the tool's
        except BaseException as exc:
            raise ToolCrashed(exc) from exc

    task = asyncio.ensure_future(guarded())
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        task.cancel()
        _abandon(task)
        raise
    if task in done:
        return task.result()
    assert timeout is not None
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=min(CANCEL_GRACE, timeout))
    if task in done:
        if task.cancelled():
            raise TimeoutError(f"tool {name!r} timed out after {timeout:g} s")
        return task.result()
    _abandon(task)
    raise ToolAbandoned(_abandon_message(name, timeout, "it ignored its cancellation"))


def _abandon(task: asyncio.Task[Any]) -> None:
    if task.done():
        return
    ABANDONED.add(task)

    def forget(t: asyncio.Task[Any]) -> None:
        ABANDONED.discard(t)
        if not t.cancelled():
            t.exception()  # retrieved: nobody waits for it any more

    task.add_done_callback(forget)


__all__ = ["ABANDONED", "ToolAbandoned", "ToolCrashed", "call_async", "call_sync"]
