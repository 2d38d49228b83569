"""``python -m bench run-scaling``: what durability costs, and CPU per run as concurrent runs grow.

Two measures on the shared workload (a supervisor, four specialists each calling one tool; 10 model
calls and 4 tool calls per run), every figure the median of several fresh processes:

1. Durability: runs one after another on zero-latency models, without a store and with a SQLite
   store (a file), interleaved in each process; CPU (``process_time``) per run. Target: a durable
   run costs at most 2x the storeless one. Also counted: SQL statements and transactions per run,
   and the CPU inside SQLite (timed in a pass of its own).
2. Concurrent runs: N runs at once in one process (10 ms model), plain and durable, each size in
   fresh processes, the sizes interleaved round by round (load that drifts during the measure
   weighs on every size alike); CPU per run, the garbage collector's share of it, wall time, peak
   memory per run. A process runs at least ``MIN_RUNS`` runs: a smaller size runs in rounds of N
   at once (wall time is one round's). Target: CPU per run at the largest size within 1.25x of
   the smallest (flat). The processes tune the garbage collector the way the ``agentorch``
   command does (``agentorch.tune_gc``).

No figure is reported from an unhealthy run: every run must succeed with exactly the workload's
calls, and a durable run's store must hold every run as succeeded with an intact audit chain.
"""

from __future__ import annotations

import argparse
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

from agentorch._held import HOLD_FOR
from bench._env import child_env
from bench.measures import store_health

SIZES = (100, 500, 1000, 2000)
#: Each concurrent-runs process runs at least this many runs: a smaller size runs in rounds of N
#: runs at once, so every sample holds seconds of CPU (100 runs alone are ~0.4 s, at the mercy of
#: a shared machine's noise).
MIN_RUNS = 1000
COST_TARGET = 2.0
FLAT_TARGET = 1.25
LATENCY = 0.01
SPECIALISTS = 4
START, END = "<!-- run-scaling:start -->", "<!-- run-scaling:end -->"


def _count_sql(store: Any, run: Any) -> dict[str, int]:
    """SQL statements and transactions of one durable run (SQLite's own trace of what it ran)."""
    conn = store.inner._conn
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        asyncio.run(run())
    finally:
        conn.set_trace_callback(None)
    return {
        "statements": len(statements),
        "transactions": sum(1 for s in statements if s.startswith("BEGIN")),
    }


def _time_sql(store: Any, run: Any, runs: int) -> dict[str, float]:
    """CPU per run inside the store's SQLite calls (``tx_ms``: BEGIN and COMMIT), in a pass of
    its own so the timing does not weigh on the ratio."""
    inner = store.inner
    spent = {"sql": 0.0, "tx": 0.0}
    names = ("_execute", "_executemany", "_begin", "_commit")

    def timed(name: str) -> None:
        original = getattr(inner, name)
        tx = name in ("_begin", "_commit")

        def call(*args: Any) -> Any:
            started = time.thread_time()
            try:
                return original(*args)
            finally:
                took = time.thread_time() - started
                spent["sql"] += took
                if tx:
                    spent["tx"] += took

        setattr(inner, name, call)

    for name in names:
        timed(name)

    async def go() -> None:
        for _ in range(runs):
            await run()

    try:
        asyncio.run(go())
    finally:
        for name in names:
            del inner.__dict__[name]
    return {"sql_ms": spent["sql"] * 1000 / runs, "tx_ms": spent["tx"] * 1000 / runs}


def one_cost(runs: int) -> dict[str, Any]:
    """One process: plain and durable runs interleaved; CPU per run of each."""
    from bench import workload
    from bench.fw_agentorch import build

    with tempfile.TemporaryDirectory() as tmp:
        plain = build(SPECIALISTS, 0.0)
        durable = build(SPECIALISTS, 0.0, store=str(Path(tmp) / "runs.db"))

        async def go() -> tuple[list[float], list[float]]:
            for scenario in (plain, durable):
                for _ in range(5):  # imports, caches, the store's file
                    await scenario.run()
            a: list[float] = []
            b: list[float] = []
            for _ in range(5):
                for scenario, samples in ((plain, a), (durable, b)):
                    started = time.process_time()
                    for _ in range(runs):
                        await scenario.run()
                    samples.append((time.process_time() - started) * 1000 / runs)
            return a, b

        a, b = asyncio.run(go())
        sql = _count_sql(durable.store, durable.run)
        timing = _time_sql(durable.store, durable.run, runs)
        total = 5 + 5 * runs
        workload.check(plain, SPECIALISTS, True, total)
        workload.check(durable, SPECIALISTS, True, total + 1 + runs)
        store_health(durable.store, total + 1 + runs)
        if durable.close is not None:
            durable.close()
    plain_ms, durable_ms = statistics.median(a), statistics.median(b)
    return {
        "plain_ms": plain_ms,
        "durable_ms": durable_ms,
        "ratio": durable_ms / plain_ms,
        **sql,
        **timing,
    }


