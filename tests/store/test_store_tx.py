"""Store contract, transactions, leases and concurrency inside one process."""

from __future__ import annotations

import threading

import pytest
from store_helpers import make_approval, make_entry, make_run, make_step

from agentorch.errors import RunLockedError, RunNotFoundError, StoreError
from agentorch.store import Store, open_store


class Boom(Exception):
    pass


# --- transactions --------------------------------------------------------------------------------


def test_an_exception_inside_a_transaction_rolls_everything_back(store: Store) -> None:
    make_run(store, "keep")
    with pytest.raises(Boom), store.transaction():
        make_run(store, "run-1")
        store.save_step(make_step())
        store.journal_start(make_entry())
        store.create_approval(make_approval())
        store.append_event("run-1", "run_started", 1.0, {"task": "t"})
        store.update_run("keep", status="failed")
        store.acquire_lease("keep", "me", ttl=30, now=1.0)
        raise Boom
    with pytest.raises(RunNotFoundError):
        store.get_run("run-1")
    assert store.get_steps("run-1") == []
    assert store.journal("run-1") == []
    assert store.approvals("run-1") == []
    assert list(store.events("run-1")) == []
    assert store.get_run("keep").status == "pending"
    store.acquire_lease("keep", "someone-else", ttl=30, now=2.0)  # the lease was rolled back


def test_a_committed_transaction_keeps_everything(store: Store) -> None:
    with store.transaction():
        make_run(store)
        store.save_step(make_step())
        store.append_event("run-1", "run_started", 1.0, {})
    assert len(store.get_steps("run-1")) == 1
    assert store.verify_audit("run-1").ok


def test_writes_are_invisible_to_other_connections_until_commit(store_url: str) -> None:
    writer, reader = open_store(store_url), open_store(store_url)
    try:
        with writer.transaction():
            make_run(writer, "run-1")
            with pytest.raises(RunNotFoundError):
                reader.get_run("run-1")
        assert reader.get_run("run-1").run_id == "run-1"
    finally:
        writer.close()
        reader.close()


def test_nested_transactions_join_the_outer_one(store: Store) -> None:
    with pytest.raises(Boom), store.transaction():
        make_run(store, "outer")
        with store.transaction():
            make_run(store, "inner")
        raise Boom
    assert store.list_runs() == []


def test_a_caught_failure_in_a_nested_transaction_undoes_only_its_writes(store: Store) -> None:
    with store.transaction():
        make_run(store, "outer")
        with pytest.raises(Boom), store.transaction():
            make_run(store, "inner")
            raise Boom
        # A database error inside a nested block is contained too (PostgreSQL aborts the whole
        # transaction otherwise).
        with pytest.raises(RunNotFoundError), store.transaction():
            store.save_step(make_step(run_id="ghost"))
        store.save_step(make_step(run_id="outer"))
    assert [r.run_id for r in store.list_runs()] == ["outer"]
    assert len(store.get_steps("outer")) == 1


def test_transactions_are_reentrant_across_methods(store: Store) -> None:
    with store.transaction(), store.transaction(), store.transaction():
        make_run(store)
    assert store.get_run("run-1").run_id == "run-1"


def test_a_closed_store_refuses_work(store_url: str) -> None:
    store = open_store(store_url)
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.list_runs()


# --- leases --------------------------------------------------------------------------------------


def test_a_lease_is_exclusive_until_it_expires(store: Store) -> None:
    make_run(store)
    store.acquire_lease("run-1", "proc-a", ttl=30, now=1000.0)
    store.acquire_lease("run-1", "proc-a", ttl=30, now=1001.0)  # the holder may take it again
    with pytest.raises(RunLockedError) as info:
        store.acquire_lease("run-1", "proc-b", ttl=30, now=1010.0)
    message = str(info.value)
    assert "run run-1 is being resumed by another process" in message
    assert "owner proc-a" in message and "until 1970-01-01T00:17:11+00:00" in message
    assert info.value.hint is not None and "in 21s" in info.value.hint
    store.acquire_lease("run-1", "proc-b", ttl=30, now=1031.0)  # expired: free to take


def test_renew_extends_only_the_holders_lease(store: Store) -> None:
    make_run(store)
    store.acquire_lease("run-1", "proc-a", ttl=10, now=0.0)
    store.renew_lease("run-1", "proc-a", ttl=10, now=8.0)  # now held until 18
    with pytest.raises(RunLockedError, match="owner proc-a"):
        store.acquire_lease("run-1", "proc-b", ttl=10, now=15.0)
    with pytest.raises(RunLockedError, match="owner proc-a"):
        store.renew_lease("run-1", "proc-b", ttl=10, now=15.0)
    store.acquire_lease("run-1", "proc-b", ttl=10, now=18.0)
    with pytest.raises(RunLockedError, match="owner proc-b"):
        store.renew_lease("run-1", "proc-a", ttl=10, now=19.0)


