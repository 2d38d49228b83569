"""Measure 6: budget reserve/settle cost (``bench.bench_budget``) and start-up times."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._env import child_env


def _median_s(argv: list[str], repeats: int) -> float:
    samples = []
    with tempfile.TemporaryDirectory() as cwd:  # nothing in the cwd may shadow an import
        for _ in range(repeats + 1):  # the first run warms the page cache and .pyc files
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, env=child_env(), cwd=cwd)
            samples.append(time.perf_counter() - started)
    return statistics.median(samples[1:])


def measure(quick: bool) -> dict[str, Any]:
    """Median wall time of ``python -c pass``, ``import agentorch`` and ``agentorch --help``."""
    repeats = 3 if quick else 10
    script = Path(sys.executable).with_name("agentorch")
    found = str(script) if script.exists() else shutil.which("agentorch")
    cli = [found] if found else [sys.executable, "-m", "agentorch"]
    results = {
        "python_s": _median_s([sys.executable, "-c", "pass"], repeats),
        "import_s": _median_s([sys.executable, "-c", "import agentorch"], repeats),
        "import_supervisor_s": _median_s(
            [sys.executable, "-c", "from agentorch import Supervisor, Agent, Plan"], repeats
        ),
        "help_s": _median_s([*cli, "--help"], repeats),
    }
    return results


def budget(quick: bool) -> dict[str, Any]:
    """The budget micro-benchmark, imported from ``bench/bench_budget.py``."""
    from bench import bench_budget

    result: dict[str, Any] = bench_budget.run(quick)
    return result
