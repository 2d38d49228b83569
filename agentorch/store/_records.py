"""Columns of each table and the conversions between records and rows (JSON stored as TEXT).

Fields the store queries on have their own columns; every other field of a record goes into the
row's ``extra`` JSON column. A field added to a record later is therefore stored and read back
without a schema migration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_json, to_jsonable_python

from agentorch.store.base import (
    ApprovalRecord,
    ApprovalStatus,
    AuditRecord,
    JournalEntry,
    RunRecord,
    RunStatus,
    StepRecord,
)

RUN_STATUSES: frozenset[str] = frozenset(get_args(RunStatus))
APPROVAL_STATUSES: frozenset[str] = frozenset(get_args(ApprovalStatus))


_ENCODE = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, default=to_jsonable_python
).encode


def dumps(value: Any) -> str | None:
    """Compact JSON for a column; ``None`` stays SQL NULL.

    Written by pydantic-core's encoder (several times faster than ``json``'s on the small values
    every durable write stores; numbers may be spelled differently, e.g. ``1e-5``, but read back
    the same). A column's text is hashed as stored, never re-encoded, so only its values matter.
    A value that encoder refuses gets ``json``'s (and its error).
    """
    if value is None:
        return None
    try:
        return to_json(value, inf_nan_mode="constants").decode()
    except (PydanticSerializationError, ValueError, TypeError):
        return _ENCODE(value)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@dataclass(frozen=True)
class Table:
    """How one record type maps to one table: its columns, JSON columns and ``extra`` fields."""

    name: str
    model: type[BaseModel]
    cols: tuple[str, ...]
    json_cols: frozenset[str]
    extras: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        extras = tuple(f for f in self.model.model_fields if f not in self.cols)
        object.__setattr__(self, "extras", extras)

    @property
    def select(self) -> str:
        """The column list to SELECT (``from_row`` reads rows in this order)."""
        return ", ".join((*self.cols, "extra"))

    def to_row(self, record: BaseModel) -> list[Any]:
        """A record's values in ``select`` order, JSON columns encoded."""
        json_cols = self.json_cols
        values = [
            dumps(getattr(record, c)) if c in json_cols else getattr(record, c) for c in self.cols
        ]
        values.append(dumps({f: getattr(record, f) for f in self.extras}))
        return values

    def from_row(self, row: tuple[Any, ...]) -> Any:
        json_cols = self.json_cols
        fields = {
            c: loads(v) if c in json_cols else v for c, v in zip(self.cols, row, strict=False)
        }
        extra = loads(row[len(self.cols)]) or {}
        known = self.model.model_fields
        fields.update((k, v) for k, v in extra.items() if k in known)  # a newer field is dropped
        return self.model.model_validate(fields)


RUNS = Table(
    "runs",
    RunRecord,
    (
        "run_id", "task", "status", "workflow", "spec", "policy_hash", "budget", "plan",
        "output", "error", "usage", "created_at", "updated_at",
    ),
    frozenset({"spec", "budget", "plan", "output", "usage"}),
)  # fmt: skip
STEPS = Table(
    "steps",
    StepRecord,
    (
        "run_id", "step_id", "agent", "status", "revision", "instruction", "output", "error",
        "usage", "context_tokens", "started_at", "finished_at",
    ),
    frozenset({"output", "usage"}),
)  # fmt: skip
JOURNAL = Table(
    "journal",
    JournalEntry,
    (
        "run_id", "key", "kind", "step_id", "name", "request_hash", "status", "idempotent",
        "request", "result", "error", "usage", "started_at", "finished_at",
    ),
    frozenset({"request", "result", "usage"}),
)  # fmt: skip
APPROVALS = Table(
    "approvals",
    ApprovalRecord,
    (
        "request_id", "run_id", "step_id", "agent", "subject", "tool", "arguments", "risk",
        "reason", "status", "approver", "decided_arguments", "comment", "created_at",
        "decided_at",
    ),
    frozenset({"arguments", "decided_arguments"}),
)  # fmt: skip

#: Fields ``update_run`` may change (everything but the id).
RUN_UPDATABLE = frozenset(RunRecord.model_fields) - {"run_id"}

EVENT_COLS = ("run_id", "seq", "kind", "ts", "payload", "prev_hash", "hash")


def event_from_row(row: tuple[Any, ...]) -> AuditRecord:
    """Built without validation: a tampered row must still reach verification, not crash it."""
    run_id, seq, kind, ts, payload, prev_hash, digest = row
    try:
        parsed = json.loads(payload)
    except (TypeError, ValueError):
        parsed = payload
    return AuditRecord.model_construct(
        run_id=run_id, seq=seq, kind=kind, ts=ts, payload=parsed, prev_hash=prev_hash, hash=digest
    )
