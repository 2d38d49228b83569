"""Several real processes sharing one store: leases, the audit chain, schema creation."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from store_helpers import make_run

from agentorch.store import SCHEMA_VERSION, Store, open_store

WORKER = Path(__file__).with_name("mp_worker.py")


def _race(mode: str, url: str, names: list[str], arg: int = 0) -> dict[str, dict[str, Any]]:
    """Start one worker per name, release them together, return each one's JSON outcome."""
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(WORKER), mode, url, name, str(arg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    }
    try:
        for name, proc in procs.items():
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.strip() == "ready", f"{name} did not start: {line}{proc.stderr.read()}"  # type: ignore[union-attr]
        start = time.time() + 0.2  # all workers begin at the same instant
        for proc in procs.values():
            assert proc.stdin is not None
            proc.stdin.write(f"go {start}\n")
            proc.stdin.flush()
        outcomes = {}
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, f"{name} failed:\n{err}"
            outcomes[name] = json.loads(out.strip().splitlines()[-1])
        return outcomes
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_racing_processes_each_lease_gets_exactly_one_winner(store: Store, store_url: str) -> None:
    runs = 100
    for i in range(runs):
        make_run(store, f"run-{i}")
    outcomes = _race("lease", store_url, ["proc-a", "proc-b"], runs)
    a, b = outcomes["proc-a"], outcomes["proc-b"]
    assert sorted(a["won"] + b["won"]) == list(range(runs))
    assert sorted(a["locked"]) == sorted(b["won"])
    assert sorted(b["locked"]) == sorted(a["won"])


def test_concurrent_appenders_in_two_processes_keep_one_chain(store: Store, store_url: str) -> None:
    make_run(store)
    _race("append", store_url, ["proc-a", "proc-b"], 40)
    records = list(store.events("run-1"))
    assert [r.seq for r in records] == list(range(1, 81))
    for name in ("proc-a", "proc-b"):
        mine = [r.payload["i"] for r in records if r.payload["worker"] == name]
        assert mine == list(range(40))
    assert store.verify_audit("run-1").ok


def test_processes_creating_one_new_store_together(store_url: str) -> None:
    _race("open", store_url, ["p1", "p2", "p3"])
    store = open_store(store_url)
    try:
        with store.transaction():
            rows = store._x("SELECT version FROM schema_version").fetchall()  # type: ignore[attr-defined]
        assert sorted(v for (v,) in rows) == list(range(1, SCHEMA_VERSION + 1))
    finally:
        store.close()
