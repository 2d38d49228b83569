"""A separate process for the multi-process store tests (run as a script, not collected).

Usage: ``python mp_worker.py MODE URL NAME [ARG]``. It opens the store (unless MODE is ``open``),
prints ``ready``, waits for ``go T`` on stdin and sleeps until the wall-clock time T, so that all
workers start at once, does its work and prints one JSON line with the outcome.
"""

from __future__ import annotations

import json
import random
import sys
import time

from agentorch.errors import RunLockedError
from agentorch.store import open_store


def main() -> None:
    mode, url, name = sys.argv[1:4]
    arg = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    store = None if mode == "open" else open_store(url)
    print("ready", flush=True)
    start = float(sys.stdin.readline().split()[1])
    time.sleep(max(0.0, start - time.time()))
    result: dict[str, object] = {}
    if mode == "open":
        store = open_store(url)
        result["opened"] = True
    elif mode == "lease":
        won, locked = [], []
        order = list(range(arg))
        random.Random(name).shuffle(order)  # each worker its own order: they collide throughout
        for i in order:
            try:
                store.acquire_lease(f"run-{i}", name, ttl=600, now=time.time())  # type: ignore[union-attr]
                won.append(i)
            except RunLockedError:
                locked.append(i)
        result = {"won": won, "locked": locked}
    elif mode == "append":
        for i in range(arg):
            store.append_event("run-1", "tick", time.time(), {"worker": name, "i": i})  # type: ignore[union-attr]
        result["appended"] = arg
    assert store is not None
    store.close()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
