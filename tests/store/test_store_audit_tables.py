"""Everything that decides is in the chain: rows forged straight in the database fail
``verify_audit``, and the key-signed head catches a truncated tail with a fixed-up head."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from store_helpers import Raw, make_approval, make_entry, make_run, make_step

from agentorch.store import Store, open_store

KEY = "test-audit-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def _audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTORCH_AUDIT_KEY", KEY)


def _run_with_everything(store: Store) -> None:
    make_run(store)
    store.append_event("run-1", "run_started", 1000.0, {"task": "t"})
    store.update_run("run-1", status="running", plan={"steps": []})
    store.save_step(make_step(status="running", started_at=1001))
    store.journal_start(make_entry(key="model:s1/1", kind="model", started_at=1002.0))
    store.journal_finish(
        "run-1",
        "model:s1/1",
        status="completed",
        result={"text": "draft"},
        usage={"input_tokens": 10, "cost_usd": 0.5},
        finished_at=1003.0,
    )
    store.create_approval(make_approval(tool="pay", arguments={"amount": 10}, created_at=1004))
    store.journal_start(make_entry(key="tool:s1/2", name="pay", started_at=1005.0))
    store.save_step(make_step(status="done", output="the draft", started_at=1001, finished_at=1006))
    store.update_run("run-1", status="succeeded", output="the draft", usage={"cost_usd": 0.5})
    store.append_event("run-1", "run_finished", 1007.0, {"status": "succeeded"})


def test_an_untouched_run_verifies_with_every_guarantee(store: Store) -> None:
    _run_with_everything(store)
    store.decide_approval("ap-1", status="denied", approver="ana", comment="no", decided_at=1010)
    result = store.verify_audit("run-1")
    assert result.ok, result.problem
    assert result.chain_intact and result.tables_consistent
    assert result.anchor == "verified"
    assert result.problems == []


def test_a_forged_approval_decision_fails_verify(store: Store, raw: Raw) -> None:
    _run_with_everything(store)
    raw("UPDATE approvals SET status = 'approved', approver = 'ana' WHERE request_id = 'ap-1'")
    result = store.verify_audit("run-1")
    assert not result.ok and result.chain_intact and not result.tables_consistent
    assert any("ap-1" in p for p in result.problems), result.problems


def test_forged_arguments_of_a_pending_approval_fail_verify(store: Store, raw: Raw) -> None:
    _run_with_everything(store)
    raw("UPDATE approvals SET arguments = '{\"amount\":10000}' WHERE request_id = 'ap-1'")
    result = store.verify_audit("run-1")
    assert not result.ok and any("ap-1" in p for p in result.problems)


def test_a_forged_journal_result_fails_verify(store: Store, raw: Raw) -> None:
    _run_with_everything(store)
    raw("UPDATE journal SET result = '{\"text\":\"forged\"}' WHERE key = 'model:s1/1'")
    result = store.verify_audit("run-1")
    assert not result.ok and any("model:s1/1" in p for p in result.problems), result.problems


def test_a_journal_entry_forged_as_completed_fails_verify(store: Store, raw: Raw) -> None:
    _run_with_everything(store)
    raw(
        "UPDATE journal SET status = 'completed', result = '{\"content\":\"paid\"}' "
        "WHERE key = 'tool:s1/2'"
    )
    result = store.verify_audit("run-1")
    assert not result.ok and any("tool:s1/2" in p for p in result.problems), result.problems


def test_a_forged_step_output_fails_verify(store: Store, raw: Raw) -> None:
    _run_with_everything(store)
    raw("UPDATE steps SET output = '\"forged\"' WHERE step_id = 's1'")
    result = store.verify_audit("run-1")
    assert not result.ok and any("s1" in p for p in result.problems), result.problems


@pytest.mark.parametrize(
    "assignment",
    ["usage = '{\"cost_usd\":0.01}'", "output = '\"forged\"'", "status = 'failed'"],
)
def test_a_forged_run_output_cost_or_status_fails_verify(
    store: Store, raw: Raw, assignment: str
) -> None:
    _run_with_everything(store)
    raw(f"UPDATE runs SET {assignment} WHERE run_id = 'run-1'")
    result = store.verify_audit("run-1")
    assert not result.ok and any("run-1" in p for p in result.problems), result.problems


def test_a_deleted_row_fails_verify(store: Store, raw: Raw) -> None:
    _run_with_everything(store)
    raw("DELETE FROM approvals WHERE request_id = 'ap-1'")
    result = store.verify_audit("run-1")
    assert not result.ok and any("ap-1" in p for p in result.problems), result.problems


def _rows_recorded(store: Store) -> list[list[tuple[str, str]]]:
    """``(table, key)`` of each ``rows_recorded`` record's rows, record by record."""
    return [
        [(row["table"], row["key"]) for row in record.payload["rows"]]
        for record in store.events("run-1")
        if record.kind == "rows_recorded"
    ]


