"""Measures 1-4: per-step overhead, fan-out, 1,000 concurrent runs, checkpointing cost."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import workload
from bench._env import child_env
from bench.frameworks import builder

SPECIALISTS = 4


def _timed(coro_factory: Any) -> float:
    async def go() -> float:
        started = time.perf_counter()
        await coro_factory()
        return time.perf_counter() - started

    return asyncio.run(go())


def overhead(name: str, quick: bool) -> dict[str, Any]:
    """Zero-latency models: wall time per run and per delegated step (the runtime's own cost)."""
    runs, repeats, warmup = (10, 3, 3) if quick else (100, 7, 20)
    scenario = builder(name)(SPECIALISTS, 0.0)

    async def go() -> list[float]:
        await scenario.run()
        workload.check(scenario, SPECIALISTS, True, 1)
        for _ in range(warmup):
            await scenario.run()
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(runs):
                await scenario.run()
            samples.append((time.perf_counter() - started) / runs)
        return samples

    samples = asyncio.run(go())
    per_run = statistics.median(samples)
    return {
        "run_ms": per_run * 1000,
        "step_ms": per_run * 1000 / SPECIALISTS,
        "model_calls": 2 * SPECIALISTS + 2,
        "tool_calls": SPECIALISTS,
        "samples_ms": [s * 1000 for s in samples],
    }


def fanout(name: str, quick: bool, latency: float = 0.2, width: int = 8) -> dict[str, Any]:
    """8 independent steps on a 200 ms model: wall time against the ideal of one model call."""
    repeats = 2 if quick else 5
    scenario = builder(name)(width, latency, with_tools=False)

    async def go() -> list[float]:
        await scenario.run()
        workload.check(scenario, width, False, 1)
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            await scenario.run()
            samples.append(time.perf_counter() - started)
        return samples

    wall = statistics.median(asyncio.run(go()))
    return {"wall_ms": wall * 1000, "ideal_ms": latency * 1000, "ratio": wall / latency}


def concurrency(name: str, quick: bool, latency: float = 0.1) -> dict[str, Any]:
    """1,000 concurrent runs in one (fresh) process: completion time and peak memory per run."""
    runs = 100 if quick else 1000
    out = subprocess.run(
        [sys.executable, "-m", "bench.concurrent", name, str(runs), str(latency)],
        capture_output=True,
        text=True,
        check=False,
        env=child_env(),
        cwd=os.getcwd(),
    )
    if out.returncode != 0:
        raise RuntimeError(f"concurrency run of {name} failed:\n{out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["ideal_ms"] = 2 * latency * 1000  # two specialist turns; specialists run in parallel
    result["ratio"] = result["wall_ms"] / result["ideal_ms"]
    return result


def checkpointing(quick: bool, latency: float = 0.05) -> dict[str, Any]:
    """agentorch with and without a SQLite store, 50 ms model: the cost of checkpointing."""
    repeats = 3 if quick else 10
    build = builder("agentorch")
    with tempfile.TemporaryDirectory() as tmp:
        plain = build(SPECIALISTS, latency)
        stored = build(SPECIALISTS, latency, store=str(Path(tmp) / "runs.db"))

        async def go() -> tuple[list[float], list[float]]:
            await plain.run()
            await stored.run()
            a: list[float] = []
            b: list[float] = []
            for _ in range(repeats):  # interleaved, so drift hits both alike
                for scenario, samples in ((plain, a), (stored, b)):
                    started = time.perf_counter()
                    await scenario.run()
                    samples.append(time.perf_counter() - started)
            return a, b

        a, b = asyncio.run(go())
        if stored.close is not None:
            stored.close()
    plain_ms, stored_ms = statistics.median(a) * 1000, statistics.median(b) * 1000
    return {
        "plain_ms": plain_ms,
        "checkpointed_ms": stored_ms,
        "overhead_pct": (stored_ms - plain_ms) / plain_ms * 100,
        "ideal_ms": 2 * latency * 1000,
    }
