"""The hash-chained event log and run leases in SQL, for both dialects.

The chain's head (last ``seq`` and ``hash``) lives on the run's row. Appending locks that row
(SQLite's write lock, PostgreSQL ``FOR UPDATE``), so two processes appending to one run take turns
and can never fork the chain; verification compares the log against the head, which catches
records removed from or forged onto the end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from agentorch.errors import LeaseLostError, RunLockedError, StoreError
from agentorch.store._audit import (
    GENESIS_HASH,
    canonical_json,
    encode_payload,
    record_hash_of_text,
    verify_chain,
)
from agentorch.store._keys import head_signed, load_key, sign_head
from agentorch.store._records import (
    APPROVALS,
    EVENT_COLS,
    JOURNAL,
    RUNS,
    STEPS,
    Table,
    event_from_row,
)
from agentorch.store._seals import (
    ROWS_KIND,
    check_rows,
    is_fresh_run,
    latest_seals,
    row_digest,
    rows_payload_json,
)
from agentorch.store._sql import _run_not_found
from agentorch.store._store import SQLRecordStore
from agentorch.store.base import AuditRecord, AuditVerification

_EVENT_SELECT = ", ".join(EVENT_COLS)
_INSERT_EVENT = f"INSERT INTO events ({_EVENT_SELECT}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_MOVE_HEAD = "UPDATE runs SET audit_seq = ?, audit_head = ?, audit_mac = ? WHERE run_id = ?"
#: ``_MOVE_HEAD`` only from the head this process last committed (and, fenced, under its lease).
_MOVE_OWN_HEAD = f"{_MOVE_HEAD} AND audit_seq = ? AND audit_head = ?"
_MOVE_OWN_HEAD_FENCED = f"{_MOVE_OWN_HEAD} AND lease_owner = ? AND lease_epoch = ?"
_PAGE = 1000
_TAKE_LEASE = (
    "UPDATE runs SET lease_epoch = CASE WHEN lease_owner = ? THEN lease_epoch "
    "ELSE lease_epoch + 1 END, lease_owner = ?, lease_until = ? WHERE run_id = ? AND ("
    "lease_owner IS NULL OR lease_owner = ? OR lease_until IS NULL OR lease_until <= ?)"
)
#: The tables whose rows the chain records, with each one's key column.
_COVERED: tuple[tuple[Table, str], ...] = (
    (RUNS, "run_id"),
    (STEPS, "step_id"),
    (JOURNAL, "key"),
    (APPROVALS, "request_id"),
)
_STATUS_COL = {t.name: t.cols.index("status") for t, _ in _COVERED}
_FRESH_COLS = ("status", "output", "error", "usage")


class SQLLedgerStore(SQLRecordStore):
    """The audit log and lease half of the ``Store`` contract.

    A transaction's records are chained as they are appended but written at its end: one
    ``executemany`` of the records and one update of the signed head per run, inside the same
    transaction (a rollback loses them with everything else).

    With ``own_head_checks`` (a dialect whose write transaction holds the whole database's write
    lock from its first statement: SQLite's ``BEGIN IMMEDIATE``), a run whose head this process
    committed last is not read at all: its records chain from that head, and the update that
    moves the head at the end of the transaction only matches the row if the head is still that
    one and, for a fenced run, the lease still this one's. A row that does not match is read
    then, and the lease checked (``LeaseLostError``), the head's signature checked and the
    transaction's records of the run chained again from the head found: nothing is committed
    that the up-front read would have refused.
    """

    #: Check the fence and the cached head in the update that moves the head (see above).
    own_head_checks: bool = False

    def __init__(self, audit_key: str | bytes | None = None) -> None:
        super().__init__(audit_key)
        #: Per run, the head (seq, hash) this process last committed: a head read back equal to
        #: it needs no signature check.
        self._audit_heads: dict[str, tuple[int, str]] = {}
        #: The current transaction's view of each run's head, records not yet written included.
        self._tx_heads: dict[str, list[Any]] = {}
        #: Records appended in the current transaction and not yet written, as event rows.
        self._pending: list[tuple[Any, ...]] = []
        #: Runs whose head moved in the current transaction and is not yet written.
        self._dirty: dict[str, None] = {}
        #: Per run, the rows that decide written in the current transaction: ``(table, key)``
        #: to ``(digest, status)`` of the row's last write, recorded at its end.
        self._sealed: dict[str, dict[tuple[str, str], tuple[str, str | None]]] = {}
        #: Heads written in the current transaction (remembered once it commits).
        self._written: dict[str, tuple[int, str]] = {}
        #: Runs chained from the cached head in the current transaction, with that head (checked
        #: when the head is moved).
        self._bases: dict[str, tuple[int, str]] = {}
        #: Fenced runs whose lease check waits for the end of the current transaction.
        self._deferred: dict[str, None] = {}

    # --- event log / audit chain -----------------------------------------------------------------

    def append_event(
        self, run_id: str, kind: str, ts: float, payload: dict[str, Any]
    ) -> AuditRecord:
        payload_json, stored = encode_payload(payload)
        ts = float(ts)  # stored as a double: hash what a read will return
        with self._tx():
            seq, prev_hash, digest = self._append(run_id, kind, ts, payload_json)
        return AuditRecord.model_construct(
            run_id=run_id,
            seq=seq,
            kind=kind,
            ts=ts,
            payload=stored,
            prev_hash=prev_hash,
            hash=digest,
        )

    def record_event(self, run_id: str, kind: str, ts: float, payload: dict[str, Any]) -> None:
        """``append_event`` without building the record it returns (the run's own event log)."""
        payload_json = canonical_json(payload)
        if not payload_json.startswith("{"):
            raise TypeError(f"an event payload must be a JSON object, not {type(payload).__name__}")
        with self._tx():
            self._append(run_id, kind, float(ts), payload_json)

    def _append(self, run_id: str, kind: str, ts: float, payload_json: str) -> tuple[int, str, str]:
        """Chain one record inside the caller's transaction; ``(seq, prev_hash, hash)``."""
        self._check_fence(run_id)
        head = self._tx_heads.get(run_id)
        if head is None:
            own = self._audit_heads.get(run_id) if self.own_head_checks else None
            if own is None:
                head = self._read_head(run_id)
            else:  # checked when the head moves (``_move_head``)
                self._bases[run_id] = own
                head = self._tx_heads[run_id] = [own[0], own[1]]
        seq, prev_hash = head[0] + 1, head[1]
        digest = record_hash_of_text(run_id, seq, kind, ts, payload_json, prev_hash)
        self._pending.append((run_id, seq, kind, ts, payload_json, prev_hash, digest))
        head[0], head[1] = seq, digest
        self._dirty[run_id] = None
        return seq, prev_hash, digest

    def _read_head(self, run_id: str) -> list[Any]:
        """The run's head as stored (row locked), refused unless this store's key signed it."""
        row = self._lock_run(run_id)
        if row is None:
            raise _run_not_found(run_id, self.url)
        seq, digest, mac = row[2], row[3], row[4]
        if self._audit_heads.get(run_id) != (seq, digest) and not head_signed(
            self._signing_key(), run_id, seq, digest, mac
        ):
            self._audit_heads.pop(run_id, None)
            raise _unsigned(run_id, self.url)
        head = [seq, digest]
        self._tx_heads[run_id] = head
        return head

    def _check_fence(self, run_id: str) -> None:
        if run_id in self._fence_checked:  # (every record of a transaction asks again)
            return
        if (
            self.own_head_checks
            and run_id in self._audit_heads
            and run_id in self._fences
            and run_id not in self._fence_checked
        ):
            self._fence_checked.add(run_id)  # checked at the end of the transaction
            self._deferred[run_id] = None
            return
        super()._check_fence(run_id)

    def _flush_audit(self) -> None:
        """Write the records appended so far in this transaction (each run's rows recorded
        last) and the heads they moved."""
        if self._sealed:
            ts = time.time()
            for run_id, rows in self._sealed.items():
                written = ((table, key, *seal) for (table, key), seal in rows.items())
                self._append(run_id, ROWS_KIND, ts, rows_payload_json(run_id, ts, written))
            self._sealed = {}
        if self._deferred:
            for run_id in self._deferred:
                if run_id not in self._bases:  # no head to move here: read the lease
                    self._fence_checked.discard(run_id)
                    super()._check_fence(run_id)
            self._deferred = {}
        if not self._pending:
            return
        key = self._signing_key()
        for run_id in self._dirty:
            self._move_head(key, run_id)
        self._xmany(_INSERT_EVENT, self._pending)
        self._pending = []
        self._dirty = {}

    def _move_head(self, key: bytes, run_id: str) -> None:
        seq, digest = self._tx_heads[run_id]
        params: tuple[Any, ...] = (seq, digest, sign_head(key, run_id, seq, digest), run_id)
        base = self._bases.pop(run_id, None)
        if base is None:
            self._x(_MOVE_HEAD, params)
        else:
            fence = self._fences.get(run_id)
            if fence is None:
                moved = self._x(_MOVE_OWN_HEAD, (*params, *base)).rowcount
            else:
                moved = self._x(_MOVE_OWN_HEAD_FENCED, (*params, *base, *fence)).rowcount
            if not moved:  # the lease or the head changed since this process's last commit
                self._rechain(run_id)
                seq, digest = self._tx_heads[run_id]
                self._x(_MOVE_HEAD, (seq, digest, sign_head(key, run_id, seq, digest), run_id))
        self._written[run_id] = (seq, digest)

    def _rechain(self, run_id: str) -> None:
        """Read the run's row (the lease and head checks ``_append`` skipped) and chain this
        transaction's records of the run again from the head found there."""
        self._fence_checked.discard(run_id)
        self._tx_rows.pop(run_id, None)
        super()._check_fence(run_id)
        self._audit_heads.pop(run_id, None)
        seq, prev = self._read_head(run_id)
        for i, rec in enumerate(self._pending):
            if rec[0] == run_id:
                seq += 1
                digest = record_hash_of_text(run_id, seq, rec[2], rec[3], rec[4], prev)
                self._pending[i] = (run_id, seq, rec[2], rec[3], rec[4], prev, digest)
                prev = digest
        self._tx_heads[run_id] = [seq, prev]

    def _check_deferred(self) -> BaseException | None:
        """A transaction failed: the lease checks it deferred, done now (a lost lease is what
        the caller must hear about, whatever else went wrong)."""
        for run_id in self._deferred:
            try:
                self._fence_checked.discard(run_id)
                super()._check_fence(run_id)
            except LeaseLostError as exc:
                return exc
            except self._driver_errors():
                return None
        return None

    def _before_commit(self) -> None:
        self._flush_audit()

    def _after_commit(self) -> None:
        if self._written:
            self._audit_heads.update(self._written)
            self._written = {}

    def _tx_reset(self) -> None:
        super()._tx_reset()
        if self._tx_heads:
            self._tx_heads = {}
        if self._pending or self._dirty or self._written or self._sealed:
            self._pending, self._dirty, self._written, self._sealed = [], {}, {}, {}
        if self._bases or self._deferred:
            self._bases, self._deferred = {}, {}

    def _savepoint_state(self) -> Any:
        # Called right after a flush: nothing is pending (no record, no row), so the heads are
        # all there is to keep.
        return {run_id: list(head) for run_id, head in self._tx_heads.items()}, dict(self._written)

    def _restore_savepoint(self, state: Any) -> None:
        self._tx_heads, self._written = state
        self._pending, self._dirty, self._sealed = [], {}, {}
        self._bases = {}  # (the flush before the savepoint checked every one)

    def _seal(
        self,
        table: str,
        run_id: str,
        key: str,
        values: Sequence[Any],
        status: str | None = None,
    ) -> None:
        rows = self._sealed.get(run_id)
        if rows is None:
            rows = self._sealed[run_id] = {}
        else:
            rows.pop((table, key), None)  # (in the order of the rows' last writes)
        rows[(table, key)] = (row_digest(values), status)

    def _sign_genesis(self, run_id: str) -> str:
        return sign_head(self._signing_key(), run_id, 0, GENESIS_HASH)

    def _signing_key(self) -> bytes:
        """The audit key, loaded (or created) on the first write; never stored in the database."""
        key: bytes | None = self.__dict__.get("_audit_key")
        if key is None:
            key = self._given_key or load_key(create=True)
            assert key is not None  # load_key(create=True) returns a key or raises
            self._audit_key = key
        return key

    def _after_migration(self, version: int) -> None:
        """Version 2 adds the chain's row records and the signed head: record every existing
        row and sign every head as they are now (an upgrade vouches for what the store holds)."""
        if version != 2:
            return
        key = self._signing_key()
        runs = self._x("SELECT run_id, audit_seq, audit_head FROM runs ORDER BY id").fetchall()
        for run_id, seq, head in runs:
            self._x(
                "UPDATE runs SET audit_mac = ? WHERE run_id = ?",
                (sign_head(key, run_id, seq, head), run_id),
            )
            self._tx_heads[run_id] = [seq, head]  # (the lease columns may not exist yet)
            for table, key_col, rows in self._rows(run_id):
                for row in rows:
                    status = row[JOURNAL.cols.index("status")] if table == "journal" else None
                    if table == "journal" and status == "started":
                        continue
                    self._seal(table, run_id, row[key_col], row, status)

    def _rows(self, run_id: str) -> list[tuple[str, int, list[Any]]]:
        """Each covered table's rows of a run: ``(table, index of the key column, rows)``."""
        out = []
        for table, key_col in _COVERED:
            sql = f"SELECT {table.select} FROM {table.name} WHERE run_id = ? ORDER BY id"
            out.append((table.name, table.cols.index(key_col), self._x(sql, (run_id,)).fetchall()))
        return out

    def events(self, run_id: str, *, after: int = 0) -> Iterator[AuditRecord]:
        """The run's records in ``seq`` order after ``after``, read in pages (the lock is not
        held while the caller consumes them)."""
        while True:
            with self._tx("read"):
                self._flush_audit()  # inside a transaction: its own records are read too
                rows = self._x(
                    f"SELECT {_EVENT_SELECT} FROM events WHERE run_id = ? AND seq > ? "
                    "ORDER BY seq LIMIT ?",
                    (run_id, after, _PAGE),
                ).fetchall()
            for row in rows:
                yield event_from_row(row)
            if len(rows) < _PAGE:
                return
            after = rows[-1][1]

    def verify_audit(self, run_id: str) -> AuditVerification:
        key = self.__dict__.get("_audit_key") or self._given_key or load_key(create=False)
        # One snapshot of the log, its head and the tables: concurrent writes cannot look like
        # tampering.
        with self._tx("snapshot"):
            self._flush_audit()
            head = self._x(
                f"SELECT audit_seq, audit_head, audit_mac FROM runs WHERE run_id = ?"
                f"{self.for_share}",
                (run_id,),
            ).fetchone()
            if head is None:
                raise _run_not_found(run_id, self.url)
            events = self._x(
                f"SELECT {_EVENT_SELECT} FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
            ).fetchall()
            tables = self._rows(run_id)
        records = [event_from_row(r) for r in events]
        chain = verify_chain(records, head=(head[0], head[1]))
        problems = list(chain.problems)
        if key is None:
            anchor = "no_key"
        elif head[2] is None:
            anchor = "missing"
            problems.append(
                f"the audit head of run {run_id} carries no key signature: it was removed "
                "(records may have been cut from the end)"
            )
        elif not head_signed(key, run_id, head[0], head[1], head[2]):
            anchor = "mismatch"
            problems.append(
                f"the audit head of run {run_id} does not match its key signature: the log was "
                "cut or rewritten without the audit key (or signed with another key)"
            )
        else:
            anchor = "verified"
        rows: dict[str, list[tuple[str, Sequence[Any], str | None]]] = {}
        fresh = False
        for table, key_col, table_rows in tables:
            status_col = _STATUS_COL[table]
            rows[table] = [(r[key_col], r, r[status_col]) for r in table_rows]
            if table == "runs" and table_rows:
                r = table_rows[0]
                fresh = is_fresh_run(*(r[RUNS.cols.index(c)] for c in _FRESH_COLS))
        table_problems = check_rows(latest_seals(records), rows, fresh_run=fresh)
        problems += table_problems
        return AuditVerification(
            ok=chain.ok and anchor in ("verified", "no_key") and not table_problems,
            records=chain.records,
            first_bad_seq=chain.first_bad_seq,
            problem=problems[0] if problems else None,
            chain_intact=chain.ok,
            tables_consistent=not table_problems,
            anchor=anchor,  # type: ignore[arg-type]
            problems=problems,
        )

    # --- leases ----------------------------------------------------------------------------------

    def acquire_lease(self, run_id: str, owner: str, *, ttl: float, now: float) -> int:
        if ttl <= 0:
            raise StoreError(f"acquire_lease: ttl must be positive, not {ttl}")
        with self._tx():
            self._tx_rows.pop(run_id, None)  # the lease columns change
            # A new owner raises the epoch, so every write of the previous owner is refused.
            params = (owner, owner, now + ttl, run_id, owner, now)
            if self.returning:  # the epoch taken, in the same statement
                rows = self._x(_TAKE_LEASE + " RETURNING lease_epoch", params).fetchall()
                if rows:
                    return int(rows[0][0])
            elif self._x(_TAKE_LEASE, params).rowcount:
                row = self._x("SELECT lease_epoch FROM runs WHERE run_id = ?", (run_id,)).fetchone()
                return int(row[0])
            holder = self._lease_holder(run_id)
        raise _locked(run_id, holder, now)

    def renew_lease(self, run_id: str, owner: str, *, ttl: float, now: float) -> None:
        if ttl <= 0:
            raise StoreError(f"renew_lease: ttl must be positive, not {ttl}")
        with self._tx():
            renewed = self._x(
                "UPDATE runs SET lease_until = ? WHERE run_id = ? AND lease_owner = ?",
                (now + ttl, run_id, owner),
            ).rowcount
            if renewed:
                return
            holder = self._lease_holder(run_id)
        if holder[0] is None:
            raise RunLockedError(
                f"run {run_id} is not leased by {owner} (its lease was released)",
                hint="acquire the lease again before continuing the run",
            )
        raise _locked(run_id, holder, now)

    def release_lease(self, run_id: str, owner: str) -> None:
        """Give the lease up; a no-op if ``owner`` does not hold it.

        Inside a transaction (a run's last write), the records appended so far are written
        first: they move the audit head under the lease, before it is given up.
        """
        with self._tx():
            self._flush_audit()
            self._tx_rows.pop(run_id, None)
            self._x(
                "UPDATE runs SET lease_owner = NULL, lease_until = NULL "
                "WHERE run_id = ? AND lease_owner = ?",
                (run_id, owner),
            )

    def lease_holder(self, run_id: str) -> tuple[str | None, float | None]:
        """Who holds the run's lease, and until when (``(None, None)`` when free)."""
        with self._tx():
            return self._lease_holder(run_id)

    def _lease_holder(self, run_id: str) -> tuple[str | None, float | None]:
        row = self._x(
            "SELECT lease_owner, lease_until FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise _run_not_found(run_id, self.url)
        return row[0], row[1]


def _unsigned(run_id: str, url: str) -> StoreError:
    return StoreError(
        f"the audit log of run {run_id} in the store {url} was altered outside agentorch: its "
        "head does not carry this store's key signature, so nothing more is written to it",
        hint=f"agentorch audit verify {run_id}; every process sharing a store needs the same "
        "audit key (AGENTORCH_AUDIT_KEY)",
    )


def _locked(run_id: str, holder: tuple[str | None, float | None], now: float) -> RunLockedError:
    owner, until = holder
    when = datetime.fromtimestamp(until, tz=UTC).isoformat(timespec="seconds") if until else "?"
    left = f" (in {max(0.0, until - now):.0f}s)" if until else ""
    return RunLockedError(
        f"run {run_id} is being resumed by another process (owner {owner}, until {when})",
        hint=f"wait for that process to finish, or retry after its lease expires{left}",
    )
