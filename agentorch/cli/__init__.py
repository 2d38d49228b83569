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
    app(args=args, prog_name="agentorch")


__all__ = ["main"]
