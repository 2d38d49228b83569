"""Writes that chain from the head this store committed last (SQLite: no read of the run's row).

Whatever the store skips reading up front, it checks in the update that moves the head: a head
moved by another process is chained onto, a head altered outside agentorch or a lease lost is
refused, and nothing of the refused transaction is written.
"""

from __future__ import annotations

import sqlite3

import pytest
from store_helpers import Raw, make_approval, make_entry, make_run, make_step

from agentorch.errors import LeaseLostError, StoreError
from agentorch.store import Store, open_store


def _fenced(store: Store) -> int:
    make_run(store, status="running")
    epoch = store.acquire_lease("run-1", "proc-a", ttl=10, now=0.0)
    store.fence("run-1", "proc-a", epoch)
    store.append_event("run-1", "run_started", 1.0, {})  # the head is this store's now
    return epoch


def test_records_chain_onto_a_head_another_process_moved(store_url: str, store: Store) -> None:
    _fenced(store)
    store.create_approval(make_approval("ap-1"))
    other = open_store(store_url)
    try:  # e.g. `agentorch approve` in another terminal: it seals the decision into the chain
        other.decide_approval("ap-1", status="approved", approver="ann", decided_at=2.0)
        other.append_event("run-1", "note", 2.5, {"by": "other"})
    finally:
        other.close()
    with store.transaction():
        store.save_step(make_step(status="done"))
        store.append_event("run-1", "step_finished", 3.0, {"step_id": "s1"})
    store.append_event("run-1", "run_finished", 4.0, {})
    records = list(store.events("run-1"))
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    assert [r.kind for r in records][-4:] == [
        "note",
        "step_finished",
        "rows_recorded",
        "run_finished",
    ]
    result = store.verify_audit("run-1")
    assert result.ok, result.problems


def test_a_head_altered_outside_agentorch_refuses_the_next_write(store: Store, raw: Raw) -> None:
    _fenced(store)
    store.append_event("run-1", "a", 2.0, {})
    store.append_event("run-1", "b", 3.0, {})
    # cut the last record and point the head at the one before it (no key for the signature)
    prev = raw("SELECT hash FROM events WHERE run_id = 'run-1' AND seq = 2")[0][0]
    raw("DELETE FROM events WHERE run_id = 'run-1' AND seq = 3")
    raw("UPDATE runs SET audit_seq = 2, audit_head = ? WHERE run_id = 'run-1'", prev)
    with pytest.raises(StoreError, match="altered outside agentorch"):
        store.save_step(make_step(status="done"))
    assert store.get_steps("run-1") == []
    assert raw("SELECT MAX(seq) FROM events WHERE run_id = 'run-1'")[0][0] == 2


def test_a_lost_lease_is_what_a_failing_write_reports(store_url: str, store: Store) -> None:
    _fenced(store)
    store.journal_start(make_entry(key="k1"))
    store.journal_finish("run-1", "k1", status="completed", result={"x": 1}, finished_at=2.0)
    other = open_store(store_url)
    try:
        other.acquire_lease("run-1", "proc-b", ttl=10, now=30.0)  # the lease had expired
    finally:
        other.close()
    # this write would fail anyway (the entry is completed): the lost lease is the news
    with pytest.raises(LeaseLostError):
        store.journal_start(make_entry(key="k1"))
    with pytest.raises(LeaseLostError):  # a write that moves no head checks the lease too
        store.journal_start(make_entry(key="k2"))
    assert [e.key for e in store.journal("run-1")] == ["k1"]


def test_a_fenced_write_of_its_own_run_reads_no_row_first(store_url: str, store: Store) -> None:
    if not store_url.startswith("sqlite"):
        pytest.skip("SQLite only: PostgreSQL locks the run's row up front")
    _fenced(store)
    conn: sqlite3.Connection = store._conn  # type: ignore[attr-defined]
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        with store.transaction():
            store.journal_start(make_entry(key="k1"))
            store.append_event("run-1", "tool_call_started", 2.0, {"key": "k1"})
    finally:
        conn.set_trace_callback(None)
    assert not [s for s in statements if s.startswith("SELECT")], statements
    moved = [s for s in statements if s.startswith("UPDATE runs SET audit_seq")]
    assert len(moved) == 1 and "lease_epoch" in moved[0]
    assert store.verify_audit("run-1").ok
