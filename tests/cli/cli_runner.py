"""Invoke ``agentorch`` in-process with typer's CliRunner."""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner


class Cli:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict[str, str] | None = None, input: str | None = None):
        from agentorch.cli.app import app

        return self.runner.invoke(app, list(args), env=env, input=input, catch_exceptions=False)

    @property
    def store_url(self) -> str:
        return os.environ["AGENTORCH_STORE"]
