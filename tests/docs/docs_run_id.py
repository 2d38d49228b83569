"""Prints the run a page's ``RUN_ID`` stands for, as a reader would pick it from ``agentorch runs``:
the newest run the command can act on (``resume``: one that can be resumed; ``approve``: one with
a pending decision), else the newest run. Usage: ``docs_run_id.py COMMAND`` (``-`` for any)."""

from __future__ import annotations

import os
import sys

from agentorch.store import open_store
from agentorch.store.base import RESUMABLE


def main(command: str) -> str:
    store = open_store(os.environ.get("AGENTORCH_STORE") or "sqlite:///runs.db")
    try:
        runs = store.list_runs(limit=0)
        if command == "resume":
            fitting = [r for r in runs if r.status in RESUMABLE]
        elif command == "approve":
            fitting = [r for r in runs if store.approvals(r.run_id, pending_only=True)]
        else:
            fitting = runs
        chosen = fitting or runs
        return chosen[0].run_id if chosen else "no-run-yet"
    finally:
        store.close()


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else "-"))
