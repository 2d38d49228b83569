"""Helpers of the review inbox's tests: users, waiting runs, the CSRF token of a page."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))  # the CLI tests' demo

from cli_demo import write_demo_project
from typer.testing import CliRunner

from agentorch.web.users import UserBook

PASSWORDS = {"alice": "alice-reviews-1", "victor": "victor-views-1", "ada": "ada-administers-1"}
ROLES = {"alice": "reviewer", "victor": "viewer", "ada": "admin"}


def make_users(path: Path) -> UserBook:
    book = UserBook(path)
    for name, role in ROLES.items():
        book.add(name, role, PASSWORDS[name])
    return book


def waiting_run(project: Path, store_url: str) -> str:
    """Run the demo workflow with no terminal: it waits in the store for the publish approval."""
    from agentorch.cli.app import app

    result = CliRunner().invoke(
        app, ["run", str(project), "--store", store_url, "--json"], catch_exceptions=False
    )
    assert result.exit_code == 3, result.output  # EXIT_WAITING
    run_id = re.search(r'"run_id": "([0-9a-f]{12})"', result.stdout)
    assert run_id, result.stdout
    return run_id.group(1)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


class Web:
    """The app's state for a test module: where its store, users and demo project are."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store_url = f"sqlite:///{root / 'runs.db'}"
        self.project = write_demo_project(root / "demo")
        self.users = make_users(root / "users.json")

    def waiting_run(self) -> str:
        return waiting_run(self.project, self.store_url)
