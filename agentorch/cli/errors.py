"""Exit codes and error rendering: a user's mistake is one line and a hint, never a traceback."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

#: The run finished with success.
EXIT_OK = 0
#: The run failed (a step failed, the plan could not be made, the provider kept failing, ...).
EXIT_FAILED = 1
#: A mistake in what was typed or configured (also typer's own usage errors).
EXIT_USER_ERROR = 2
#: The run waits for a person's decision (``agentorch approve``, then ``agentorch resume``).
EXIT_WAITING = 3
#: The run stopped because its budget is spent (``agentorch resume ID --budget-usd X``).
EXIT_BUDGET = 4
#: A side-effecting tool call is in doubt after a crash and waits for a decision.
EXIT_IN_DOUBT = 5
#: The run's steps finished but the job did not reach its end (e.g. a response written but not
#: submitted: refused by policy or denied by a person); the summary says why.
EXIT_INCOMPLETE = 6
#: Interrupted (Ctrl-C) or cancelled by you; an interrupted run can be resumed.
EXIT_INTERRUPTED = 130

_STATUS_EXIT = {
    "succeeded": EXIT_OK,
    "failed": EXIT_FAILED,
    "waiting_approval": EXIT_WAITING,
    "budget_exceeded": EXIT_BUDGET,
    "in_doubt": EXIT_IN_DOUBT,
    "interrupted": EXIT_INTERRUPTED,
    "cancelled": EXIT_INTERRUPTED,
}


def exit_code_for(status: str) -> int:
    """The documented exit code of a run that ended in ``status``."""
    return _STATUS_EXIT.get(status, EXIT_FAILED)


def debug_enabled(flag: bool = False) -> bool:
    """``--debug`` or ``AGENTORCH_DEBUG=1``: show tracebacks."""
    return flag or os.environ.get("AGENTORCH_DEBUG", "") not in ("", "0", "false", "no")


def credential_problem(exc: BaseException) -> bool:
    """A provider rejected the API key (HTTP 401/403): the user's setup, not a run failure."""
    from agentorch.errors import ProviderError

    return isinstance(exc, ProviderError) and exc.status_code in (401, 403)


def classify(exc: BaseException) -> tuple[int, str, str | None]:
    """(exit code, one-line message, hint) for an exception reaching the command line."""
    from agentorch.errors import AgentOrchError, StoreError, UserError

    message = str(exc) or type(exc).__name__
    hint = getattr(exc, "hint", None)
    if isinstance(exc, UserError) or credential_problem(exc):
        return EXIT_USER_ERROR, message, hint
    if isinstance(exc, StoreError):
        return EXIT_USER_ERROR, message, hint or "check the --store URL (or $AGENTORCH_STORE)"
    if isinstance(exc, AgentOrchError):
        return EXIT_FAILED, message, hint
    if isinstance(
        exc, FileNotFoundError | IsADirectoryError | PermissionError | NotADirectoryError
    ):
        return EXIT_USER_ERROR, message, None
    return (
        EXIT_FAILED,
        f"internal error: {type(exc).__name__}: {message}",
        "run again with --debug for the traceback, and please report it",
    )


def print_error(console: Console, message: str, hint: str | None = None) -> None:
    """``error: ...`` and ``hint: ...`` lines on the error console."""
    from rich.text import Text

    first, _, rest = message.partition("\n")
    line = Text("error: ", style="bold red")
    line.append(first)
    console.print(line, soft_wrap=True)
    for extra in rest.splitlines():
        console.print(Text("  " + extra), soft_wrap=True)
    if hint:
        note = Text("hint: ", style="bold cyan")
        note.append(hint)
        console.print(note, soft_wrap=True)


def err_console() -> Console:
    """The console for errors and notes (stderr; colours respect ``NO_COLOR``)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@contextmanager
def handle_errors(debug: bool = False, *, json_output: bool = False) -> Iterator[None]:
    """Turn exceptions into an error line, a hint and the documented exit code.

    With ``json_output`` the error is one JSON object on stdout instead (nothing else is printed
    there). ``--debug`` (or ``AGENTORCH_DEBUG=1``) adds the traceback.
    """
    import typer

    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        err_console().print("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        code, message, hint = classify(exc)
        if debug_enabled(debug):
            traceback.print_exception(exc, file=sys.stderr)
        if json_output:
            write_json({"status": "error", "exit_code": code, "error": message, "hint": hint})
        else:
            print_error(err_console(), message, hint)
        raise typer.Exit(code) from None


def write_json(data: dict[str, Any]) -> None:
    """One JSON document on stdout (the ``--json`` contract)."""
    import json

    sys.stdout.write(json.dumps(data, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


__all__ = [
    "EXIT_BUDGET",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_IN_DOUBT",
    "EXIT_OK",
    "EXIT_USER_ERROR",
    "EXIT_WAITING",
    "classify",
    "credential_problem",
    "exit_code_for",
    "handle_errors",
    "print_error",
    "write_json",
]
