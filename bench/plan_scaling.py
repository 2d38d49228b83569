"""``python -m bench plan-scaling``: scheduler cost per step as a dependent chain grows.

A chain of N steps (each depends on the previous one) on a zero-latency function model, no store:
what is left is the runtime's own CPU per step. The target (issue: linear in plan size) is a
1,024-step chain costing, per step, within 1.2x of a 64-step chain. Each size runs in a fresh
process several times; the median is reported, with the load average at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from typing import Any

SIZES = (64, 256, 1024)
TARGET_RATIO = 1.2


def _one(n: int) -> dict[str, Any]:
    """Run one chain of ``n`` steps in this process (after a warm-up chain); CPU and health."""
    _chain(16)  # imports, first-call caches: not the scheduler's cost
    return _chain(n)


def _chain(n: int) -> dict[str, Any]:
    import asyncio
    import time

    from agentorch import Agent, Plan, Step, Supervisor
    from agentorch.models.testing import FunctionModel, text_response
    from agentorch.models.types import Usage
    from agentorch.orchestrator import Limits

    fixed = Usage(input_tokens=50, output_tokens=10, requests=1)
    answer = text_response("done").model_copy(update={"usage": fixed})
    model = FunctionModel(lambda request: answer, name="fake")
    agent = Agent(name="worker", description="Does one step.", model=model)
    plan = Plan(
        steps=[
            Step(
                id=f"s{i}",
                agent="worker",
                instruction=f"step {i}",
                depends_on=[f"s{i - 1}"] if i else [],
            )
            for i in range(n)
        ],
        final_step=f"s{n - 1}",
    )
    sup = Supervisor([agent], model=model, limits=Limits(max_steps=n + 1, max_plan_steps=n))
    start = time.process_time()
    result = asyncio.run(sup.run("chain", plan=plan))
    cpu = time.process_time() - start
    done = sum(1 for s in result.steps.values() if s.status == "done")
    if result.status != "succeeded" or done != n:  # measure a healthy run only
        raise AssertionError(f"chain of {n}: {result.status}, {done}/{n} steps done")
    return {"n": n, "cpu_s": cpu, "ms_per_step": cpu * 1000 / n}


def measure(sizes: tuple[int, ...] = SIZES, repeats: int = 5) -> dict[str, Any]:
    """Median CPU per step for each chain length, each run in a fresh process."""
    load = os.getloadavg()[0]
    rows = []
    for n in sizes:
        samples = []
        for _ in range(repeats):
            out = subprocess.run(
                [sys.executable, "-m", "bench.plan_scaling", "--one", str(n)],
                check=True,
                capture_output=True,
                text=True,
            )
            samples.append(json.loads(out.stdout)["ms_per_step"])
        rows.append({"steps": n, "ms_per_step": statistics.median(samples), "samples": samples})
    ratio = rows[-1]["ms_per_step"] / rows[0]["ms_per_step"]
    return {
        "load_avg": load,
        "rows": rows,
        "ratio": ratio,
        "target": TARGET_RATIO,
        "met": ratio <= TARGET_RATIO,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench plan-scaling", description=__doc__)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=5, help="processes per size (median)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one)))
        return 0
    result = measure(repeats=args.repeats)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"load average at start: {result['load_avg']:.2f}")
    print("| chain length | CPU per step (ms, median) |")
    print("|---:|---:|")
    for row in result["rows"]:
        print(f"| {row['steps']} | {row['ms_per_step']:.3f} |")
    verdict = "met" if result["met"] else "missed"
    print(
        f"\n{result['rows'][-1]['steps']} vs {result['rows'][0]['steps']} steps: "
        f"{result['ratio']:.2f}x per step (target <= {TARGET_RATIO}x): {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
