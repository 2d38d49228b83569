"""``agentorch users`` and ``agentorch serve``'s own checks (the server itself: test_browser.py)."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentorch.cli.app import app
from agentorch.cli.serve import is_loopback, serve
from agentorch.web.users import UserBook, check_password


def cli(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def test_users_are_stored_hashed_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    added = cli("users", "add", "bea", "--role", "admin", "--password-stdin", "--users", str(path),
                input="correct horse battery\n")  # fmt: skip
    assert added.exit_code == 0 and "bea: admin" in added.stdout
    text = path.read_text()
    assert "correct horse battery" not in text
    stored = json.loads(text)["users"]["bea"]
    assert stored["password"].startswith("scrypt$")
    assert check_password("correct horse battery", stored["password"])
    assert not check_password("wrong", stored["password"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    token = cli("users", "token", "bea", "--users", str(path)).stdout.strip()
    assert token.startswith("aotk_") and token not in path.read_text()
    assert UserBook(path).by_token(token).name == "bea"  # type: ignore[union-attr]
    listed = cli("users", "list", "--users", str(path)).stdout
    assert "bea\tadmin\tpassword, 1 token(s)" in listed
    revoked = cli("users", "token", "bea", "--revoke", "--users", str(path))
    assert "revoked 1 token(s)" in revoked.stdout and UserBook(path).by_token(token) is None
    assert cli("users", "remove", "bea", "--users", str(path)).exit_code == 0
    assert "No users" in cli("users", "list", "--users", str(path)).stdout


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--role", "boss"], "long enough pass\n", "unknown role 'boss'"),
        ([], "short\n", "at least 10 characters"),
        (["--no-password", "--role", "chief"], None, "unknown role"),
    ],
)
def test_bad_user_input_is_one_clear_line(
    tmp_path: Path, args: list[str], stdin: str | None, message: str
) -> None:
    path = tmp_path / "users.json"
    flags = ["--password-stdin"] if stdin else []
    result = cli("users", "add", "cy", *args, *flags, "--users", str(path), input=stdin)
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.output and not path.exists()


def test_bad_names_and_unknown_users_are_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "users.json")
    bad = cli("users", "add", "../x", "--no-password", "--users", path)
    assert bad.exit_code == 2 and "bad user name" in bad.stderr
    assert "no user 'ghost'" in cli("users", "remove", "ghost", "--users", path).stderr
    assert "no user 'ghost'" in cli("users", "token", "ghost", "--users", path).stderr


def test_serve_refuses_to_start_without_users(tmp_path: Path) -> None:
    result = cli(
        "serve", "--store", f"sqlite:///{tmp_path / 'runs.db'}", "--users", str(tmp_path / "u.json")
    )
    assert result.exit_code == 2 and "no users yet" in result.stderr, result.output
    assert "agentorch users add NAME --role admin" in result.stderr
    bad_port = cli("serve", "--port", "70000", "--users", str(tmp_path / "u.json"))
    assert bad_port.exit_code == 2 and "is not a port number" in bad_port.stderr


def test_serve_listens_on_this_machine_only_by_default() -> None:
    import inspect

    default = inspect.signature(serve).parameters["host"].default
    assert default == "127.0.0.1" and is_loopback(default)
    assert is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")


def test_the_core_never_imports_the_web_package() -> None:
    code = (
        "import sys, agentorch, agentorch.supervisor, agentorch.store, agentorch.approvals_store\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('agentorch.web', 'starlette', "
        "'jinja2', 'uvicorn')))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
