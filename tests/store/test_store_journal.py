"""Store contract, the activity journal and approvals: against SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from store_helpers import make_approval, make_entry, make_run

from agentorch.errors import RunNotFoundError, StoreError, UserError
from agentorch.store import Store

# --- journal -------------------------------------------------------------------------------------


def test_journal_get_of_an_unknown_key_is_none(store: Store) -> None:
    make_run(store)
    assert store.journal_get("run-1", "nope") is None


def test_journal_entry_round_trips(store: Store) -> None:
    make_run(store)
    entry = make_entry(
        step_id="s1",
        request_hash="f" * 64,
        idempotent=True,
        request={"args": {"to": "x@example.com"}, "n": 1.5},
        usage={"input_tokens": 3},
        started_at=10.0,
    )
    store.journal_start(entry)
    assert store.journal_get("run-1", entry.key) == entry


def test_journal_finish_records_the_outcome(store: Store) -> None:
    make_run(store)
    store.journal_start(make_entry(usage={"input_tokens": 3}, started_at=1.0))
    store.journal_finish(
        "run-1", "s1/0/tool/1", status="completed", result={"sent": True}, finished_at=2.0
    )
    done = store.journal_get("run-1", "s1/0/tool/1")
    assert done is not None
    assert (done.status, done.result, done.finished_at) == ("completed", {"sent": True}, 2.0)
    assert done.usage == {"input_tokens": 3}  # usage=None keeps what was there


def test_journal_finish_failed_then_start_again_replaces_the_entry(store: Store) -> None:
    make_run(store)
    store.journal_start(make_entry(started_at=1.0))
    store.journal_finish(
        "run-1", "s1/0/tool/1", status="failed", error="timeout", usage={"t": 1}, finished_at=2.0
    )
    failed = store.journal_get("run-1", "s1/0/tool/1")
    assert failed is not None
    assert (failed.status, failed.error, failed.usage) == ("failed", "timeout", {"t": 1})
    retry = make_entry(started_at=3.0, request={"attempt": 2})
    store.journal_start(retry)
    assert store.journal_get("run-1", "s1/0/tool/1") == retry


def test_a_completed_entry_is_never_overwritten(store: Store) -> None:
    make_run(store)
    store.journal_start(make_entry())
    store.journal_finish("run-1", "s1/0/tool/1", status="completed", result=1, finished_at=2.0)
    before = store.journal_get("run-1", "s1/0/tool/1")
    with pytest.raises(StoreError, match="already completed"):
        store.journal_start(make_entry(request={"different": True}))
    with pytest.raises(StoreError, match="already completed"):
        store.journal_finish("run-1", "s1/0/tool/1", status="failed", error="x", finished_at=3.0)
    assert store.journal_get("run-1", "s1/0/tool/1") == before


def test_journal_finish_needs_a_started_entry_and_a_final_status(store: Store) -> None:
    make_run(store)
    with pytest.raises(StoreError, match="journal_start first"):
        store.journal_finish("run-1", "ghost", status="completed", finished_at=1.0)
    store.journal_start(make_entry())
    with pytest.raises(StoreError, match="'completed' or 'failed'"):
        store.journal_finish("run-1", "s1/0/tool/1", status="started", finished_at=1.0)


def test_journal_lists_entries_in_start_order_with_kind_filter(store: Store) -> None:
    make_run(store)
    make_run(store, "run-2")
    store.journal_start(make_entry(key="k-b", kind="model", name="openai:gpt-4.1-mini"))
    store.journal_start(make_entry(key="k-a", kind="tool"))
    store.journal_start(make_entry(key="k-c", kind="model"))
    store.journal_start(make_entry(run_id="run-2", key="k-z"))
    assert [e.key for e in store.journal("run-1")] == ["k-b", "k-a", "k-c"]
    assert [e.key for e in store.journal("run-1", kind="model")] == ["k-b", "k-c"]
    assert [e.key for e in store.journal("run-1", kind="tool")] == ["k-a"]
    assert store.journal("ghost") == []


def test_journal_start_of_an_unknown_run_raises(store: Store) -> None:
    with pytest.raises(RunNotFoundError):
        store.journal_start(make_entry(run_id="ghost"))


# --- approvals -----------------------------------------------------------------------------------


def test_approval_round_trips(store: Store) -> None:
    make_run(store)
    request = make_approval(
        step_id="s2", agent="writer", risk="external", reason="sends email", created_at=4.0
    )
    store.create_approval(request)
    assert store.get_approval("ap-1") == request


def test_creating_an_approval_twice_is_refused(store: Store) -> None:
    make_run(store)
    store.create_approval(make_approval())
    with pytest.raises(StoreError, match="already exists"):
        store.create_approval(make_approval(reason="again"))


def test_get_approval_unknown_raises_a_user_error(store: Store) -> None:
    make_run(store)
    store.create_approval(make_approval("ap-10"))
    with pytest.raises(UserError, match="no approval request 'ap-1'"):
        store.get_approval("ap-1")  # exact ids only: a prefix must never pick another request


def test_decide_records_who_what_and_when(store: Store) -> None:
    make_run(store)
    store.create_approval(make_approval())
    decided = store.decide_approval(
        "ap-1",
        status="edited",
        approver="alice",
        decided_arguments={"to": "legal@example.com"},
        comment="send to legal instead",
        decided_at=99.5,
    )
    assert decided == store.get_approval("ap-1")
    assert (decided.status, decided.approver, decided.decided_at) == ("edited", "alice", 99.5)
    assert decided.decided_arguments == {"to": "legal@example.com"}
    assert decided.comment == "send to legal instead"
    assert decided.arguments == {"to": "client@example.com"}


def test_an_approval_is_decided_once(store: Store) -> None:
    make_run(store)
    store.create_approval(make_approval())
    store.decide_approval("ap-1", status="approved", approver="alice", decided_at=1.0)
    with pytest.raises(UserError, match="already decided: approved by alice"):
        store.decide_approval("ap-1", status="denied", approver="bob", decided_at=2.0)
    assert store.get_approval("ap-1").approver == "alice"


def test_decide_rejects_pending_and_unknown_requests(store: Store) -> None:
    make_run(store)
    store.create_approval(make_approval())
    with pytest.raises(UserError, match="not a decision"):
        store.decide_approval("ap-1", status="pending", approver="a", decided_at=1.0)
    with pytest.raises(UserError, match="no approval request"):
        store.decide_approval("ghost", status="approved", approver="a", decided_at=1.0)
    assert store.get_approval("ap-1").status == "pending"


def test_approvals_lists_a_runs_requests_with_pending_filter(store: Store) -> None:
    make_run(store)
    make_run(store, "run-2")
    for request_id in ("ap-b", "ap-a", "ap-c"):
        store.create_approval(make_approval(request_id))
    store.create_approval(make_approval("ap-z", run_id="run-2"))
    store.decide_approval("ap-a", status="denied", approver="bob", decided_at=1.0)
    assert [a.request_id for a in store.approvals("run-1")] == ["ap-b", "ap-a", "ap-c"]
    assert [a.request_id for a in store.approvals("run-1", pending_only=True)] == ["ap-b", "ap-c"]
    assert store.approvals("ghost") == []


def test_create_approval_of_an_unknown_run_raises(store: Store) -> None:
    with pytest.raises(RunNotFoundError):
        store.create_approval(make_approval(run_id="ghost"))
