"""Runs, steps, the activity journal and approvals in SQL, for both dialects."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from agentorch.errors import StoreError, UserError
from agentorch.store._audit import GENESIS_HASH
from agentorch.store._records import (
    APPROVAL_STATUSES,
    APPROVALS,
    JOURNAL,
    RUN_STATUSES,
    RUN_UPDATABLE,
    RUNS,
    STEPS,
    Table,
    dumps,
    loads,
)
from agentorch.store._sql import SQLStore, _run_not_found
from agentorch.store.base import (
    ApprovalRecord,
    ApprovalStatus,
    JournalEntry,
    JournalKind,
    JournalStatus,
    RunRecord,
    StepRecord,
)


def _insert(table: Table, tail: str, extra_cols: tuple[str, ...] = ()) -> str:
    cols = (*table.cols, "extra", *extra_cols)
    marks = ", ".join("?" * len(cols))
    return f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({marks}) {tail}"


def _upsert(table: Table, key: tuple[str, ...], where: str = "") -> str:
    updated = [c for c in (*table.cols, "extra") if c not in key]
    sets = ", ".join(f"{c} = excluded.{c}" for c in updated)
    return _insert(table, f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}{where}")


_INSERT_RUN = _insert(
    RUNS, "ON CONFLICT (run_id) DO NOTHING", ("audit_seq", "audit_head", "audit_mac")
)
_UPSERT_STEP = _upsert(STEPS, ("run_id", "step_id"))
_UPSERT_JOURNAL = _upsert(JOURNAL, ("run_id", "key"), " WHERE journal.status <> 'completed'")
_FINISH_JOURNAL = (
    "UPDATE journal SET status = ?, result = ?, error = ?, usage = COALESCE(?, usage), "
    "finished_at = ? WHERE run_id = ? AND key = ? AND status <> 'completed'"
)
_FINISH_JOURNAL_RETURNING = f"{_FINISH_JOURNAL} RETURNING {JOURNAL.select}"
#: The journal's columns ``journal_finish`` leaves as ``journal_start`` wrote them (``usage``
#: only when the finish brings none), and where each is in a row.
_KEPT = ("kind", "step_id", "name", "request_hash", "idempotent", "request", "started_at")
_COL = {c: i for i, c in enumerate((*JOURNAL.cols, "extra"))}
#: ``_FINISH_JOURNAL`` for a row this process started: it matches only if the row is still the
#: one started, so the row as written is known without reading it back (SQLite's ``IS``: equal,
#: NULL included).
_FINISH_STARTED = (
    _FINISH_JOURNAL + "".join(f" AND {c} IS ?" for c in _KEPT) + " AND extra IS ? AND usage IS ?"
)
#: Rows started and not yet finished that ``journal_finish`` can rebuild instead of reading
#: them back; beyond this many (calls that never finished) the oldest are forgotten.
_STARTED_CAP = 4096
_INSERT_APPROVAL = _insert(APPROVALS, "ON CONFLICT (request_id) DO NOTHING")
_SELECT_JOURNAL_ROW = f"SELECT {JOURNAL.select} FROM journal WHERE run_id = ? AND key = ?"
_DECIDE_APPROVAL = (
    "UPDATE approvals SET status = ?, approver = ?, decided_arguments = ?, comment = ?, "
    "decided_at = ? WHERE request_id = ? AND status = 'pending'"
)


class SQLRecordStore(SQLStore):
    """The record-keeping half of the ``Store`` contract.

    Every write of a row that decides also records the row in the run's audit chain (``_seal``),
    in the same transaction.
    """

    #: A finished journal row this process started is rebuilt from what it wrote, not read back
    #: (where ``RETURNING`` costs more than the update itself: SQLite).
    rebuilds_rows: bool = False

    @abstractmethod
    def _seal(
        self, table: str, run_id: str, key: str, values: Sequence[Any], status: str | None = None
    ) -> None:
        """Record a row's digest in the run's audit chain (inside the caller's transaction)."""

    @abstractmethod
    def _sign_genesis(self, run_id: str) -> str:
        """The key signature of a new run's empty chain."""

    # --- runs ------------------------------------------------------------------------------------

    def create_run(self, run: RunRecord) -> None:
        with self._tx():
            params = (*RUNS.to_row(run), 0, GENESIS_HASH, self._sign_genesis(run.run_id))
            if self._x(_INSERT_RUN, params).rowcount == 0:
                raise StoreError(f"run {run.run_id!r} already exists in the store {self.url}")

    def get_run(self, run_id: str) -> RunRecord:
        with self._tx("read"):
            row = self._by_id_or_prefix("runs", "run_id", RUNS.select, run_id, "run")
        if row is None:
            raise _run_not_found(run_id, self.url)
        return RUNS.from_row(row)

    def update_run(self, run_id: str, **fields: Any) -> None:
        unknown = sorted(set(fields) - RUN_UPDATABLE)
        if unknown:
            raise StoreError(
                f"update_run: unknown field(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(RUN_UPDATABLE))}"
            )
        if "status" in fields and fields["status"] not in RUN_STATUSES:
            raise StoreError(f"update_run: invalid status {fields['status']!r}")
        if not fields:
            return
        names = sorted(n for n in fields if n in RUNS.cols)
        extras = {n: fields[n] for n in fields if n not in RUNS.cols}
        assignments = [f"{n} = ?" for n in names]
        params = [dumps(fields[n]) if n in RUNS.json_cols else fields[n] for n in names]
        with self._tx():
            self._check_fence(run_id)
            if extras:  # fields without a column: merge into the row's extra JSON
                row = self._x(
                    f"SELECT extra FROM runs WHERE run_id = ?{self.for_update}", (run_id,)
                ).fetchone()
                if row is None:
                    raise _run_not_found(run_id, self.url)
                assignments.append("extra = ?")
                params.append(dumps({**(loads(row[0]) or {}), **extras}))
            sql = f"UPDATE runs SET {', '.join(assignments)} WHERE run_id = ?"
            if self.returning:  # the row as written, in the same statement
                rows = self._x(f"{sql} RETURNING {RUNS.select}", (*params, run_id)).fetchall()
                row = rows[0] if rows else None
            elif self._x(sql, (*params, run_id)).rowcount:
                row = self._x(f"SELECT {RUNS.select} FROM runs WHERE run_id = ?", (run_id,))
                row = row.fetchone()
            else:
                row = None
            if row is None:
                raise _run_not_found(run_id, self.url)
            self._seal("runs", run_id, run_id, row)

    def list_runs(self, *, limit: int = 50, status: str | None = None) -> list[RunRecord]:
        """Newest first. ``limit <= 0`` lists every run."""
        sql = f"SELECT {RUNS.select} FROM runs"
        params: list[Any] = []
        if status is not None:
            if status not in RUN_STATUSES:
                raise UserError(
                    f"unknown run status {status!r}",
                    hint=f"one of: {', '.join(sorted(RUN_STATUSES))}",
                )
            sql += " WHERE status = ?"
            params.append(status)
        sql += " ORDER BY created_at DESC, id DESC"
        if limit > 0:
            sql += " LIMIT ?"
            params.append(limit)
        with self._tx("read"):
            rows = self._x(sql, params).fetchall()
        return [RUNS.from_row(r) for r in rows]

    # --- steps -----------------------------------------------------------------------------------

    def save_step(self, step: StepRecord) -> None:
        with self._tx():
            self._check_fence(step.run_id)
            values = STEPS.to_row(step)
            self._insert_child(_UPSERT_STEP, values, step.run_id)
            self._seal("steps", step.run_id, step.step_id, values)

    def get_steps(self, run_id: str) -> list[StepRecord]:
        with self._tx("read"):
            rows = self._x(
                f"SELECT {STEPS.select} FROM steps WHERE run_id = ? ORDER BY id", (run_id,)
            ).fetchall()
        return [STEPS.from_row(r) for r in rows]

    # --- journal ---------------------------------------------------------------------------------

    def journal_get(self, run_id: str, key: str) -> JournalEntry | None:
        with self._tx("read"):
            row = self._x(
                f"SELECT {JOURNAL.select} FROM journal WHERE run_id = ? AND key = ?", (run_id, key)
            ).fetchone()
        return None if row is None else JOURNAL.from_row(row)

    def journal_start(self, entry: JournalEntry) -> None:
        params = JOURNAL.to_row(entry)
        with self._tx():
            self._check_fence(entry.run_id)
            if self._insert_child(_UPSERT_JOURNAL, params, entry.run_id).rowcount == 0:
                raise StoreError(
                    f"journal entry {entry.key!r} of run {entry.run_id!r} is already completed; "
                    "a completed activity is never overwritten (replay its recorded result)"
                )
        if not self.rebuilds_rows:
            return
        started = self.__dict__.setdefault("_started", {})
        if len(started) >= _STARTED_CAP:
            del started[next(iter(started))]
        started[(entry.run_id, entry.key)] = params

    def journal_finish(
        self,
        run_id: str,
        key: str,
        *,
        status: JournalStatus,
        result: Any = None,
        error: str | None = None,
        usage: dict[str, Any] | None = None,
        finished_at: float,
    ) -> None:
        if status not in ("completed", "failed"):
            raise StoreError(
                f"journal_finish: status must be 'completed' or 'failed', not {status!r}"
            )
        params = (status, dumps(result), error, dumps(usage), finished_at, run_id, key)
        started = self.__dict__.get("_started", {}).pop((run_id, key), None)
        with self._tx():
            self._check_fence(run_id)
            row = None if started is None else self._finish_started(started, params)
            if row is not None:
                pass
            elif self.returning:  # the row as written, in the same statement
                rows = self._x(_FINISH_JOURNAL_RETURNING, params).fetchall()
                row = rows[0] if rows else None
            elif self._x(_FINISH_JOURNAL, params).rowcount:
                row = self._x(_SELECT_JOURNAL_ROW, (run_id, key)).fetchone()
            else:
                row = None
            if row is not None:
                self._seal("journal", run_id, key, row, status)
                return
            found = self._x(
                "SELECT status FROM journal WHERE run_id = ? AND key = ?", (run_id, key)
            ).fetchone()
        if found is None:
            raise StoreError(
                f"no journal entry {key!r} for run {run_id!r}: call journal_start first"
            )
        raise StoreError(
            f"journal entry {key!r} of run {run_id!r} is already completed; "
            "a completed activity is never overwritten"
        )

    def _finish_started(self, started: list[Any], params: tuple[Any, ...]) -> list[Any] | None:
        """Finish a row this process started, and return it as written: ``None`` if the row is
        no longer the one started (then it is read back, see ``journal_finish``)."""
        kept = [started[_COL[c]] for c in _KEPT]
        sql_params = (*params, *kept, started[_COL["extra"]], started[_COL["usage"]])
        if not self._x(_FINISH_STARTED, sql_params).rowcount:
            return None
        row = list(started)
        status, result, error, usage, finished_at = params[:5]
        row[_COL["status"]] = status
        row[_COL["result"]] = result
        row[_COL["error"]] = error
        if usage is not None:
            row[_COL["usage"]] = usage
        row[_COL["finished_at"]] = finished_at
        return row

    def journal(self, run_id: str, *, kind: JournalKind | None = None) -> list[JournalEntry]:
        sql = f"SELECT {JOURNAL.select} FROM journal WHERE run_id = ?"
        params: list[Any] = [run_id]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        with self._tx("read"):
            rows = self._x(sql + " ORDER BY id", params).fetchall()
        return [JOURNAL.from_row(r) for r in rows]

    # --- approvals -------------------------------------------------------------------------------

    def create_approval(self, request: ApprovalRecord) -> None:
        params = APPROVALS.to_row(request)
        with self._tx():
            self._check_fence(request.run_id)
            if self._insert_child(_INSERT_APPROVAL, params, request.run_id).rowcount == 0:
                raise StoreError(
                    f"approval request {request.request_id!r} already exists "
                    f"in the store {self.url}"
                )
            self._seal("approvals", request.run_id, request.request_id, params)

    def get_approval(self, request_id: str) -> ApprovalRecord:
        """The request with exactly this id; a missing one is a ``UserError``."""
        with self._tx("read"):
            row = self._x(
                f"SELECT {APPROVALS.select} FROM approvals WHERE request_id = ?", (request_id,)
            ).fetchone()
        if row is None:
            raise _approval_not_found(request_id, self.url)
        record: ApprovalRecord = APPROVALS.from_row(row)
        return record

    def decide_approval(
        self,
        request_id: str,
        *,
        status: ApprovalStatus,
        approver: str,
        decided_arguments: dict[str, Any] | None = None,
        comment: str = "",
        decided_at: float,
    ) -> ApprovalRecord:
        if status == "pending" or status not in APPROVAL_STATUSES:
            raise UserError(
                f"{status!r} is not a decision",
                hint=f"one of: {', '.join(sorted(APPROVAL_STATUSES - {'pending'}))}",
            )
        params = (status, approver, dumps(decided_arguments), comment, decided_at, request_id)
        select = f"SELECT {APPROVALS.select} FROM approvals WHERE request_id = ?"
        with self._tx():
            if self._fences:
                owner = self._x(
                    "SELECT run_id FROM approvals WHERE request_id = ?", (request_id,)
                ).fetchone()
                if owner is not None:
                    self._check_fence(owner[0])
            changed = self._x(_DECIDE_APPROVAL, params).rowcount
            row = self._x(select, (request_id,)).fetchone()
            if changed:
                self._seal("approvals", row[1], request_id, row)
        if row is None:
            raise _approval_not_found(request_id, self.url)
        record: ApprovalRecord = APPROVALS.from_row(row)
        if not changed:
            raise UserError(
                f"approval request {request_id!r} was already decided: {record.status} "
                f"by {record.approver or 'unknown'}",
                hint="a decision is recorded once; start a new request to change it",
            )
        return record

    def approvals(self, run_id: str, *, pending_only: bool = False) -> list[ApprovalRecord]:
        sql = f"SELECT {APPROVALS.select} FROM approvals WHERE run_id = ?"
        if pending_only:
            sql += " AND status = 'pending'"
        with self._tx("read"):
            rows = self._x(sql + " ORDER BY id", (run_id,)).fetchall()
        return [APPROVALS.from_row(r) for r in rows]


def _approval_not_found(request_id: str, url: str) -> UserError:
    return UserError(
        f"no approval request {request_id!r} in the store {url}",
        hint="list pending approvals with `agentorch approvals`",
    )
