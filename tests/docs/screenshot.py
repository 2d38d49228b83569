"""Regenerate the README's screenshot of the live terminal view from a real run.

Runs the bundled RFP example (offline engine, ``--approve-all``) through the same session code
as ``agentorch run``, drawn by the real live view on a recording rich console, and writes the
terminal as it looks when the run ends (the live view's last frame, then the outcome) to SVG:

    .venv/bin/python tests/docs/screenshot.py            # writes docs/images/live-view.svg

The console is a terminal (so the CLI picks the live view) of the "dumb" kind, on which rich
draws a live display once, when it stops, instead of redrawing it in place: the recording then
holds exactly the final screen. Paths of the scratch folder are shown as ``~/rfp-demo``.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUTPUT = ROOT / "docs" / "images" / "live-view.svg"
WIDTH = 120
#: How the scratch folder of the run appears in the picture.
SHOWN_AS = "~/rfp-demo"
TITLE = "agentorch run rfp --approve-all"


def record_run(workdir: Path, width: int = WIDTH) -> tuple[str, int]:
    """Run the RFP example in ``workdir`` through the CLI session; its terminal output (ANSI)
    and exit code."""
    import click
    from rich.console import Console

    from agentorch.cli.prepare import RunOptions
    from agentorch.cli.session import run_session
    from agentorch.workflow import PROVIDER_KEYS

    for key in PROVIDER_KEYS:  # the picture shows the offline engine, whatever this shell has
        os.environ.pop(key, None)
    example = workdir / "rfp"
    shutil.copytree(ROOT / "examples" / "rfp", example, ignore=shutil.ignore_patterns("out"))
    screen = io.StringIO()
    console = Console(
        file=screen,
        width=width,
        height=200,  # without a height, rich takes a dumb terminal for 80 columns
        force_terminal=True,
        color_system="truecolor",
        highlight=False,
        _environ={"TERM": "dumb", "COLUMNS": str(width)},
    )
    opts = RunOptions(
        target=str(example),
        approve_all=True,
        store=f"sqlite:///{workdir / 'runs.db'}",
        output=str(workdir / "out"),
    )
    cwd = Path.cwd()
    os.chdir(workdir)
    try:
        with click.Context(click.Command("run")):  # closes the store as the CLI does
            code = run_session(opts, console=console)
    finally:
        os.chdir(cwd)
    return screen.getvalue(), code


def final_screen(ansi: str, workdir: Path) -> str:
    """The recorded output up to the run summary's cost table (the picture's length), with the
    scratch folder's path replaced."""
    for path in {str(workdir), str(workdir.resolve())}:
        ansi = ansi.replace(path, SHOWN_AS)
    lines = ansi.splitlines()
    end = next((i for i, line in enumerate(lines) if _plain(line).startswith("Cost")), len(lines))
    return "\n".join(lines[:end])


def _plain(line: str) -> str:
    from rich.text import Text

    return Text.from_ansi(line).plain


def to_svg(ansi: str, width: int = WIDTH) -> str:
    from rich.console import Console
    from rich.text import Text

    console = Console(
        file=io.StringIO(), record=True, width=width, force_terminal=True, color_system="truecolor"
    )
    console.print(Text.from_ansi(ansi))
    return console.export_svg(title=TITLE)


def generate(output: Path = DEFAULT_OUTPUT, width: int = WIDTH) -> int:
    """Write the screenshot to ``output``; the run's exit code (6: response written, not
    submitted, as the example's library leaves gaps)."""
    with tempfile.TemporaryDirectory(prefix="agentorch-screenshot-") as scratch:
        workdir = Path(scratch)
        ansi, code = record_run(workdir, width)
        svg = to_svg(final_screen(ansi, workdir), width)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(svg, encoding="utf-8")
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="SVG file to write")
    parser.add_argument("--width", type=int, default=WIDTH, help="terminal columns")
    args = parser.parse_args(argv)
    code = generate(args.output, args.width)
    if code not in (0, 6):
        print(f"the run ended with exit code {code}: screenshot not trusted", file=sys.stderr)
        return 1
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
