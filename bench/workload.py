"""The shared workload: what every framework's fake models answer and what the tools return.

A supervisor delegates to ``n`` specialists at once; each specialist calls its tool once, then
answers; the supervisor answers last. Every framework therefore makes ``2n + 2`` model calls and
``n`` tool calls per run (``n`` model calls with ``with_tools=False``). Only specialist model calls
wait ``latency`` seconds; the supervisor's are instant, so the ideal wall time of a run is
``latency`` (one per specialist turn, specialists running in parallel).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

TASK = "Prepare the quarterly vendor review."
FINAL = "Final answer: all specialists reported."


def specialist_name(i: int) -> str:
    return f"specialist_{i}"


def tool_name(i: int) -> str:
    return f"lookup_{i}"


def instruction(i: int) -> str:
    return f"Look up fact {i} and report it."


def tool_result(i: int) -> str:
    return f"fact {i}: the vendor met {90 + i}% of its targets."


def specialist_answer(i: int) -> str:
    return f"Specialist {i} reports: the vendor met {90 + i}% of its targets."


@dataclass
class Counts:
    """Model and tool calls made by one or more runs (checked equal across frameworks)."""

    model_calls: int = 0
    tool_calls: int = 0

    def expected(self, n: int, with_tools: bool, runs: int = 1) -> Counts:
        per_run = Counts(2 * n + 2, n) if with_tools else Counts(n + 2, 0)
        return Counts(per_run.model_calls * runs, per_run.tool_calls * runs)


@dataclass
class Scenario:
    """One framework's workload, built once and run many times."""

    framework: str
    run: Callable[[], Awaitable[str]]
    counts: Counts = field(default_factory=Counts)
    #: Per-framework extra shutdown (e.g. closing a store).
    close: Callable[[], None] | None = None
    #: The store the runs are checkpointed to (agentorch with a store only).
    store: Any = None


def check(scenario: Scenario, n: int, with_tools: bool, runs: int) -> None:
    """Raise if a framework did not do exactly the work of the shared workload."""
    want = Counts().expected(n, with_tools, runs)
    got = scenario.counts
    if (got.model_calls, got.tool_calls) != (want.model_calls, want.tool_calls):
        raise AssertionError(
            f"{scenario.framework}: {got.model_calls} model calls and {got.tool_calls} tool calls "
            f"in {runs} run(s); the workload needs {want.model_calls} and {want.tool_calls}"
        )
