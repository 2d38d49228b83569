"""Driving a run from the terminal: the event loop, Ctrl-C, prompts that pause the live view.

The first Ctrl-C cancels the run's task: the supervisor checkpoints (status ``interrupted``) and
the command exits 130 with the resume command. The handler is then removed, so a second Ctrl-C
kills the process at once; SQLite's write-ahead log keeps the store consistent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from agentorch.approvals import ApprovalDecision, ApprovalRequest, Approver

if TYPE_CHECKING:
    from rich.console import Console

    from agentorch.cli.view import LiveView

T = TypeVar("T")


class Interrupted(Exception):
    """The person pressed Ctrl-C; the run (if any) was checkpointed as interrupted."""


class PromptCancelled(Exception):
    """A prompt was abandoned because the run was interrupted."""


class PromptInput:
    """Reads one line from the terminal in a worker thread, and gives up when told to.

    ``TerminalApprover`` runs its prompt in a thread; a plain ``input()`` there would keep the
    process alive after Ctrl-C until someone pressed Enter. This one polls stdin and returns as
    soon as ``cancel()`` is called.
    """

    def __init__(self, console: Console, stream: Any = None) -> None:
        self.console = console
        self.stream = stream
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    def __call__(self, prompt: str) -> str:
        stream = self.stream if self.stream is not None else sys.stdin
        self.console.print(prompt, end="", markup=False, highlight=False)
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            fd = None
        if fd is not None:
            while not self._cancelled.is_set():
                ready, _, _ = select.select([fd], [], [], 0.1)
                if ready:
                    break
        if self._cancelled.is_set():
            raise PromptCancelled("the run was interrupted")
        line = stream.readline()
        if not line:
            raise EOFError
        return str(line).rstrip("\r\n")


class PausingApprover(Approver):
    """Wraps an approver so the live view stops drawing while the person answers."""

    def __init__(self, inner: Approver, view: LiveView | None) -> None:
        self.inner = inner
        self.view = view

    async def decide(self, request: ApprovalRequest) -> ApprovalDecision | None:
        if self.view is not None:
            self.view.pause()
        try:
            return await self.inner.decide(request)
        finally:
            if self.view is not None:
                self.view.resume()


def drive(coro: Coroutine[Any, Any, T], *, prompt: PromptInput | None = None) -> T:
    """Run ``coro`` to the end on a fresh event loop; Ctrl-C cancels it and raises ``Interrupted``."""
    loop = asyncio.new_event_loop()
    task = loop.create_task(coro)
    interrupted = threading.Event()

    def on_sigint() -> None:
        interrupted.set()
        if prompt is not None:
            prompt.cancel()
        # The second Ctrl-C is not caught: it ends the process immediately.
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        task.cancel()

    previous = signal.getsignal(signal.SIGINT)
    installed = False
    if threading.current_thread() is threading.main_thread():
        try:
            loop.add_signal_handler(signal.SIGINT, on_sigint)
            installed = True
        except (NotImplementedError, RuntimeError, ValueError):
            installed = False
    try:
        return loop.run_until_complete(task)
    except asyncio.CancelledError:
        if interrupted.is_set():
            raise Interrupted("interrupted") from None
        raise
    except KeyboardInterrupt:
        task.cancel()
        with contextlib.suppress(BaseException):
            loop.run_until_complete(task)
        raise Interrupted("interrupted") from None
    finally:
        if installed:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signal.SIGINT)
            if not interrupted.is_set():
                signal.signal(signal.SIGINT, previous)
        _close(loop)


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Close the loop without waiting on a worker thread stuck at a prompt or an abandoned tool."""
    from agentorch._loop import close_loop

    close_loop(loop)


def stdin_is_terminal() -> bool:
    """Whether prompts can be answered here (``AGENTORCH_INTERACTIVE=0/1`` overrides)."""
    forced = os.environ.get("AGENTORCH_INTERACTIVE")
    if forced is not None:
        return forced not in ("", "0", "false", "no")
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


__all__ = [
    "Interrupted",
    "PausingApprover",
    "PromptCancelled",
    "PromptInput",
    "drive",
    "stdin_is_terminal",
]
