"""Profile agentorch on the zero-latency workload with pyinstrument: where its time goes."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench._env import ROOT
from bench.frameworks import builder
from bench.measures import SPECIALISTS


def hot_spots(
    runs: int = 200, top: int = 12, text_out: Path | None = None
) -> list[dict[str, Any]] | None:
    """Top self times, then top inclusive times of agentorch functions; None without pyinstrument."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    scenario = builder("agentorch")(SPECIALISTS, 0.0)

    async def go() -> None:
        for _ in range(runs):
            await scenario.run()

    asyncio.run(go())  # warm up
    profiler = Profiler(interval=0.0002, async_mode="disabled")
    profiler.start()
    asyncio.run(go())
    profiler.stop()
    session = profiler.last_session
    if text_out is not None:
        text = profiler.output_text(unicode=False, color=False)
        # no machine paths in a committed file: paths inside the repository become relative
        text_out.write_text(text.replace(f"{ROOT}/", ""), encoding="utf-8")
    totals: dict[tuple[str, str], float] = defaultdict(float)
    inclusive: dict[tuple[str, str], float] = defaultdict(float)
    stack: list[tuple[Any, frozenset[tuple[str, str]]]] = [(session.root_frame(), frozenset())]
    while stack:
        frame, above = stack.pop()
        if frame is None or frame.is_synthetic:  # "[self]"/"[await]": in the parent's self time
            continue
        key = (frame.function or "?", f"{frame.file_path_short}:{frame.line_no}")
        if "agentorch" in (frame.file_path_short or "") and key not in above:
            inclusive[key] += frame.time  # once per path: recursion is not double counted
        stack.extend((child, above | {key}) for child in frame.children)
        own = frame.total_self_time
        if own > 0:
            totals[key] += own
    total = session.duration or sum(totals.values())

    def rows(table: dict[tuple[str, str], float], kind: str) -> list[dict[str, Any]]:
        ranked = sorted(table.items(), key=lambda kv: kv[1], reverse=True)[:top]
        return [
            {
                "kind": kind,
                "function": fn,
                "where": where,
                "ms_per_run": t / runs * 1000,
                "share_pct": t / total * 100,
            }
            for (fn, where), t in ranked
        ]

    return rows(totals, "self") + rows(inclusive, "inclusive")