def one_concurrent(runs: int, durable: bool, min_runs: int = MIN_RUNS) -> dict[str, Any]:
    """One process: ``runs`` runs at once, in as many rounds as make ``min_runs``; CPU (and the
    collector's part of it) per run, one round's wall time, peak memory per run at once."""
    import gc
    import resource

    import agentorch
    from bench import workload
    from bench.concurrent import _rss_kb
    from bench.fw_agentorch import build

    with tempfile.TemporaryDirectory() as tmp:
        scenario = build(
            SPECIALISTS, LATENCY, store=str(Path(tmp) / "runs.db") if durable else None
        )

        collector = [0.0, 0.0]  # CPU seconds in collections; when the current one started

        def timed(phase: str, info: dict[str, Any]) -> None:
            if phase == "start":
                collector[1] = time.process_time()
            else:
                collector[0] += time.process_time() - collector[1]

        rounds = max(1, -(-min_runs // runs))

        async def go() -> tuple[float, float, int]:
            await scenario.run()  # imports, caches
            agentorch.tune_gc()  # as the agentorch command does
            gc.collect()
            baseline = _rss_kb()
            gc.callbacks.append(timed)
            cpu, wall = time.process_time(), time.perf_counter()
            try:
                for _ in range(rounds):
                    await asyncio.gather(*(scenario.run() for _ in range(runs)))
                return time.process_time() - cpu, time.perf_counter() - wall, baseline
            finally:
                gc.callbacks.remove(timed)

        cpu, wall, baseline = asyncio.run(go())
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        total = runs * rounds
        workload.check(scenario, SPECIALISTS, True, total + 1)
        if durable:
            store_health(scenario.store, total + 1)
            if scenario.close is not None:
                scenario.close()
    return {
        "runs": runs,
        "durable": durable,
        "rounds": rounds,
        "cpu_ms_per_run": cpu * 1000 / total,
        "gc_ms_per_run": collector[0] * 1000 / total,
        "wall_s": wall / rounds,
        "kb_per_run": max(peak - baseline, 0) / runs,
    }


def _child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.run_scaling", *args],
        capture_output=True,
        text=True,
        env=child_env(),
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"run-scaling {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _median_row(samples: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    row = {key: statistics.median(s[key] for s in samples) for key in keys}
    row["processes"] = len(samples)
    return row


def measure(
    sizes: tuple[int, ...] = SIZES, repeats: int = 3, cost_runs: int = 30
) -> dict[str, Any]:
    """Both measures, each sample in a fresh process; medians per row."""
    load_start = os.getloadavg()
    cost = _median_row(
        [_child("--cost", str(cost_runs)) for _ in range(repeats)],
        ("plain_ms", "durable_ms", "ratio", "statements", "transactions", "sql_ms", "tx_ms"),
    )
    cells = [(n, durable) for n in sizes for durable in (False, True)]
    samples: dict[tuple[int, bool], list[dict[str, Any]]] = {cell: [] for cell in cells}
    for _ in range(repeats):  # round by round: a change of load weighs on every size alike
        for n, durable in cells:
            samples[n, durable].append(_child("--concurrent", str(n), "d" if durable else "p"))
    keys = ("cpu_ms_per_run", "gc_ms_per_run", "wall_s", "kb_per_run")
    rows = [{"runs": n, "durable": d, **_median_row(samples[n, d], keys)} for n, d in cells]
    flat = {}
    for durable in (False, True):
        mine = [r for r in rows if r["durable"] is durable]
        flat["durable" if durable else "plain"] = (
            mine[-1]["cpu_ms_per_run"] / mine[0]["cpu_ms_per_run"]
        )
    return {
        "load_avg_start": load_start,
        "load_avg_end": os.getloadavg(),
        "cost": cost,
        "cost_met": cost["ratio"] <= COST_TARGET,
        "concurrent": rows,
        "flat": flat,
        "flat_met": {k: v <= FLAT_TARGET for k, v in flat.items()},
        "sizes": list(sizes),
    }


def render(result: dict[str, Any]) -> str:
    """The report's section (between its markers), every figure from ``result``."""
    c = result["cost"]
    first, last = result["sizes"][0], result["sizes"][-1]

    def load(values: list[float]) -> str:
        return " ".join(f"{v:.2f}" for v in values)

    def verdict(ok: bool) -> str:
        return "met" if ok else "**MISSED**"

    lines = [
        START,
        "### Durability and concurrent runs (`python -m bench run-scaling`)",
        "",
        f"The shared workload ({2 * SPECIALISTS + 2} model calls and {SPECIALISTS} tool calls per "
        "run). CPU time (`process_time`), the median of "
        f"{c['processes']} fresh processes per row; every process first checks that each run "
        "succeeded with exactly the workload's calls and, with a store, that the store holds "
        "every run as succeeded with an intact audit chain. "
        f"Load average (1, 5, 15 min) at the start: {load(result['load_avg_start'])}; at the "
        f"end: {load(result['load_avg_end'])} (2 CPUs shared with other jobs: compare ratios "
        "measured side by side, not absolute figures). Generated by "
        "`python -m bench run-scaling --write BENCHMARKS.md`.",
        "",
        "Durability, runs one after another on zero-latency models, with and without a SQLite "
        "store (plain and durable runs interleaved in each process):",
        "",
        "| store | CPU per run (ms) | SQL statements per run | transactions per run |",
        "|---|---:|---:|---:|",
        f"| none | {c['plain_ms']:.2f} | - | - |",
        f"| SQLite file | {c['durable_ms']:.2f} | {c['statements']:.0f} | "
        f"{c['transactions']:.0f} |",
        "",
        f"Durable / storeless: **{c['ratio']:.2f}x** (target <= {COST_TARGET:.0f}x): "
        f"{verdict(result['cost_met'])}.",
        "",
        *_why_durable(c),
        f"Concurrent runs in one process ({LATENCY * 1000:.0f} ms model, the garbage collector "
        "tuned as the `agentorch` command tunes it; the sizes measured round by round, "
        f"interleaved). Each process runs at least {MIN_RUNS:,} runs: a smaller size runs in "
        "rounds of that many runs at once, and its wall time is one round's. The collector "
        "column is the CPU spent in garbage collections, part of the CPU per run:",
        "",
        "| runs at once | store | CPU per run (ms) | collector (ms per run) | wall (s) "
        "| peak KiB per run |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for row in result["concurrent"]:
        lines.append(
            f"| {row['runs']:,} | {'SQLite' if row['durable'] else 'none'} | "
            f"{row['cpu_ms_per_run']:.2f} | {row['gc_ms_per_run']:.2f} | {row['wall_s']:.1f} | "
            f"{row['kb_per_run']:.0f} |"
        )
    lines += [""]
    for name in ("plain", "durable"):
        mine = [r for r in result["concurrent"] if r["durable"] is (name == "durable")]
        lines.append(
            f"- {name}: CPU per run at {last:,} runs is {result['flat'][name]:.2f}x that at "
            f"{first:,} (target <= {FLAT_TARGET}x): {verdict(result['flat_met'][name])}; the "
            f"collector {mine[0]['gc_ms_per_run']:.2f} ms per run at {first:,}, "
            f"{mine[-1]['gc_ms_per_run']:.2f} at {last:,}."
        )
    lines += ["", END]
    return "\n".join(lines) + "\n"


def _why_durable(c: dict[str, Any]) -> list[str]:
    """Where the difference goes, in this run's figures."""
    extra = c["durable_ms"] - c["plain_ms"]
    per_tx = extra * 1000 / c["transactions"]
    python_ms = max(extra - c["sql_ms"], 0.0)
    calls = 2 * SPECIALISTS + 2 + SPECIALISTS
    return [
        f"The difference, {extra:.2f} ms per run, is {per_tx:.0f} µs for each of the "
        f"{c['transactions']:.0f} transactions. {c['sql_ms']:.2f} ms of it is inside SQLite (its "
        f"calls timed in a separate pass), {c['tx_ms']:.2f} ms of that in BEGIN and COMMIT (the "
        f"WAL's page writes); about {python_ms:.2f} ms is the Python that redacts, encodes and "
        "hashes what is written: every event chained into the audit log, with one record per "
        "transaction of the digests of the rows that decide, and the signed head moved once per "
        "transaction. Each of the "
        f"{calls} calls starts only once its intent is committed, but the intents the parallel "
        "steps reach together share one transaction (group commit), a read-only tool call's "
        "intent is held with its result, and a call's result, a step's start and a step's "
        f"result are held for the run's next transaction (at most {HOLD_FOR * 1000:.0f} ms).",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench run-scaling", description=__doc__)
    parser.add_argument("--cost", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--concurrent", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help="processes per row (median)")
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, SIZES)),
        help="concurrent runs per process, comma-separated",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--write", metavar="REPORT", help="replace this measure's section in it")
    args = parser.parse_args(argv)
    if args.cost:
        print(json.dumps(one_cost(args.cost)))
        return 0
    if args.concurrent:
        print(json.dumps(one_concurrent(int(args.concurrent[0]), args.concurrent[1] == "d")))
        return 0
    try:
        sizes = tuple(int(s) for s in args.sizes.split(","))
    except ValueError:
        parser.error(f"--sizes: comma-separated numbers of runs, not {args.sizes!r}")
    result = measure(sizes, repeats=args.repeats)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(render(result))
    if args.write:
        from bench._sections import write_section

        write_section(Path(args.write), render(result), START, END)
    return 0


if __name__ == "__main__":
    from bench._env import isolate

    isolate()
    raise SystemExit(main())
