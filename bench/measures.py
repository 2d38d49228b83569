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


def _processes(quick: bool) -> int:
    return 1 if quick else 3


def _in_child(measure: str, *args: str) -> dict[str, Any]:
    """Run one sample of ``measure`` in a fresh process (``python -m bench.measures``)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.measures", measure, *args],
        capture_output=True,
        text=True,
        check=False,
        env=child_env(),
        cwd=os.getcwd(),
    )
    if out.returncode != 0:
        raise RuntimeError(f"{measure} {' '.join(args)} failed:\n{out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _median_of(samples: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The sample whose ``key`` is the median (the upper one of an even count)."""
    ordered = sorted(samples, key=lambda s: s[key])
    return {**ordered[len(ordered) // 2], "processes": len(samples)}


def overhead(name: str, quick: bool) -> dict[str, Any]:
    """Zero-latency models: CPU-bound wall time per run and per delegated step, the median of
    several fresh processes (each the median of its own repeats)."""
    args = [name, "--quick"] if quick else [name]
    samples = [_in_child("overhead", *args) for _ in range(_processes(quick))]
    result = _median_of(samples, "run_ms")
    result["process_run_ms"] = [s["run_ms"] for s in samples]
    return result


def _overhead_here(name: str, quick: bool) -> dict[str, Any]:
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
    workload.check(scenario, SPECIALISTS, True, 1 + warmup + repeats * runs)  # every run did it
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
    result["latency_ms"] = latency * 1000
    result["ratio"] = result["wall_ms"] / result["ideal_ms"]
    return result


def checkpointing(quick: bool, latency: float = 0.05) -> dict[str, Any]:
    """agentorch with and without a SQLite store, 50 ms model: the cost of checkpointing (wall
    time, the median of several fresh processes)."""
    args = [str(latency), "--quick"] if quick else [str(latency)]
    samples = [_in_child("checkpoint", *args) for _ in range(_processes(quick))]
    result = _median_of(samples, "overhead_pct")
    result["process_overhead_pct"] = [s["overhead_pct"] for s in samples]
    return result


def _checkpointing_here(quick: bool, latency: float) -> dict[str, Any]:
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
        for scenario in (plain, stored):
            workload.check(scenario, SPECIALISTS, True, 1 + repeats)
        store_health(stored.store, 1 + repeats)
        if stored.close is not None:
            stored.close()
    plain_ms, stored_ms = statistics.median(a) * 1000, statistics.median(b) * 1000
    return {
        "plain_ms": plain_ms,
        "checkpointed_ms": stored_ms,
        "overhead_pct": (stored_ms - plain_ms) / plain_ms * 100,
        "ideal_ms": 2 * latency * 1000,
        "latency_ms": latency * 1000,
    }


def store_health(store: Any, runs: int) -> None:
    """Every run in ``store`` succeeded, and the first and last runs' audit chains verify."""
    records = store.list_runs(limit=0)
    bad = [r.run_id for r in records if r.status != "succeeded"]
    if len(records) != runs or bad:
        raise AssertionError(f"store holds {len(records)} runs (want {runs}); not succeeded: {bad}")
    for record in (records[0], records[-1]):
        verdict = store.verify_audit(record.run_id)
        if not verdict.ok:
            raise AssertionError(f"run {record.run_id}: audit chain broken: {verdict.problem}")


if __name__ == "__main__":
    from bench._env import isolate

    isolate()
    measure, *rest = sys.argv[1:]
    quick = "--quick" in rest
    rest = [a for a in rest if a != "--quick"]
    if measure == "overhead":
        print(json.dumps(_overhead_here(rest[0], quick)))
    elif measure == "checkpoint":
        print(json.dumps(_checkpointing_here(quick, float(rest[0]))))
    else:
        raise SystemExit(f"unknown measure {measure!r}")
