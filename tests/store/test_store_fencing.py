"""The store's fencing contract: a store fenced for a run writes it only while its lease is current."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from store_helpers import make_approval, make_entry, make_run, make_step

from agentorch.errors import LeaseLostError
from agentorch.store import Store, open_store


def test_every_new_owner_raises_the_epoch(store: Store) -> None:
    make_run(store)
    first = store.acquire_lease("run-1", "proc-a", ttl=10, now=0.0)
    assert store.acquire_lease("run-1", "proc-a", ttl=10, now=1.0) == first  # the holder again
    second = store.acquire_lease("run-1", "proc-b", ttl=10, now=20.0)  # after expiry
    assert second == first + 1
    store.release_lease("run-1", "proc-b")
    assert store.acquire_lease("run-1", "proc-a", ttl=10, now=21.0) == second + 1


def _writes(store: Store) -> dict[str, Callable[[], object]]:
    return {
        "update_run": lambda: store.update_run("run-1", status="failed", error="stale"),
        "save_step": lambda: store.save_step(make_step(status="done")),
        "journal_start": lambda: store.journal_start(make_entry(key="k2")),
        "journal_finish": lambda: store.journal_finish(
            "run-1", "k1", status="completed", result={"x": 1}, finished_at=5.0
        ),
        "create_approval": lambda: store.create_approval(make_approval("ap-2")),
        "decide_approval": lambda: store.decide_approval(
            "ap-1", status="approved", approver="stale", decided_at=5.0
        ),
        "append_event": lambda: store.append_event("run-1", "run_finished", 5.0, {"x": 1}),
    }


def test_a_fenced_store_writes_nothing_once_another_owner_took_the_run(
    store_url: str, store: Store
) -> None:
    make_run(store, status="running")
    store.journal_start(make_entry(key="k1"))
    store.create_approval(make_approval("ap-1"))
    store.append_event("run-1", "run_started", 1.0, {})
    epoch = store.acquire_lease("run-1", "proc-a", ttl=10, now=0.0)
    store.fence("run-1", "proc-a", epoch)
    store.update_run("run-1", updated_at=2.0)  # the holder writes as usual

    other = open_store(store_url)  # another process: the lease expired, it takes the run
    try:
        other.acquire_lease("run-1", "proc-b", ttl=10, now=30.0)
        events_before = [(e.seq, e.kind) for e in other.events("run-1")]
        for name, write in _writes(store).items():
            with pytest.raises(LeaseLostError, match="lost its lease") as info:
                write()
            assert info.value.run_id == "run-1", name
        run = other.get_run("run-1")
        assert (run.status, run.error, run.updated_at) == ("running", None, 2.0)
        assert other.get_steps("run-1") == []
        assert [e.key for e in other.journal("run-1")] == ["k1"]
        assert other.journal("run-1")[0].status == "started"
        assert [a.status for a in other.approvals("run-1")] == ["pending"]
        assert [(e.seq, e.kind) for e in other.events("run-1")] == events_before
        assert other.verify_audit("run-1").ok
        # the new owner is not fenced by the old one, and its own fence holds
        epoch_b = other.lease_holder("run-1")
        assert epoch_b[0] == "proc-b"
        other.fence("run-1", "proc-b", epoch + 1)
        other.update_run("run-1", status="succeeded")
    finally:
        other.close()


def test_a_fenced_write_inside_a_transaction_undoes_the_whole_transaction(
    store_url: str, store: Store
) -> None:
    make_run(store)
    epoch = store.acquire_lease("run-1", "proc-a", ttl=10, now=0.0)
    store.fence("run-1", "proc-a", epoch)
    other = open_store(store_url)
    try:
        other.release_lease("run-1", "proc-a")  # e.g. an operator freed it
        with pytest.raises(LeaseLostError), store.transaction():
            store.save_step(make_step())
        assert other.get_steps("run-1") == []
    finally:
        other.close()


def test_unfenced_writes_and_other_runs_are_not_checked(store: Store) -> None:
    make_run(store, "run-1")
    make_run(store, "run-2")
    epoch = store.acquire_lease("run-1", "proc-a", ttl=10, now=0.0)
    store.fence("run-1", "proc-a", epoch)
    store.save_step(make_step(run_id="run-2"))  # not fenced: no lease needed
    store.release_lease("run-1", "proc-a")
    with pytest.raises(LeaseLostError):
        store.save_step(make_step())
    store.unfence("run-1")
    store.save_step(make_step())


def test_a_postgres_session_idle_in_a_transaction_is_ended_by_the_server(
    store_url: str, store: Store
) -> None:
    """A process paused inside a transaction must not hold the run's row from its next owner."""
    if not store_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    with store.transaction():
        shown = store._x("SHOW idle_in_transaction_session_timeout").fetchone()[0]  # type: ignore[attr-defined]
    assert shown == "10s"
