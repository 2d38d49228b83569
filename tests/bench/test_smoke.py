"""CI smoke run of the benchmark harness: quick mode, no targets asserted, so it cannot rot.

Peers that are not installed are skipped by the harness itself (``pip install -e '.[bench]'``
adds them); any peer that is installed must do exactly the shared workload's work.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import workload
from bench.workload import Counts, Scenario

ROOT = Path(__file__).resolve().parents[2]


async def _noop() -> str:
    return ""


def test_check_rejects_a_framework_doing_different_work() -> None:
    scenario = Scenario("x", run=_noop, counts=Counts(model_calls=10, tool_calls=4))
    workload.check(scenario, 4, True, 1)
    scenario.counts.tool_calls = 3
    with pytest.raises(AssertionError, match="3 tool calls"):
        workload.check(scenario, 4, True, 1)


def test_quick_harness_run_writes_the_report(tmp_path: Path) -> None:
    out, raw = tmp_path / "BENCHMARKS.md", tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--out",
            str(out),
            "--chart",
            str(tmp_path / "results.png"),
            "--json",
            str(raw),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(raw.read_text(encoding="utf-8"))
    assert not [n for n in results["notes"] if "failed" in n], proc.stderr[-3000:]
    for measure in ("overhead", "fanout", "concurrency"):
        assert "agentorch" in results[measure]
    assert results["overhead"]["agentorch"]["run_ms"] > 0
    assert results["concurrency"]["agentorch"]["runs"] > 0
    assert results["checkpoint"]["checkpointed_ms"] > 0
    assert results["context"]["naive_tokens"] > results["context"]["agentorch_tokens"] > 0
    assert results["budget"]["reserve_settle_us"] > 0
    assert results["startup"]["help_s"] > 0
    report = out.read_text(encoding="utf-8")
    assert report.startswith("# Benchmarks") and "| agentorch |" in report
