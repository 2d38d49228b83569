"""Running a crash app (``crash_app.py``, ``nested_crash_app.py``) in a subprocess, and its logs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_app(
    app: Path, tmp_path: Path, *args: str, crash_at: str = "", **extra: str
) -> subprocess.CompletedProcess[str]:
    """``app STORE WORKDIR *args`` on a SQLite store in ``tmp_path``, killed at ``crash_at``."""
    env = {**os.environ, "CRASH_AT": crash_at, **extra}
    store = f"sqlite:///{tmp_path}/runs.db"
    return subprocess.run(
        [sys.executable, str(app), store, str(tmp_path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def lines(path: Path) -> list[str]:
    """The lines a crash app logged to ``path`` (none if it never wrote)."""
    return path.read_text().splitlines() if path.exists() else []
