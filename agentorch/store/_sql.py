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


class SQLStore(Store):
    """Shared implementation of the transaction and migration logic over a DB-API connection."""

    dialect: str
    #: Appended to a SELECT that must lock the row against concurrent writers (PostgreSQL).
    for_update: str = ""
    for_share: str = ""

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

    # --- dialect hooks ---------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        """The statement in the driver's placeholder style (written with ``?``)."""
        return sql

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

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

    @contextmanager
    def _tx(self, mode: TxMode = "write") -> Iterator[None]:
        """One transaction per public method; joins an enclosing ``transaction()``."""
        with self._lock:
            if self._closed:
                raise StoreError(f"store {self.url} is closed")
            if self._depth:
                try:
                    yield
                except self._driver_errors() as exc:
                    raise self._wrap(exc) from exc
                return
            try:
                self._begin(mode)
            except self._driver_errors() as exc:
                raise self._wrap(exc) from exc
            self._depth = 1
            if self._fence_checked:
                self._fence_checked = set()
            try:
                yield
            except BaseException as exc:
                self._depth = 0
                self._safe_rollback()
                if isinstance(exc, self._driver_errors()):
                    raise self._wrap(exc) from exc
                raise
            self._depth = 0
            try:
                self._commit(mode)
            except self._driver_errors() as exc:
                self._safe_rollback()
                raise self._wrap(exc) from exc

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
                self._x(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                with self._tx("write"):
                    self._x(f"ROLLBACK TO SAVEPOINT {name}")
                    self._x(f"RELEASE SAVEPOINT {name}")
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

    def _check_fence(self, run_id: str) -> None:
        """Inside a write transaction: refuse the write if this store's lease on the run is gone.

        The row is locked until the transaction ends (SQLite's write lock, PostgreSQL ``FOR
        UPDATE``), so no other process can take the lease between this check and the commit.
        """
        fence = self._fences.get(run_id)
        if fence is None or run_id in self._fence_checked:
            return
        row = self._x(
            f"SELECT lease_owner, lease_epoch FROM runs WHERE run_id = ?{self.for_update}",
            (run_id,),
        ).fetchone()
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