def test_a_transaction_records_its_rows_once_as_its_last_record(store: Store, raw: Raw) -> None:
    make_run(store)
    with store.transaction():
        store.update_run("run-1", status="running")
        store.save_step(make_step(status="running", started_at=1001))
        store.append_event("run-1", "step_started", 1001.0, {"step_id": "s1"})
        store.save_step(make_step(status="done", output="draft", started_at=1001))
        store.append_event("run-1", "step_finished", 1002.0, {"step_id": "s1"})
    kinds = [r.kind for r in store.events("run-1")]
    assert kinds == ["step_started", "step_finished", "rows_recorded"]
    # the step written twice is recorded once, as committed
    assert _rows_recorded(store) == [[("runs", "run-1"), ("steps", "s1")]]
    assert store.verify_audit("run-1").ok
    raw("UPDATE steps SET output = '\"forged\"' WHERE step_id = 's1'")
    result = store.verify_audit("run-1")
    assert not result.ok and result.chain_intact and not result.tables_consistent
    assert any("step s1 differs" in p for p in result.problems), result.problems


def test_rows_written_in_a_rolled_back_block_are_not_recorded(store: Store) -> None:
    make_run(store)
    with store.transaction():
        store.save_step(make_step("run-1", "s1", status="done"))
        with pytest.raises(RuntimeError), store.transaction():
            store.save_step(make_step("run-1", "s2", status="done"))
            raise RuntimeError("undo the inner block")
    assert [row for rows in _rows_recorded(store) for row in rows] == [("steps", "s1")]
    assert store.verify_audit("run-1").ok


def test_an_older_log_with_a_record_per_row_write_still_verifies(store: Store, raw: Raw) -> None:
    """Logs written before ``rows_recorded`` hold a ``state_recorded`` record per row write: the
    chain still vouches for the rows they name."""
    make_run(store)
    store.save_step(make_step(status="done", output="draft"))
    (batch,) = [r for r in store.events("run-1") if r.kind == "rows_recorded"]
    (row,) = batch.payload["rows"]
    older = {"kind": "state_recorded", "run_id": "run-1", "ts": batch.ts, **row}
    store.append_event("run-1", "state_recorded", batch.ts, older)
    raw("UPDATE steps SET output = '\"forged\"' WHERE step_id = 's1'")
    assert not store.verify_audit("run-1").ok  # (the older record names the same digest)
    raw("UPDATE steps SET output = '\"draft\"' WHERE step_id = 's1'")
    assert store.verify_audit("run-1").ok
    # the older record alone (the batch's row gone) still names the step
    raw("DELETE FROM events WHERE kind = 'rows_recorded'")
    from agentorch.store._seals import latest_seals

    seals = latest_seals(store.events("run-1"))
    assert seals[("steps", "s1")]["sha256"] == row["sha256"]


def _truncate_and_fix_head(raw: Raw, keep: int) -> None:
    last = raw("SELECT hash FROM events WHERE run_id = 'run-1' AND seq = ?", keep)[0][0]
    raw("DELETE FROM events WHERE run_id = 'run-1' AND seq > ?", keep)
    raw("UPDATE runs SET audit_seq = ?, audit_head = ? WHERE run_id = 'run-1'", keep, last)


def test_a_truncated_tail_with_a_fixed_up_head_fails_verify(store: Store, raw: Raw) -> None:
    make_run(store)
    for i in range(6):
        store.append_event("run-1", f"kind_{i}", 1000.0 + i, {"i": i})
    _truncate_and_fix_head(raw, 4)
    result = store.verify_audit("run-1")
    assert not result.ok and result.chain_intact
    assert result.anchor == "mismatch"
    assert "key" in (result.problem or "")


