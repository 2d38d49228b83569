"""The hash-chained event log and run leases in SQL, for both dialects.

The chain's head (last ``seq`` and ``hash``) lives on the run's row. Appending locks that row
(SQLite's write lock, PostgreSQL ``FOR UPDATE``), so two processes appending to one run take turns
and can never fork the chain; verification compares the log against the head, which catches
records removed from or forged onto the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from agentorch.errors import RunLockedError, StoreError
from agentorch.store._audit import encode_payload, record_hash_of_text, verify_chain
from agentorch.store._records import EVENT_COLS, event_from_row
from agentorch.store._sql import _run_not_found
from agentorch.store._store import SQLRecordStore
from agentorch.store.base import AuditRecord, AuditVerification

_EVENT_SELECT = ", ".join(EVENT_COLS)
_INSERT_EVENT = f"INSERT INTO events ({_EVENT_SELECT}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_PAGE = 1000


class SQLLedgerStore(SQLRecordStore):
    """The audit log and lease half of the ``Store`` contract."""

    # --- event log / audit chain -----------------------------------------------------------------

    def append_event(
        self, run_id: str, kind: str, ts: float, payload: dict[str, Any]
    ) -> AuditRecord:
        payload_json, stored = encode_payload(payload)
        ts = float(ts)  # stored as a double: hash what a read will return
        heads = self.__dict__.setdefault("_audit_heads", {})
        with self._tx():
            # The head this process wrote last is usually still the head: move it with one
            # conditional UPDATE, and read it only when another process appended meanwhile.
            cached = heads.get(run_id)
            moved = False
            if cached is not None:
                seq, prev_hash = cached[0] + 1, cached[1]
                digest = record_hash_of_text(run_id, seq, kind, ts, payload_json, prev_hash)
                moved = bool(
                    self._x(
                        "UPDATE runs SET audit_seq = ?, audit_head = ? "
                        "WHERE run_id = ? AND audit_seq = ? AND audit_head = ?",
                        (seq, digest, run_id, cached[0], prev_hash),
                    ).rowcount
                )
            if not moved:
                head = self._x(
                    f"SELECT audit_seq, audit_head FROM runs WHERE run_id = ?{self.for_update}",
                    (run_id,),
                ).fetchone()
                if head is None:
                    raise _run_not_found(run_id, self.url)
                seq, prev_hash = head[0] + 1, head[1]
                digest = record_hash_of_text(run_id, seq, kind, ts, payload_json, prev_hash)
                self._x(
                    "UPDATE runs SET audit_seq = ?, audit_head = ? WHERE run_id = ?",
                    (seq, digest, run_id),
                )
            self._x(_INSERT_EVENT, (run_id, seq, kind, ts, payload_json, prev_hash, digest))
        heads[run_id] = (seq, digest)
        return AuditRecord.model_construct(
            run_id=run_id,
            seq=seq,
            kind=kind,
            ts=ts,
            payload=stored,
            prev_hash=prev_hash,
            hash=digest,
        )

    def events(self, run_id: str) -> Iterator[AuditRecord]:
        """The run's records in ``seq`` order, read in pages (the lock is not held while the
        caller consumes them)."""
        after = 0
        while True:
            with self._tx("read"):
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
        # One snapshot of the log and its head: concurrent appends cannot look like tampering.
        with self._tx("snapshot"):
            head = self._x(
                f"SELECT audit_seq, audit_head FROM runs WHERE run_id = ?{self.for_share}",
                (run_id,),
            ).fetchone()
            if head is None:
                raise _run_not_found(run_id, self.url)
            rows = self._x(
                f"SELECT {_EVENT_SELECT} FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
            ).fetchall()
        return verify_chain((event_from_row(r) for r in rows), head=(head[0], head[1]))

    # --- leases ----------------------------------------------------------------------------------

    def acquire_lease(self, run_id: str, owner: str, *, ttl: float, now: float) -> None:
        if ttl <= 0:
            raise StoreError(f"acquire_lease: ttl must be positive, not {ttl}")
        with self._tx():
            taken = self._x(
                "UPDATE runs SET lease_owner = ?, lease_until = ? WHERE run_id = ? AND ("
                "lease_owner IS NULL OR lease_owner = ? OR lease_until IS NULL OR lease_until <= ?"
                ")",
                (owner, now + ttl, run_id, owner, now),
            ).rowcount
            if taken:
                return
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
        """Give the lease up; a no-op if ``owner`` does not hold it."""
        with self._tx():
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


def _locked(run_id: str, holder: tuple[str | None, float | None], now: float) -> RunLockedError:
    owner, until = holder
    when = datetime.fromtimestamp(until, tz=UTC).isoformat(timespec="seconds") if until else "?"
    left = f" (in {max(0.0, until - now):.0f}s)" if until else ""
    return RunLockedError(
        f"run {run_id} is being resumed by another process (owner {owner}, until {when})",
        hint=f"wait for that process to finish, or retry after its lease expires{left}",
    )
