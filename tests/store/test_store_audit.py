"""The hash-chained audit log: appending, reading, and naming tampering done straight in the DB."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel
from store_helpers import Raw, make_run

import agentorch.store._ledger as ledger
from agentorch.errors import RunNotFoundError
from agentorch.store import (
    GENESIS_HASH,
    AuditRecord,
    Store,
    canonical_json,
    record_hash,
    verify_chain,
)


def _fill(store: Store, n: int = 6, run_id: str = "run-1") -> list[AuditRecord]:
    make_run(store, run_id)
    return [
        store.append_event(run_id, f"kind_{i}", 1000.0 + i / 10, {"i": i, "note": "é→ü", "x": 0.1})
        for i in range(1, n + 1)
    ]


# --- the chain -----------------------------------------------------------------------------------


def test_append_builds_the_documented_chain(store: Store) -> None:
    records = _fill(store, 3)
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].prev_hash == GENESIS_HASH == "0" * 64
    for prev, rec in itertools.pairwise(records):
        assert rec.prev_hash == prev.hash
    body = {
        "run_id": "run-1",
        "seq": 1,
        "kind": "kind_1",
        "ts": 1000.1,
        "payload": {"i": 1, "note": "é→ü", "x": 0.1},
        "prev_hash": GENESIS_HASH,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert records[0].hash == hashlib.sha256(text.encode()).hexdigest()


def test_events_reads_back_exactly_what_append_returned(store: Store) -> None:
    records = _fill(store, 4)
    assert list(store.events("run-1")) == records


def test_events_are_paged_without_losing_order(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger, "_PAGE", 3)
    records = _fill(store, 7)
    assert list(store.events("run-1")) == records


def test_payloads_are_stored_as_hashed(store: Store) -> None:
    class Item(BaseModel):
        sku: str
        price: float

    make_run(store)
    rec = store.append_event(
        "run-1",
        "tool_call_finished",
        5,  # an int timestamp is stored (and hashed) as the float it is read back as
        {"item": Item(sku="A-1", price=9.5), "when": datetime(2025, 1, 2, tzinfo=UTC), "n": None},
    )
    assert rec.ts == 5.0 and isinstance(rec.ts, float)
    assert rec.payload == {
        "item": {"sku": "A-1", "price": 9.5},
        "when": "2025-01-02T00:00:00Z",
        "n": None,
    }
    assert list(store.events("run-1")) == [rec]
    assert store.verify_audit("run-1").ok


def test_each_run_has_its_own_chain(store: Store) -> None:
    _fill(store, 2, "run-a")
    b = _fill(store, 2, "run-b")
    assert [r.seq for r in b] == [1, 2] and b[0].prev_hash == GENESIS_HASH
    assert list(store.events("ghost")) == []


def test_append_to_an_unknown_run_raises(store: Store) -> None:
    with pytest.raises(RunNotFoundError):
        store.append_event("ghost", "x", 1.0, {})


def test_an_untouched_log_verifies(store: Store) -> None:
    _fill(store, 6)
    assert store.verify_audit("run-1").model_dump() == {
        "ok": True,
        "records": 6,
        "first_bad_seq": None,
        "problem": None,
        "chain_intact": True,
        "tables_consistent": True,
        "anchor": "verified",
        "problems": [],
    }


def test_an_empty_log_verifies_and_an_unknown_run_raises(store: Store) -> None:
    make_run(store)
    assert store.verify_audit("run-1").ok
    with pytest.raises(RunNotFoundError):
        store.verify_audit("ghost")


# --- tampering straight in the database ----------------------------------------------------------

SET_SEQ = "UPDATE events SET seq = ? WHERE run_id = 'run-1' AND seq = ?"


def _forge(raw: Raw, seq: int, prev_hash: str, payload: dict[str, object], good: bool) -> None:
    digest = record_hash("run-1", seq, "forged", 2000.0, payload, prev_hash) if good else "f" * 64
    raw(
        "INSERT INTO events (run_id, seq, kind, ts, payload, prev_hash, hash) "
        "VALUES ('run-1', ?, 'forged', 2000.0, ?, ?, ?)",
        seq,
        canonical_json(payload),
        prev_hash,
        digest,
    )


def _shift_up_from(raw: Raw, seq: int) -> None:
    raw("UPDATE events SET seq = seq + 1000 WHERE run_id = 'run-1' AND seq >= ?", seq)
    raw("UPDATE events SET seq = seq - 999 WHERE run_id = 'run-1' AND seq >= 1000")


@pytest.mark.parametrize(
    ("column", "value"),
    [("payload", '{"i":3,"note":"é→ü","x":1000000}'), ("kind", "approval_decided"), ("ts", 1.5)],
)
def test_an_altered_record_is_named(store: Store, raw: Raw, column: str, value: object) -> None:
    _fill(store)
    raw(f"UPDATE events SET {column} = ? WHERE run_id = 'run-1' AND seq = 3", value)
    result = store.verify_audit("run-1")
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "record 3 was altered" in (result.problem or "")


def test_an_altered_and_rehashed_record_is_named(store: Store, raw: Raw) -> None:
    records = _fill(store)
    payload = {"i": 3, "note": "rewritten"}
    digest = record_hash("run-1", 3, "kind_3", records[2].ts, payload, records[1].hash)
    raw(
        "UPDATE events SET payload = ?, hash = ? WHERE run_id = 'run-1' AND seq = 3",
        canonical_json(payload),
        digest,
    )
    result = store.verify_audit("run-1")
    assert result.first_bad_seq == 3 and "record 3 was altered and re-hashed" in (
        result.problem or ""
    )


@pytest.mark.parametrize("seq", [1, 3, 6])
def test_a_deleted_record_is_named(store: Store, raw: Raw, seq: int) -> None:
    _fill(store)
    raw("DELETE FROM events WHERE run_id = 'run-1' AND seq = ?", seq)
    result = store.verify_audit("run-1")
    assert (result.ok, result.first_bad_seq) == (False, seq)
    assert f"record {seq} is missing" in (result.problem or "")


def test_a_deleted_record_with_the_rest_renumbered_is_named(store: Store, raw: Raw) -> None:
    _fill(store)
    raw("DELETE FROM events WHERE run_id = 'run-1' AND seq = 3")
    for seq in (4, 5, 6):
        raw(SET_SEQ, seq - 1, seq)
    result = store.verify_audit("run-1")
    assert result.first_bad_seq == 3 and "record 3 is missing" in (result.problem or "")


@pytest.mark.parametrize("good_hash", [True, False])
def test_a_record_inserted_in_the_middle_is_named(store: Store, raw: Raw, good_hash: bool) -> None:
    records = _fill(store)
    _shift_up_from(raw, 3)
    _forge(raw, 3, records[1].hash, {"approved": True}, good_hash)
    result = store.verify_audit("run-1")
    assert result.first_bad_seq == 3 and "record 3 was inserted" in (result.problem or "")


@pytest.mark.parametrize("good_hash", [True, False])
def test_a_record_appended_outside_the_store_is_named(
    store: Store, raw: Raw, good_hash: bool
) -> None:
    records = _fill(store)
    _forge(raw, 7, records[-1].hash, {"approved": True}, good_hash)
    result = store.verify_audit("run-1")
    assert result.first_bad_seq == 7 and "record 7 was inserted" in (result.problem or "")


@pytest.mark.parametrize(("a", "b"), [(3, 4), (2, 5), (5, 6)])
def test_reordered_records_are_named(store: Store, raw: Raw, a: int, b: int) -> None:
    _fill(store)
    raw(SET_SEQ, 100, a)
    raw(SET_SEQ, a, b)
    raw(SET_SEQ, b, 100)
    result = store.verify_audit("run-1")
    assert result.first_bad_seq == a and f"record {a} is out of order" in (result.problem or "")


def test_tampering_with_one_run_leaves_the_others_verifiable(store: Store, raw: Raw) -> None:
    _fill(store, 3, "run-1")
    _fill(store, 3, "run-2")
    raw("DELETE FROM events WHERE run_id = 'run-1' AND seq = 2")
    assert not store.verify_audit("run-1").ok
    assert store.verify_audit("run-2").ok


# --- the shared helper, without a store ----------------------------------------------------------


def test_canonical_json_is_sorted_compact_and_utf8() -> None:
    assert canonical_json({"b": 1, "a": [0.1, 1e100, "é"]}) == '{"a":[0.1,1e+100,"é"],"b":1}'


def test_verify_chain_without_a_head_checks_the_links() -> None:
    prev, chain = GENESIS_HASH, []
    for seq in (1, 2, 3):
        digest = record_hash("r", seq, "k", 1.0, {"seq": seq}, prev)
        chain.append(
            AuditRecord(
                run_id="r",
                seq=seq,
                kind="k",
                ts=1.0,
                payload={"seq": seq},
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    assert verify_chain(chain).ok
    assert verify_chain(chain[:2]).ok  # a truncated export is only caught against the head
    assert not verify_chain(chain[:2], head=(3, chain[2].hash)).ok
    assert verify_chain([chain[0], chain[2]]).first_bad_seq == 2


def test_hash_of_the_payload_text_equals_the_hash_of_the_record() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    from agentorch.store._audit import encode_payload, record_hash, record_hash_of_text

    json_values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )

    @given(
        st.dictionaries(st.text(), json_values, max_size=5),
        st.text(),
        st.text(),
        st.integers(0, 10**6),
        st.floats(0, 2e9, allow_nan=False),
    )
    def check(payload: dict, run_id: str, kind: str, seq: int, ts: float) -> None:  # type: ignore[type-arg]
        text, stored = encode_payload(payload)
        assert record_hash_of_text(run_id, seq, kind, ts, text, "p" * 64) == record_hash(
            run_id, seq, kind, ts, stored, "p" * 64
        )

    check()


def test_the_rows_payload_text_is_its_canonical_json() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    from agentorch.store._seals import row_digest, rows_payload, rows_payload_json

    cells = st.none() | st.integers() | st.floats(allow_nan=False) | st.text() | st.booleans()
    row = st.tuples(
        st.sampled_from(["runs", "steps", "journal", "approvals"]),
        st.text(),
        st.lists(cells, max_size=6).map(row_digest),
        st.none() | st.text(),
    )

    @given(st.text(), st.floats(0, 2e9, allow_nan=False), st.lists(row, max_size=5))
    def check(run_id: str, ts: float, rows: list[tuple[str, str, str, str | None]]) -> None:
        text = rows_payload_json(run_id, ts, rows)
        assert text == canonical_json(rows_payload(run_id, ts, rows))

    check()


class _Point(BaseModel):
    x: int
    y: int


@pytest.mark.parametrize(
    "payload",
    [
        {
            "b": 1,
            "a": [1.5, 1e-05, 1e16, -0.0, None, True, 2**70],
            "c": {"z": "é\n\u2028", "y": {}},
        },
        {},
        {"nan": float("nan"), "inf": float("-inf")},
        {"when": datetime(2026, 11, 30, tzinfo=UTC), "model": _Point(x=1, y=2)},
    ],
)
def test_canonical_json_is_the_documented_spelling(payload: dict[str, object]) -> None:
    """The spelling that is hashed: json's, with sorted keys, compact, non-ASCII kept, values
    JSON cannot hold as pydantic serialises them (the encoder kept between calls changes no
    byte)."""
    from pydantic_core import to_jsonable_python

    documented = json.dumps(
        payload,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=to_jsonable_python,
    )
    assert canonical_json(payload) == documented
