"""The audit log's hash chain: one definition shared by both stores, verification and export.

Each record's ``hash`` is the SHA-256 of the canonical JSON of
``{run_id, seq, kind, ts, payload, prev_hash}``; ``prev_hash`` is the previous record's hash (64
zeros for the first). Canonical JSON: sorted keys, no whitespace, UTF-8 (``ensure_ascii=False``),
floats as Python's ``json`` writes them. Changing any byte of any record, or removing, inserting or
reordering records, breaks the chain at that record.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from pydantic_core import to_jsonable_python

from agentorch.store.base import AuditRecord, AuditVerification

GENESIS_HASH = "0" * 64


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=to_jsonable_python
)
#: The C encoder ``_CANONICAL.encode`` builds on every call, built once (the same output; no
#: check for cycles, which event payloads cannot have). ``None``: a Python without json's C code.
_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_C_CANONICAL: Any = (
    None
    if _make_encoder is None
    else _make_encoder(
        None, to_jsonable_python, json.encoder.encode_basestring, None, ":", ",", True, False, True
    )
)
#: A string as JSON (non-ASCII kept as is), without building an encoder per call.
json_str = json.JSONEncoder(ensure_ascii=False).encode
#: ``json_str`` of the few strings every record repeats (run ids, kinds, tables, keys).
json_name = lru_cache(maxsize=4096)(json_str)


def json_hash(text: str) -> str:
    """``json_str`` of a hash: a hex digest needs no escaping (anything else goes through it)."""
    if len(text) == 64 and text.isascii() and text.isalnum():
        return f'"{text}"'
    return json_str(text)


def canonical_json(value: Any) -> str:
    """The one JSON spelling that is hashed: sorted keys, compact, non-ASCII kept as is.

    Values JSON cannot hold natively (pydantic models, datetimes, sets...) are converted the way
    pydantic serialises them, so the stored payload is exactly what was hashed.
    """
    if _C_CANONICAL is None or type(value) is not dict:
        return _CANONICAL.encode(value)
    return "".join(_C_CANONICAL(value, 0))


def record_hash(run_id: str, seq: int, kind: str, ts: float, payload: Any, prev_hash: str) -> str:
    """SHA-256 (hex) of one record's canonical JSON."""
    body = {
        "run_id": run_id,
        "seq": seq,
        "kind": kind,
        "ts": ts,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def record_hash_of_text(
    run_id: str, seq: int, kind: str, ts: float, payload_text: str, prev_hash: str
) -> str:
    """``record_hash`` for a payload already in canonical JSON (``encode_payload``'s text).

    It spells the record's canonical JSON around the payload text instead of encoding the payload
    a second time; the bytes hashed are the same as ``record_hash``'s.
    """
    body = (
        f'{{"kind":{json_name(kind)},"payload":{payload_text},'
        f'"prev_hash":{json_hash(prev_hash)},"run_id":{json_name(run_id)},'
        f'"seq":{json_number(seq)},"ts":{json_number(ts)}}}'
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def json_number(value: float) -> str:
    """A number as Python's ``json`` writes it (an int or a finite float is its ``repr``)."""
    kind = type(value)
    if kind is int or (kind is float and math.isfinite(value)):
        return repr(value)
    return json.dumps(value)


def encode_payload(payload: Any) -> tuple[str, dict[str, Any]]:
    """The payload as stored (canonical JSON) and parsed back, so a record built from it equals
    what a later read, verification or export sees."""
    text = canonical_json(payload)
    if not text.startswith("{"):
        raise TypeError(f"an event payload must be a JSON object, not {type(payload).__name__}")
    return text, json.loads(text)


def verify_chain(
    records: Iterable[AuditRecord], *, head: tuple[int, str] | None = None
) -> AuditVerification:
    """Recompute a run's chain (records in ``seq`` order) and name the first bad record.

    Args:
        records: The run's records, ordered by ``seq`` as stored.
        head: The ``(seq, hash)`` the store recorded for the chain's last record, if it keeps
            one. Without it, records removed from (or forged onto) the end cannot be detected.
    """
    chain: Sequence[AuditRecord] = list(records)
    prev = GENESIS_HASH
    problem: tuple[int, str] | None = None
    for i, rec in enumerate(chain):
        if head is not None and rec.seq > head[0]:
            problem = rec.seq, f"record {rec.seq} was inserted: the store recorded only {head[0]}"
        else:
            problem = _check(chain, i, prev)
        if problem is not None:
            break
        prev = rec.hash
    if problem is None and head is not None:
        problem = _check_head(chain, head)
    if problem is None:
        return AuditVerification(ok=True, records=len(chain))
    bad_seq, message = problem
    return AuditVerification(
        ok=False,
        records=len(chain),
        first_bad_seq=bad_seq,
        problem=message,
        chain_intact=False,
        problems=[message],
    )


def _self_consistent(rec: AuditRecord) -> bool:
    return (
        record_hash(rec.run_id, rec.seq, rec.kind, rec.ts, rec.payload, rec.prev_hash) == rec.hash
    )


def _check(chain: Sequence[AuditRecord], i: int, prev: str) -> tuple[int, str] | None:
    """What is wrong with ``chain[i]`` given the hash of the record before it, if anything."""
    rec, expected = chain[i], i + 1
    if rec.seq > expected:
        return expected, (
            f"record {expected} is missing: the log jumps from record {expected - 1} to {rec.seq} "
            "(a record was deleted)"
        )
    if rec.seq < expected:
        return rec.seq, f"record {rec.seq} appears twice (a record was inserted)"
    if rec.prev_hash != prev:
        if any(later.hash == rec.prev_hash for later in chain[i + 1 :]):
            return rec.seq, (
                f"record {rec.seq} is out of order: it follows a record that now comes after it "
                "(records were reordered)"
            )
        if i > 0 and rec.prev_hash == chain[i - 1].prev_hash:
            return rec.seq - 1, (
                f"record {rec.seq - 1} was inserted: record {rec.seq} links to the record before it"
            )
        if i > 0 and _self_consistent(rec):
            return rec.seq - 1, (
                f"record {rec.seq - 1} was altered and re-hashed: record {rec.seq} recorded a "
                "different hash for it"
            )
        return rec.seq, (
            f"record {rec.seq} is missing: the record stored under that number does not follow "
            f"record {rec.seq - 1} (a record was deleted and the later ones renumbered)"
        )
    if not _self_consistent(rec):
        nxt = chain[i + 1] if i + 1 < len(chain) else None
        if nxt is not None and nxt.prev_hash == rec.prev_hash:
            return rec.seq, (
                f"record {rec.seq} was inserted: record {nxt.seq} links to the record before it"
            )
        return rec.seq, f"record {rec.seq} was altered: its hash does not match its content"
    return None


def _check_head(chain: Sequence[AuditRecord], head: tuple[int, str]) -> tuple[int, str] | None:
    head_seq, head_hash = head
    last_seq = chain[-1].seq if chain else 0
    last_hash = chain[-1].hash if chain else GENESIS_HASH
    if last_seq < head_seq:
        return last_seq + 1, (
            f"record {last_seq + 1} is missing: the log ends at record {last_seq} but the store "
            f"recorded {head_seq} records (records were deleted from the end)"
        )
    if last_hash != head_hash:
        return last_seq, (
            f"record {last_seq} was altered and re-hashed: it does not match the hash the store "
            "recorded for the log's last record"
        )
    return None
