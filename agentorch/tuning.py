"""Process-wide settings for a process that runs many runs at once: opt-in, never on import.

A run allocates many short-lived container objects (events, messages, records), few of them in
reference cycles. With CPython's default thresholds the cyclic garbage collector runs a young
collection every 700 net allocations and keeps re-scanning everything that survived: with
thousands of runs in flight in one process it took about a third of the CPU
(``python -m bench run-scaling`` measures it). ``tune_gc`` is what the ``agentorch`` command does
for its own process; call it once in your own server or worker process after its imports.
"""

from __future__ import annotations

import gc

#: Net allocations of container objects between two young-generation collections.
YOUNG_THRESHOLD = 50_000


def tune_gc(young: int = YOUNG_THRESHOLD) -> None:
    """Freeze what exists now and collect the young generation less often.

    ``gc.freeze()`` moves every object alive at the call (modules, classes, configuration) into
    a permanent generation the collector no longer scans; raising the young threshold makes the
    collector run ~70x less often, each run scanning a larger but still young set. Reference
    cycles are still collected, only later; memory held by garbage cycles grows by at most
    ``young`` objects between collections. Calling it again is harmless.
    """
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, 1), middle, old)
