"""The SQL machinery both stores share: one connection behind a lock, re-entrant transactions,
schema creation and migration, and error translation.

A dialect subclass provides the connection and a handful of hooks (how to begin, commit and roll
back, how to spell a placeholder, which exceptions mean what). Every public method runs in one
transaction: a write takes the write lock up front (SQLite ``BEGIN IMMEDIATE``; PostgreSQL row
locks), so read-modify-write sequences such as the audit chain cannot interleave across processes.
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Literal

from agentorch.errors import (
    AgentOrchError,
    LeaseLostError,
    RunNotFoundError,
    StoreError,
    UserError,
)
from agentorch.store import schema
from agentorch.store.base import Store

TxMode = Literal["read", "write", "snapshot"]

_LOCK_RUN = (
    "SELECT lease_owner, lease_epoch, audit_seq, audit_head, audit_mac FROM runs WHERE run_id = ?"
)


class SQLStore(Store):
    """Shared implementation of the transaction and migration logic over a DB-API connection."""

    dialect: str
    #: Appended to a SELECT that must lock the row against concurrent writers (PostgreSQL).
    for_update: str = ""
    for_share: str = ""
    #: Appended to the SELECT that locks a run's row for the fence check and the audit chain.
    lock_row: str = ""
    #: ``UPDATE ... RETURNING`` is available (one statement instead of an UPDATE and a SELECT).
    returning: bool = True

    def __init__(self, audit_key: str | bytes | None = None) -> None:
        #: The audit key given in code (else it comes from the environment or the key file).
        self._given_key = audit_key.encode("utf-8") if isinstance(audit_key, str) else audit_key
        self._lock = threading.RLock()
        self._depth = 0
        self._closed = False
        #: Runs whose writes are fenced: run id -> (lease owner, lease epoch).
        self._fences: dict[str, tuple[str, int]] = {}
        #: Fenced runs already checked in the current transaction (one check per transaction).
        self._fence_checked: set[str] = set()
        #: Runs' rows read by ``_lock_run`` in the current transaction.
        self._tx_rows: dict[str, Any] = {}

    # --- dialect hooks ---------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        """The statement in the driver's placeholder style (written with ``?``)."""
        return sql

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    @abstractmethod
    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def _begin(self, mode: TxMode) -> None: ...

    @abstractmethod
    def _commit(self, mode: TxMode) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @abstractmethod
    def _close_connection(self) -> None: ...

    @abstractmethod
    def _driver_errors(self) -> tuple[type[BaseException], ...]: ...

    @abstractmethod
    def _is_fk_violation(self, exc: BaseException) -> bool: ...

    def _wrap(self, exc: BaseException) -> AgentOrchError:
        """Turn a driver error into a ``StoreError`` that names the store."""
        return StoreError(f"store {self.url}: {exc}")

    def _migration_lock(self) -> None:
        """Serialise concurrent migrators (SQLite's write lock already does)."""

    def _after_migration(self, version: int) -> None:
        """Data changes a migration needs beyond its SQL (inside the migration's transaction)."""

    # --- transactions ----------------------------------------------------------------------------

    def _x(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._execute(self._sql(sql), params)

    def _xmany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement run for many rows (the driver's ``executemany``)."""
        self._executemany(self._sql(sql), rows)

    def _tx(self, mode: TxMode = "write") -> _Tx:
        """One transaction per public method; joins an enclosing ``transaction()``."""
        return _Tx(self, mode)

    def _tx_reset(self) -> None:
        """Forget what the previous transaction knew (it committed or rolled back)."""
        if self._fence_checked:
            self._fence_checked = set()
        if self._tx_rows:
            self._tx_rows = {}

    def _before_commit(self) -> None:
        """Writes a transaction defers to its end (a failure here rolls the transaction back)."""

    def _after_commit(self) -> None:
        """What to remember once the transaction is committed."""

    def _check_deferred(self) -> BaseException | None:
        """A transaction failed: the error to raise instead, if a check it deferred fails now."""
        return None

    def _savepoint_state(self) -> Any:
        """What ``_restore_savepoint`` needs to undo this process's view of a rolled-back block."""
        return None

    def _restore_savepoint(self, state: Any) -> None:
        """The block since ``_savepoint_state`` was rolled back."""

    def _safe_rollback(self) -> None:
        try:
            self._rollback()
        except self._driver_errors():
            pass  # the connection is gone; the server discards the transaction

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes atomically. Nested calls join the outer transaction through a savepoint,
        so an exception caught inside the outer block undoes only the inner block's writes.

        Do not ``await`` inside: the store's lock is held for the whole block.
        """
        with self._lock:
            if not self._depth:
                with self._tx("write"):
                    yield
                return
            name = f"agentorch_sp{self._depth}"
            with self._tx("write"):
                self._before_commit()  # deferred writes so far belong to the outer block
                self._x(f"SAVEPOINT {name}")
                state = self._savepoint_state()
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                with self._tx("write"):
                    self._x(f"ROLLBACK TO SAVEPOINT {name}")
                    self._x(f"RELEASE SAVEPOINT {name}")
                    self._restore_savepoint(state)
                raise
            self._depth -= 1
            with self._tx("write"):
                self._x(f"RELEASE SAVEPOINT {name}")

    # --- fencing --------------------------------------------------------------------------------

    def fence(self, run_id: str, owner: str, epoch: int) -> None:
        with self._lock:
            self._fences[run_id] = (owner, epoch)
            self._fence_checked.discard(run_id)

    def unfence(self, run_id: str) -> None:
        with self._lock:
            self._fences.pop(run_id, None)

    def _lock_run(self, run_id: str) -> Any:
        """Inside a write transaction: the run's lease and audit head, its row locked until the
        transaction ends (SQLite's write lock, PostgreSQL ``FOR NO KEY UPDATE``); ``None`` if
        there is no such run. Read once per transaction: the fence check and the audit chain
        share it."""
        row = self._tx_rows.get(run_id)
        if row is None:
            row = self._x(_LOCK_RUN + self.lock_row, (run_id,)).fetchone()
            if row is not None:
                self._tx_rows[run_id] = row
        return row

    def _check_fence(self, run_id: str) -> None:
        """Inside a write transaction: refuse the write if this store's lease on the run is gone.

        The row is locked until the transaction ends, so no other process can take the lease
        between this check and the commit.
        """
        fence = self._fences.get(run_id)
        if fence is None or run_id in self._fence_checked:
            return
        row = self._lock_run(run_id)
        if row is None or (row[0], row[1]) != fence:
            holder = "nobody" if row is None or row[0] is None else row[0]
            raise LeaseLostError(
                f"run {run_id}: this process lost its lease (epoch {fence[1]}; now held by "
                f"{holder}) and stopped without writing",
                run_id=run_id,
                hint="another process continues the run; see `agentorch runs` for its state",
            )
        self._fence_checked.add(run_id)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._depth:
                self._safe_rollback()
                self._depth = 0
            try:
                self._close_connection()
            except self._driver_errors():
                pass

    # --- schema ----------------------------------------------------------------------------------

    def _migrate(self, found: int) -> None:
        """Create or upgrade the schema; a newer one is refused before anything is written."""
        schema.check_not_newer(found, self.url)
        if found == schema.SCHEMA_VERSION:
            return
        real = schema.DIALECTS[self.dialect]["real"]
        with self._tx("write"):
            self._migration_lock()
            self._x(schema.CREATE_VERSION_TABLE.format(real=real))
            current = self._x("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            schema.check_not_newer(current, self.url)
            for version, statements in schema.pending(current, self.dialect):
                for statement in statements:
                    self._x(statement)
                self._after_migration(version)
                self._x(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    (version, time.time()),
                )

    # --- shared helpers for the record methods ---------------------------------------------------

    def _insert_child(self, sql: str, params: Sequence[Any], run_id: str) -> Any:
        """Insert a row that references a run; a missing run is a ``RunNotFoundError``."""
        try:
            return self._x(sql, params)
        except self._driver_errors() as exc:
            if self._is_fk_violation(exc):
                raise _run_not_found(run_id, self.url) from exc
            raise

    def _by_id_or_prefix(self, table: str, id_col: str, cols: str, value: str, what: str) -> Any:
        """The row whose id is ``value`` or uniquely starts with it (like git's short hashes)."""
        row = self._x(f"SELECT {cols} FROM {table} WHERE {id_col} = ?", (value,)).fetchone()
        if row is not None or not value:
            return row
        rows = self._x(
            f"SELECT {cols} FROM {table} WHERE substr({id_col}, 1, ?) = ? "
            f"ORDER BY {id_col} LIMIT 6",
            (len(value), value),
        ).fetchall()
        if len(rows) > 1:
            ids = ", ".join(r[0] for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
            raise UserError(
                f"{what} id prefix {value!r} is ambiguous: it matches {ids}",
                hint="type more characters of the id",
            )
        return rows[0] if rows else None


def _run_not_found(run_id: str, url: str) -> RunNotFoundError:
    return RunNotFoundError(
        f"no run {run_id!r} in the store {url}", hint="list runs with `agentorch runs`"
    )


class _Tx:
    """``SQLStore._tx``: a transaction, or a join of the enclosing one.

    A plain class rather than a generator context manager: every store call enters one.
    """

    __slots__ = ("mode", "outer", "store")

    def __init__(self, store: SQLStore, mode: TxMode) -> None:
        self.store = store
        self.mode = mode
        self.outer = False

    def __enter__(self) -> None:
        store = self.store
        store._lock.acquire()
        try:
            if store._closed:
                raise StoreError(f"store {store.url} is closed")
            if store._depth:
                return
            try:
                store._begin(self.mode)
            except store._driver_errors() as exc:
                raise store._wrap(exc) from exc
        except BaseException:
            store._lock.release()
            raise
        store._depth = 1
        store._tx_reset()
        self.outer = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        store = self.store
        try:
            if not self.outer:
                if exc is not None and isinstance(exc, store._driver_errors()):
                    raise store._wrap(exc) from exc
                return
            if exc is not None:
                lost = store._check_deferred()
                self._abort()
                if lost is not None:
                    raise lost from exc
                if isinstance(exc, store._driver_errors()):
                    raise store._wrap(exc) from exc
                return
            try:
                store._before_commit()
                store._depth = 0
                store._commit(self.mode)
            except BaseException as failed:
                self._abort()
                if isinstance(failed, store._driver_errors()):
                    raise store._wrap(failed) from failed
                raise
            store._after_commit()
        finally:
            store._lock.release()

    def _abort(self) -> None:
        store = self.store
        store._depth = 0
        store._safe_rollback()
        store._tx_reset()
