"""What every code block of a page gets checked for, run or not: Python compiles and imports
what exists, shell parses and names ``agentorch`` commands, options and extras that exist, config
parses. Part of the docs harness (docs_harness.py runs the blocks)."""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


class DocsError(AssertionError):
    """A block failed: the message starts with ``page:line``."""


def check_imports(source: str, where: str) -> None:
    """``from agentorch... import name`` names something that exists."""
    import importlib

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("agentorch"):
            module = importlib.import_module(node.module or "")
            for alias in node.names:
                if alias.name != "*" and not hasattr(module, alias.name):
                    try:
                        importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        raise DocsError(f"{where}: {node.module} has no {alias.name!r}") from None


def check_config(language: str, source: str, where: str) -> None:
    try:
        if language == "toml":
            tomllib.loads(source)
        elif language in ("yaml", "yml"):
            yaml.safe_load(source)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise DocsError(f"{where}: the {language} does not parse: {exc}") from None


def logical_lines(source: str) -> Iterator[tuple[int, int, str]]:
    """(first line index, last line index, text) of each command, ``\\``-continued lines joined."""
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        start, text = i, lines[i]
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + " " + lines[i]
        yield start, i, text
        i += 1


def commands(text: str) -> Iterator[list[str]]:
    """The simple commands of one shell line, as words (``a && b | c`` gives three)."""
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words = list(lexer)
    except ValueError:
        return
    current: list[str] = []
    for word in words:
        if word and set(word) <= set(";&|()"):
            if current:
                yield current
            current = []
        else:
            current.append(word)
    if current:
        yield current


def check_shell(source: str, where: str) -> None:
    """bash can parse it; ``agentorch`` commands use commands and options that exist;
    ``pip install`` names extras that pyproject.toml declares."""
    syntax = subprocess.run(["bash", "-n"], input=source, capture_output=True, text=True)
    if syntax.returncode != 0:
        raise DocsError(f"{where}: not valid bash: {syntax.stderr.strip()}")
    for _, _, text in logical_lines(source):
        for words in commands(text):
            program = Path(words[0]).name
            if program == "agentorch":
                check_cli(words[1:], where)
            elif program in ("pip", "pip3") or words[:3] == ["python", "-m", "pip"]:
                check_pip(words, where)


def installs_packages(source: str) -> bool:
    for _, _, text in logical_lines(source):
        for words in commands(text):
            if Path(words[0]).name in ("pip", "pip3", "uv") and "install" in words[1:3]:
                return True
            if words[1:4] == ["-m", "pip", "install"]:
                return True
    return False


def check_cli(args: list[str], where: str) -> None:
    import typer

    from agentorch.cli.app import app

    command: Any = typer.main.get_command(app)  # typer's own click types (not click's)
    path = ["agentorch"]
    rest = list(args)
    while hasattr(command, "get_command") and rest and not rest[0].startswith("-"):
        sub = command.get_command(command.context_class(command), rest[0])
        if sub is None:
            raise DocsError(f"{where}: '{' '.join(path)}' has no command {rest[0]!r}")
        path.append(rest.pop(0))
        command = sub
    known = {"--help", "-h"}
    for param in command.params:
        known.update(getattr(param, "opts", []))
        known.update(getattr(param, "secondary_opts", []))
    for word in rest:
        if word.startswith("-") and word != "-" and word.split("=", 1)[0] not in known:
            raise DocsError(f"{where}: '{' '.join(path)}' has no option {word.split('=', 1)[0]}")


def check_pip(words: list[str], where: str) -> None:
    extras = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    for word in words:
        match = re.fullmatch(r"(agentorch|\.)\[(?P<extras>[\w,\s-]+)\]", word)
        if match:
            for extra in (e.strip() for e in match["extras"].split(",")):
                if extra not in extras:
                    raise DocsError(f"{where}: pyproject.toml declares no extra {extra!r}")