def test_release_frees_the_lease_for_others_only_when_held(store: Store) -> None:
    make_run(store)
    store.acquire_lease("run-1", "proc-a", ttl=60, now=0.0)
    store.release_lease("run-1", "proc-b")  # not the holder: no effect
    with pytest.raises(RunLockedError):
        store.acquire_lease("run-1", "proc-b", ttl=60, now=1.0)
    store.release_lease("run-1", "proc-a")
    with pytest.raises(RunLockedError, match="released"):
        store.renew_lease("run-1", "proc-a", ttl=60, now=1.0)
    store.acquire_lease("run-1", "proc-b", ttl=60, now=1.0)


def test_leases_of_unknown_runs_and_bad_ttls(store: Store) -> None:
    make_run(store)
    with pytest.raises(RunNotFoundError):
        store.acquire_lease("ghost", "me", ttl=1, now=0.0)
    with pytest.raises(RunNotFoundError):
        store.renew_lease("ghost", "me", ttl=1, now=0.0)
    store.release_lease("ghost", "me")
    with pytest.raises(StoreError, match="ttl"):
        store.acquire_lease("run-1", "me", ttl=0, now=0.0)


def test_leases_are_per_run(store: Store) -> None:
    make_run(store, "run-1")
    make_run(store, "run-2")
    store.acquire_lease("run-1", "proc-a", ttl=60, now=0.0)
    store.acquire_lease("run-2", "proc-b", ttl=60, now=0.0)


# --- threads -------------------------------------------------------------------------------------


def test_threads_sharing_one_store_keep_the_chain_and_transactions_intact(store: Store) -> None:
    make_run(store)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                with store.transaction():
                    store.append_event("run-1", "tick", float(i), {"thread": n, "i": i})
                    store.save_step(make_step(step_id=f"t{n}", revision=i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    records = list(store.events("run-1"))  # each step save is recorded in the chain too
    assert [r.seq for r in records] == list(range(1, 201))
    assert sum(r.kind == "tick" for r in records) == 100
    assert store.verify_audit("run-1").ok
    assert sorted(s.revision for s in store.get_steps("run-1")) == [24] * 4


# --- deferred audit writes (one head update and one batch of records per transaction) -----------


def test_records_of_a_rolled_back_savepoint_leave_the_chain_as_it_was(store: Store) -> None:
    make_run(store)
    with store.transaction():
        store.append_event("run-1", "kept", 1.0, {})
        with pytest.raises(Boom), store.transaction():
            store.append_event("run-1", "undone", 2.0, {})
            store.save_step(make_step())
            raise Boom
        store.append_event("run-1", "after", 3.0, {})
    assert [(e.seq, e.kind) for e in store.events("run-1")] == [(1, "kept"), (2, "after")]
    assert store.get_steps("run-1") == []
    assert store.verify_audit("run-1").ok


def test_a_transaction_reads_its_own_records(store: Store) -> None:
    make_run(store)
    with store.transaction():
        first = store.append_event("run-1", "one", 1.0, {"n": 1})
        assert list(store.events("run-1")) == [first]
        assert store.verify_audit("run-1").ok
        second = store.append_event("run-1", "two", 2.0, {"n": 2})
    assert list(store.events("run-1")) == [first, second]
    assert second.prev_hash == first.hash and store.verify_audit("run-1").ok


def test_record_event_chains_like_append_event(store: Store) -> None:
    make_run(store)
    store.record_event("run-1", "one", 1.0, {"n": 1})
    record = store.append_event("run-1", "two", 2.0, {"n": 2})
    assert [e.seq for e in store.events("run-1")] == [1, 2] and record.seq == 2
    assert store.verify_audit("run-1").ok
    with pytest.raises(TypeError):
        store.record_event("run-1", "bad", 3.0, [1, 2])  # type: ignore[arg-type]


def test_two_stores_appending_to_one_run_take_turns(store_url: str) -> None:
    """A store's remembered head goes stale when another process appends: it reads it again."""
    a, b = open_store(store_url), open_store(store_url)
    try:
        make_run(a)
        for i in range(3):
            a.record_event("run-1", "a", float(i), {"i": i})
            with b.transaction():
                b.record_event("run-1", "b", float(i), {"i": i})
                b.save_step(make_step(status="done"))
        assert [e.seq for e in a.events("run-1")] == list(range(1, 10))
        assert a.verify_audit("run-1").ok
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("returning", [True, False])
def test_finishing_a_journal_entry_with_and_without_returning(
    store: Store, returning: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite before 3.35 has no ``UPDATE ... RETURNING``: the store reads the row back instead."""
    monkeypatch.setattr(store, "returning", returning)
    make_run(store)
    store.journal_start(make_entry(key="k1"))
    store.journal_finish("run-1", "k1", status="completed", result={"x": 1}, finished_at=2.0)
    store.update_run("run-1", status="succeeded", output="done")
    with pytest.raises(StoreError, match="already completed"):
        store.journal_finish("run-1", "k1", status="completed", result={}, finished_at=3.0)
    with pytest.raises(RunNotFoundError):
        store.update_run("ghost", status="failed")
    assert store.get_run("run-1").status == "succeeded"
    assert store.verify_audit("run-1").ok
