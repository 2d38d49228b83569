"""Garbage-collector tuning is opt-in: the agentorch command does it, importing agentorch does not."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc, sys
before = gc.get_threshold()[0]
import agentorch, agentorch.supervisor
assert gc.get_threshold()[0] == before, "importing agentorch changed the collector"
from agentorch.cli import main
try:
    main(["runs", "--help"])
except SystemExit:
    pass
print(gc.get_threshold()[0], gc.get_freeze_count() > 0)
"""


def test_the_command_tunes_its_process_and_an_import_never_does() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.split()[-2:] == ["50000", "True"]
