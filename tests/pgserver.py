"""A throwaway PostgreSQL server for tests: ``initdb`` into a temp dir, start, yield a URL, stop.

Usable from any test folder (``from pgserver import postgres_server``) and from scripts. The server
listens on a free 127.0.0.1 port with its unix socket in the temp dir, runs with ``fsync=off``, and
is stopped (and its files removed) when the context exits, also on failure. ``initdb`` refuses to
run as root, so as root the server runs as an unprivileged user (``postgres`` if it exists, else a
system user created for the purpose).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from local_servers import free_port

DB_NAME = "agentorch_test"
DB_USER = "agentorch"
_FALLBACK_USER = "agentorch-pg"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries, or no way to run them here: tests needing a server are skipped."""


@dataclass
class PostgresServer:
    """A running server. ``url`` names its test database; ``fresh_url()`` a new empty schema."""

    host: str
    port: int
    socket_dir: str
    url: str
    _schemas: list[str] = field(default_factory=list)

    def fresh_url(self, prefix: str = "t") -> str:
        """A URL whose ``search_path`` is a new, empty schema: an isolated store per test."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        self._schemas.append(name)
        return f"{self.url}?options={quote(f'-csearch_path={name}')}"


def find_bin_dir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl`` (PATH first, then Debian's layout)."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: [int(x) for x in Path(p).parts[-3].split(".") if x.isdigit()],
    )
    if candidates:
        return Path(candidates[-1]).parent
    raise PostgresUnavailable(
        "PostgreSQL binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql"
    )


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged user to run the server as, or ``None`` when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", _FALLBACK_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    useradd = shutil.which("useradd")
    if useradd is None:
        raise PostgresUnavailable("running as root and no unprivileged user to run PostgreSQL as")
    subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _FALLBACK_USER],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(_FALLBACK_USER)


def _as_user(cmd: list[str], user: pwd.struct_passwd | None) -> list[str]:
    if user is None:
        return cmd
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", *cmd]
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", user.pw_name, "--", *cmd]
    raise PostgresUnavailable("running as root and neither setpriv nor runuser is available")


def _run(cmd: list[str], cwd: str, what: str, log: Path | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise RuntimeError(
            f"{what} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{tail}"
        )


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a throwaway server; raises ``PostgresUnavailable`` when it cannot run here."""
    bin_dir = find_bin_dir()
    user = _server_user()
    # Not pytest's tmp dir: its parents are private to root, and the server user must enter it.
    tmp = tempfile.mkdtemp(prefix="agentorch-pg-")
    data, log = os.path.join(tmp, "data"), Path(tmp) / "server.log"
    if user is not None:
        os.chown(tmp, user.pw_uid, user.pw_gid)
    started = False
    try:
        _run(
            _as_user(
                [str(bin_dir / "initdb"), "-D", data, "-U", DB_USER, "--auth=trust",
                 "--encoding=UTF8", "--no-locale", "--no-sync"],
                user,
            ),
            tmp,
            "initdb",
        )  # fmt: skip
        port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={tmp} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        start = [str(bin_dir / "pg_ctl"), "-D", data, "-l", str(log), "-w", "-t", "60",
                 "-o", options, "start"]  # fmt: skip
        started = True
        _run(_as_user(start, user), tmp, "pg_ctl start", log)
        base = f"postgresql://{DB_USER}@127.0.0.1:{port}"
        import psycopg

        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DB_NAME}")
        yield PostgresServer(host="127.0.0.1", port=port, socket_dir=tmp, url=f"{base}/{DB_NAME}")
    finally:
        if started:
            stop = [str(bin_dir / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]
            with contextlib.suppress(Exception):
                subprocess.run(_as_user(stop, user), cwd=tmp, capture_output=True, timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
