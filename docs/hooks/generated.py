"""MkDocs hook: pages generated at build time, so they cannot drift from what they describe.

- ``reference/cli.md``: the ``--help`` of every ``agentorch`` command, as the command prints it.
- ``benchmarks/results.md``: the repository's BENCHMARKS.md (and its chart), as measured.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer
from mkdocs.structure.files import File, Files
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 100

CLI_INTRO = """\
# Command reference

Generated from the command itself when the site is built: each section is exactly what
`agentorch COMMAND --help` prints. The guide to the command, with examples of its output, is
[The agentorch command](../guides/cli.md); what the exit codes mean is
[there too](../guides/cli.md#exit-codes).
"""


def _commands(group: Any, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Every command path under ``group``, depth first, in the order ``--help`` lists them."""
    found = [path]
    ctx = group.context_class(group, info_name="agentorch")  # typer ships its own click
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        if hasattr(command, "list_commands"):  # a group: audit, policy
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def cli_reference() -> str:
    """The command reference page: one section per command, its ``--help`` verbatim."""
    from agentorch.cli.app import app

    runner = CliRunner()
    sections = [CLI_INTRO]
    for path in _commands(typer.main.get_command(app), ()):
        result = runner.invoke(
            app,
            [*path, "--help"],
            prog_name="agentorch",
            env={"COLUMNS": str(WIDTH), "NO_COLOR": "1", "TERM": "dumb"},
            terminal_width=WIDTH,
        )
        if result.exit_code != 0:
            raise RuntimeError(f"agentorch {' '.join(path)} --help failed: {result.output}")
        title = " ".join(("agentorch", *path))
        sections.append(f"## `{title}`\n\n```text\n{result.output.rstrip()}\n```\n")
    return "\n".join(sections)


#: A Markdown link or image with a relative target: ``[text](path)`` / ``![alt](path)``.
LINK = re.compile(r"(?P<image>!?)\[(?P<text>[^\]]*)\]\((?P<target>(?!https?:|#|/)[^)\s]+)\)")


def benchmarks_results() -> tuple[str, list[str]]:
    """BENCHMARKS.md as a page beside the files it shows, and those files (repository paths).

    Images (the charts) are copied next to the page under the same relative path; a link to any
    other repository file becomes the path in code, since the site does not carry the repository.
    """
    images: list[str] = []

    def rewrite(match: re.Match[str]) -> str:
        target = match.group("target")
        if match.group("image"):
            if not (ROOT / target).is_file():
                raise FileNotFoundError(f"BENCHMARKS.md shows {target}, which does not exist")
            images.append(target)
            return match.group(0)
        return f"{match.group('text')} (`{target}`)"

    text = LINK.sub(rewrite, (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8"))
    return text, images


def on_files(files: Files, config: Any) -> Files:
    """Add the generated pages (and the benchmark chart) to the site's files."""
    files.append(File.generated(config, "reference/cli.md", content=cli_reference()))
    page, images = benchmarks_results()
    files.append(File.generated(config, "benchmarks/results.md", content=page))
    for image in images:
        source = str(ROOT / image)
        files.append(File.generated(config, f"benchmarks/{image}", abs_src_path=source))
    return files