def test_a_removed_signature_fails_verify(store: Store, raw: Raw) -> None:
    make_run(store)
    for i in range(3):
        store.append_event("run-1", f"kind_{i}", 1000.0 + i, {"i": i})
    raw("UPDATE runs SET audit_mac = NULL WHERE run_id = 'run-1'")
    result = store.verify_audit("run-1")
    assert not result.ok and result.anchor == "missing"


def test_without_the_key_verify_says_truncation_is_undetectable(
    store_url: str, raw: Raw, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    writer = open_store(store_url)
    make_run(writer)
    for i in range(6):
        writer.append_event("run-1", f"kind_{i}", 1000.0 + i, {"i": i})
    writer.close()
    _truncate_and_fix_head(raw, 4)
    monkeypatch.delenv("AGENTORCH_AUDIT_KEY")
    monkeypatch.setenv("AGENTORCH_AUDIT_KEY_FILE", str(tmp_path) + "/missing/audit.key")
    reader = open_store(store_url)
    try:
        result = reader.verify_audit("run-1")
    finally:
        reader.close()
    assert result.ok and result.chain_intact and result.anchor == "no_key"


def test_a_head_signed_with_another_key_is_reported(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = open_store(store_url)
    make_run(writer)
    writer.append_event("run-1", "kind", 1000.0, {})
    writer.close()
    monkeypatch.setenv("AGENTORCH_AUDIT_KEY", "another-key-0123456789abcdef")
    reader = open_store(store_url)
    try:
        result = reader.verify_audit("run-1")
    finally:
        reader.close()
    assert not result.ok and result.anchor == "mismatch"


def test_a_v1_store_is_upgraded_with_its_rows_recorded_and_heads_signed(tmp_path: Path) -> None:
    from agentorch.store import schema

    url = f"sqlite:///{tmp_path / 'old.db'}"
    # A store as agentorch wrote it before v2: no signed heads, no rows in the chain.
    conn = sqlite3.connect(tmp_path / "old.db")
    conn.executescript(
        "\n".join(f"{s};" for s in schema.statements(schema.MIGRATIONS[0][1], "sqlite"))
    )
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL)")
    conn.execute("INSERT INTO schema_version VALUES (1, 0)")
    conn.execute(
        "INSERT INTO runs (run_id, task, status, spec, budget, usage, created_at, updated_at, "
        "audit_seq, audit_head, extra) VALUES ('run-1', 't', 'waiting_approval', '{}', '{}', "
        "'{\"cost_usd\":1.5}', 0, 0, 0, ?, '{}')",
        ("0" * 64,),
    )
    conn.execute(
        "INSERT INTO approvals (request_id, run_id, subject, arguments, reason, status, "
        "comment, created_at, extra) VALUES ('ap-1', 'run-1', 'tool', '{}', '', 'pending', "
        "'', 0, '{}')"
    )
    conn.commit()
    conn.close()
    upgraded = open_store(url)
    try:
        result = upgraded.verify_audit("run-1")
        assert result.ok and result.anchor == "verified" and result.tables_consistent, result
        upgraded.decide_approval("ap-1", status="approved", approver="ana", decided_at=1.0)
        assert upgraded.verify_audit("run-1").ok
    finally:
        upgraded.close()


def test_a_key_file_is_created_once_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTORCH_AUDIT_KEY")
    key_file = tmp_path / "keys" / "audit.key"
    monkeypatch.setenv("AGENTORCH_AUDIT_KEY_FILE", str(key_file))
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    first = open_store(url)
    make_run(first)
    first.append_event("run-1", "kind", 1.0, {})
    first.close()
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text()
    second = open_store(url)
    try:
        second.append_event("run-1", "kind", 2.0, {})
        assert second.verify_audit("run-1").anchor == "verified"
    finally:
        second.close()
    assert key_file.read_text() == key
    assert key.strip() not in (tmp_path / "runs.db").read_bytes().decode("latin-1")


def test_an_in_memory_store_signs_with_a_key_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTORCH_AUDIT_KEY")
    key_file = tmp_path / "audit.key"
    monkeypatch.setenv("AGENTORCH_AUDIT_KEY_FILE", str(key_file))
    store = open_store(":memory:")
    try:
        make_run(store)
        store.append_event("run-1", "kind", 1.0, {})
        assert store.verify_audit("run-1").anchor == "verified"
    finally:
        store.close()
    assert not key_file.exists()
