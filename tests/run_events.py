"""Reading a run's events in tests: what they say about how the run went."""

from __future__ import annotations

from collections.abc import Iterable

from agentorch.events.types import BaseEvent, StepFinished, StepStarted


def peak_steps(events: Iterable[BaseEvent]) -> int:
    """The most steps that were running at once, from a run's events in order."""
    running: set[str] = set()
    peak = 0
    for event in events:
        if isinstance(event, StepStarted):
            running.add(event.step_id)
            peak = max(peak, len(running))
        elif isinstance(event, StepFinished):
            running.discard(event.step_id)
    return peak
