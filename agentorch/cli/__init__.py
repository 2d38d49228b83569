"""agentorch's command line and terminal views (rich/typer): the only place that prints.

Kept tiny so ``agentorch --help`` and ``--version`` answer fast: commands import the runtime lazily.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``agentorch`` command."""
    args = sys.argv[1:] if argv is None else argv
    if args in (["--version"], ["-V"]):  # answer without loading typer
        from agentorch import __version__

        sys.stdout.write(f"agentorch {__version__}\n")
        raise SystemExit(0)
    from agentorch.cli.app import app
    from agentorch.tuning import tune_gc

    tune_gc()  # this process may hold many runs at once (see agentorch.tuning)
    try:
        app(args=args, prog_name="agentorch")
    except SystemExit as done:
        if any(name.startswith("temporalio.bridge") for name in sys.modules):
            _exit_before_finalization(done.code)
        raise


def _exit_before_finalization(code: object) -> None:
    """End a process that used Temporal's client without interpreter finalization.

    The client's native (Rust) threads can outlive the interpreter and abort it while it finalizes
    ("PyGILState_Release: thread state ... must be current", temporalio/sdk-python#300), turning a
    finished command into a crash. Everything finalization would do for us is done here first:
    Python threads joined, exit handlers run (exporters flush), output flushed.
    """
    import atexit
    import os
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # SystemExit("message"): printed, status 1, as the interpreter would
        sys.stderr.write(f"{code}\n")
        status = 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


__all__ = ["main"]
