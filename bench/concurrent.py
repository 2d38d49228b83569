"""Child process of measure 3: ``python -m bench.concurrent FRAMEWORK RUNS LATENCY`` -> one JSON line.

Runs in a fresh process so the peak RSS belongs to this framework alone.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import sys
import time


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def _main(name: str, runs: int, latency: float) -> dict[str, float]:
    from bench import workload
    from bench.frameworks import builder
    from bench.measures import SPECIALISTS

    scenario = builder(name)(SPECIALISTS, latency)
    await scenario.run()  # warm up imports and caches
    workload.check(scenario, SPECIALISTS, True, 1)
    gc.collect()
    baseline = _rss_kb()
    started = time.perf_counter()
    await asyncio.gather(*(scenario.run() for _ in range(runs)))
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    workload.check(scenario, SPECIALISTS, True, runs + 1)
    return {"runs": runs, "wall_ms": wall * 1000, "kb_per_run": max(peak - baseline, 0) / runs}


if __name__ == "__main__":
    from bench._env import isolate

    isolate()
    name, runs, latency = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    print(json.dumps(asyncio.run(_main(name, runs, latency))))
