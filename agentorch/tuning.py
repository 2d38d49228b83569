"""Process-wide settings for a process that runs many runs at once: opt-in, never on import.

A run allocates many short-lived container objects (events, messages, records) and, when it
ends, is freed by reference counting: it leaves no reference cycle behind (a test checks it).
With CPython's default thresholds the cyclic garbage collector still runs a young collection
every 700 net allocations and keeps re-scanning everything that survived: with thousands of runs
in flight in one process it took about a third of the CPU, all of it spent finding nothing
(``python -m bench run-scaling`` measures it). ``tune_gc`` is what the ``agentorch`` command does
for its own process; call it once in your own server or worker process after its imports.
"""

from __future__ import annotations

import gc

#: Net allocations of container objects between two young-generation collections.
YOUNG_THRESHOLD = 50_000
#: Young collections between two collections of the middle generation.
MIDDLE_THRESHOLD = 100


def tune_gc(young: int = YOUNG_THRESHOLD, middle: int = MIDDLE_THRESHOLD) -> None:
    """Freeze what exists now and collect the young and middle generations less often.

    ``gc.freeze()`` moves every object alive at the call (modules, classes, configuration) into
    a permanent generation the collector no longer scans; raising the young threshold makes the
    collector run ~70x less often, each run scanning a larger but still young set. While many
    runs are in flight every young object survives, and each middle collection re-scans all of
    it (10 young collections' worth by default) to find nothing: raising the middle threshold
    to 100 halved the collector's CPU at 1,000-2,000 runs at once. Reference cycles (user code's,
    or a traceback's) are still collected, only later: a cycle that outlives a young collection
    waits for the next middle one, at most ``young * middle`` net allocations. Calling it again
    is harmless.
    """
    gc.freeze()
    _, _, old = gc.get_threshold()
    gc.set_threshold(max(young, 1), max(middle, 1), old)
