"""Garbage-collector pressure: tuning is opt-in (the agentorch command does it, importing agentorch
does not), and a finished run leaves no reference cycle behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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


def test_a_finished_run_leaves_no_reference_cycle_of_the_runtime() -> None:
    """A run is freed by reference counting when it ends: the cyclic collector finds none of it,
    whether it succeeded or an error went through the runtime's frames (each error keeps them in
    its traceback): a model that fails, a tool that fails, a call over budget. With thousands of
    runs in one process each cycle left behind is work for the collector and memory held until
    it runs (``python -m bench run-scaling``)."""
    probe = Path(__file__).with_name("cycle_probe.py")
    out = subprocess.run(
        [sys.executable, str(probe)], capture_output=True, text=True, check=True, timeout=300
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found == {case: [] for case in found} and len(found) == 5
