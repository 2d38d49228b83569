"""Fixtures for the command-line tests: a small demo project and a CliRunner bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_demo import write_demo_project
from cli_runner import Cli


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A project folder: worker and publisher specialists, a publish tool needing approval."""
    return write_demo_project(tmp_path / "demo")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """Invoke ``agentorch`` in-process, in ``tmp_path``, with its own store."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTORCH_STORE", f"sqlite:///{tmp_path / 'runs.db'}")
    monkeypatch.delenv("AGENTORCH_INTERACTIVE", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    yield Cli(tmp_path)
