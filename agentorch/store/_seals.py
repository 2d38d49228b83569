"""Rows in the chain: the rows that decide (a run's status, output and cost, a step's result, a
journaled call's result, an approval request and its decision) a transaction writes are recorded
with their digests in one ``rows_recorded`` record per run, the transaction's last (older logs
hold a ``state_recorded`` record per row write: both are read).

Verification recomputes the digest of every row and compares it with the last record the chain
holds for that row, so a row changed, added or deleted straight in the database is named.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from hashlib import sha256
from typing import Any

from agentorch.store._audit import json_name, json_number
from agentorch.store.base import AuditRecord

SEAL_KIND = "state_recorded"
ROWS_KIND = "rows_recorded"

#: What a table's rows are called in messages.
_NAMES = {"runs": "run", "steps": "step", "journal": "journal entry", "approvals": "approval"}


_NUMBERS = (bool, int, float)


def row_digest(values: Sequence[Any]) -> str:
    """SHA-256 of a row's stored values (JSON columns as their stored text).

    Numbers are hashed as the doubles they are (a REAL column reads back ``5.0`` for ``5``, a
    boolean reads back ``1``); text is length-prefixed, so no two rows share a spelling.
    """
    parts: list[str] = []
    add = parts.append
    for value in values:
        kind = type(value)  # the exact types first: this runs on every decision written
        if kind is str:
            add(f"S{len(value)}:{value}")
        elif value is None:
            add("N")
        elif kind is float or kind is int or kind is bool or isinstance(value, _NUMBERS):
            add(f"F{float(value)!r}")
        elif isinstance(value, str):
            add(f"S{len(value)}:{value}")
        else:
            add(f"X{value!r}")
    return sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def rows_payload(
    run_id: str, ts: float, rows: Iterable[tuple[str, str, str, str | None]]
) -> dict[str, Any]:
    """A ``rows_recorded`` record's payload: ``rows`` are ``(table, key, digest, status)``."""
    listed = []
    for table, key, digest, status in rows:
        row = {"table": table, "key": key, "sha256": digest}
        if status is not None:
            row["status"] = status
        listed.append(row)
    return {"kind": ROWS_KIND, "run_id": run_id, "ts": ts, "rows": listed}


def rows_payload_json(
    run_id: str, ts: float, rows: Iterable[tuple[str, str, str, str | None]]
) -> str:
    """``canonical_json(rows_payload(...))``, spelled directly (once per transaction)."""
    parts = []
    for table, key, digest, status in rows:
        status_part = f',"status":{json_name(status)}' if status is not None else ""
        parts.append(
            f'{{"key":{json_name(key)},"sha256":"{digest}"{status_part},'
            f'"table":{json_name(table)}}}'
        )
    return (
        f'{{"kind":"{ROWS_KIND}","rows":[{",".join(parts)}],"run_id":{json_name(run_id)},'
        f'"ts":{json_number(float(ts))}}}'
    )


def latest_seals(records: Iterable[AuditRecord]) -> dict[tuple[str, str], dict[str, Any]]:
    """The last digest the chain holds per ``(table, key)``: a ``rows_recorded`` row or a
    ``state_recorded`` payload, each with ``sha256`` and ``status``."""
    seals: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in records:
        payload = rec.payload
        if not isinstance(payload, dict):
            continue
        if rec.kind == ROWS_KIND:
            rows = payload.get("rows")
            for row in rows if isinstance(rows, list) else ():
                if isinstance(row, dict):
                    seals[(str(row.get("table")), str(row.get("key")))] = row
        elif rec.kind == SEAL_KIND:
            seals[(str(payload.get("table")), str(payload.get("key")))] = payload
    return seals


def check_rows(
    seals: dict[tuple[str, str], dict[str, Any]],
    rows: dict[str, list[tuple[str, Sequence[Any], str | None]]],
    *,
    fresh_run: bool,
) -> list[str]:
    """What disagrees between the tables and the chain: one sentence per row.

    Args:
        seals: ``latest_seals`` of the run's chain.
        rows: Per table, ``(key, stored values, status)`` of each of the run's rows.
        fresh_run: The run row is as ``create_run`` wrote it (no status, output, error or
            cost since); such a row needs no record yet.
    """
    problems: list[str] = []
    for table, table_rows in rows.items():
        name = _NAMES[table]
        for key, values, status in table_rows:
            seal = seals.pop((table, key), None)
            if seal is None:
                if (table == "journal" and status == "started") or (table == "runs" and fresh_run):
                    continue
                problems.append(
                    f"{name} {key} is not in the audit chain: it was written outside agentorch"
                )
                continue
            if table == "journal" and status == "started" and seal.get("status") == "failed":
                continue  # a failed call being retried
            if seal.get("sha256") != row_digest(values):
                problems.append(
                    f"{name} {key} differs from what the audit chain recorded: it was altered "
                    "outside agentorch"
                )
    for table, key in seals:
        if table in _NAMES:
            problems.append(
                f"{_NAMES[table]} {key} is recorded in the audit chain but missing from the "
                "database: it was deleted"
            )
    return problems


def is_fresh_run(status: Any, output: Any, error: Any, usage: Any) -> bool:
    """A run row as ``create_run`` writes it: not finished, no output, error or cost yet."""
    return (
        status in ("pending", "running")
        and output is None
        and error is None
        and not json.loads(usage or "{}")
    )
