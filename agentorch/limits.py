"""``Limits``: caps on a run's work (steps, revisions, plan size, tool payloads, steps at once)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: No plan may have more steps, however it was made: a safety bound, not a target.
MAX_PLAN_STEPS = 20_000
#: Steps of one supervisor that run at once unless ``Limits`` says otherwise. A step has at most
#: one model call in flight, so this also bounds a run's concurrent calls to its providers.
DEFAULT_CONCURRENT_STEPS = 16
#: Key of a run's state that overrides ``Limits.max_concurrent_steps`` for that run
#: (``agentorch run --max-concurrent-steps N``): recorded with the run, so ``resume`` and the
#: run's Temporal workflow keep it.
CONCURRENT_STEPS_KEY = "max_concurrent_steps"


@dataclass
class Limits:
    """Caps on a run's work. ``None`` caps are derived from the plan's size (see the methods),
    so a plan that grows with its input (steps per document part) is not cut short; the
    whole-tree budget still bounds the spend."""

    max_steps: int | None = None  # step executions, revisions included; None: step_cap()
    max_revisions: int = 2  # per step
    max_total_revisions: int | None = None  # None: revision_cap()
    max_plan_attempts: int = 3
    #: Steps in a plan a router model makes (a model's plan stays short).
    max_plan_steps: int = 30
    #: Steps in a declared plan (code may build one per part of a document): at most MAX_PLAN_STEPS.
    max_declared_steps: int = MAX_PLAN_STEPS
    #: A tool call whose arguments (as JSON) are larger is refused, and the model told why.
    max_tool_argument_bytes: int = 1_000_000
    #: A tool result larger than this is cut to it, with a note saying how much was left out.
    max_tool_result_bytes: int = 1_000_000
    #: Steps running at once; the other ready steps wait and start in plan order as slots free
    #: up. A nested supervisor's step holds one slot here and runs its own steps under its own
    #: limit. ``None``: every ready step starts at once.
    max_concurrent_steps: int | None = DEFAULT_CONCURRENT_STEPS

    def __post_init__(self) -> None:
        from agentorch._checks import check_int, fail

        optional = ("max_steps", "max_total_revisions", "max_concurrent_steps")
        for name, minimum in (
            ("max_steps", 1),
            ("max_revisions", 0),
            ("max_total_revisions", 0),
            ("max_plan_attempts", 1),
            ("max_plan_steps", 1),
            ("max_declared_steps", 1),
            ("max_tool_argument_bytes", 1),
            ("max_tool_result_bytes", 1),
            ("max_concurrent_steps", 1),
        ):
            if getattr(self, name) is not None or name not in optional:
                check_int("Limits", name, getattr(self, name), minimum=minimum)
        for name in ("max_plan_steps", "max_declared_steps"):
            if getattr(self, name) > MAX_PLAN_STEPS:
                fail("Limits", name, f"an integer <= {MAX_PLAN_STEPS}", getattr(self, name))

    def revision_cap(self, plan_steps: int) -> int:
        """Revisions in the whole run: as set, else 12 or one per two steps, whichever is more."""
        if self.max_total_revisions is not None:
            return self.max_total_revisions
        return max(12, plan_steps // 2)

    def step_cap(self, plan_steps: int) -> int:
        """Step executions in the run: as set, else every step once plus three per revision
        (a step and its two reviewers), at least 60."""
        if self.max_steps is not None:
            return self.max_steps
        return max(60, plan_steps + 3 * self.revision_cap(plan_steps))

    def concurrent_steps(self, state: Mapping[str, Any]) -> int | None:
        """Steps a run may keep running at once: its recorded override, else the limit."""
        from agentorch._checks import check_int

        override = state.get(CONCURRENT_STEPS_KEY)
        if override is None:
            return self.max_concurrent_steps
        check_int("the run's state", CONCURRENT_STEPS_KEY, override, minimum=1)
        return int(override)
