"""The examples run as documented (CI runs them too)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _workflow_helpers import REPO


def test_quickstart_runs_offline(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "examples" / "quickstart.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert ": succeeded" in out.stdout
    assert "Plan:" in out.stdout and "advice" in out.stdout and "bid_advisor" in out.stdout
    assert "[approval] escalation of write" in out.stdout
    assert "agent:bid_advisor" in out.stdout and "total" in out.stdout
