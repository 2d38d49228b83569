"""The embedded store: one SQLite file, safe for several processes.

WAL mode lets readers run beside one writer; ``synchronous=NORMAL`` makes a commit cheap (durable
at the next checkpoint; a power loss can drop the last commits, never corrupt the file); every write
takes the write lock up front (``BEGIN IMMEDIATE``) and waits up to ``busy_timeout`` for it.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from agentorch.errors import AgentOrchError, StoreError
from agentorch.store import schema
from agentorch.store._keys import ENV_KEY
from agentorch.store._ledger import SQLLedgerStore
from agentorch.store._sql import TxMode

_HEADER = b"SQLite format 3\x00"

#: Store files this process has open, with how many stores hold each. SQLite locks with POSIX
#: locks, which the close() of *any* descriptor of the file in this process drops: reading the
#: header of a file a connection here already uses would drop its locks, and another process
#: closing its own connection could then take itself for the last one and delete the live WAL
#: (lost commits, then "file is not a database"). So the header is read only on the first open.
_OPEN_FILES: dict[str, int] = {}
_OPEN_FILES_LOCK = threading.Lock()
MEMORY = ":memory:"


class SQLiteStore(SQLLedgerStore):
    """A store in one SQLite file (or in memory, for tests and throwaway runs).

    Args:
        path: The database file (created with its parent folders if missing) or ``":memory:"``.
        busy_timeout: Seconds a write waits for another process's write lock before failing.
        audit_key: Signs the audit heads (default: ``$AGENTORCH_AUDIT_KEY`` or the key file).
    """

    dialect = "sqlite"
    returning = sqlite3.sqlite_version_info >= (3, 35, 0)
    own_head_checks = True  # BEGIN IMMEDIATE: the write lock is held from the first statement
    rebuilds_rows = True

    def __init__(
        self,
        path: str | os.PathLike[str] = MEMORY,
        *,
        busy_timeout: float = 10.0,
        audit_key: str | bytes | None = None,
    ) -> None:
        memory = str(path) == MEMORY
        if memory and audit_key is None and not os.environ.get(ENV_KEY):
            # The database dies with this process: a key of its own, no key file written.
            audit_key = secrets.token_bytes(32)
        super().__init__(audit_key)
        if memory:
            self.url = "sqlite://:memory:"
            target = MEMORY
        else:
            file = Path(path).expanduser().resolve()
            self.url = f"sqlite:///{file}"
            with _OPEN_FILES_LOCK:
                if not _OPEN_FILES.get(str(file)):
                    _check_header(file)
                try:
                    file.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(
                        f"cannot create the folder for the store {file}: {exc}"
                    ) from exc
                _OPEN_FILES[str(file)] = _OPEN_FILES.get(str(file), 0) + 1
            target = str(file)
        self.path = target
        try:
            self._connect(target, busy_timeout, memory)
        except BaseException:
            _release(target)
            raise

    def _connect(self, target: str, busy_timeout: float, memory: bool) -> None:
        try:
            self._conn = sqlite3.connect(
                target,
                timeout=busy_timeout,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # guarded by self._lock
                cached_statements=256,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {self.url}: {exc}") from exc
        try:
            self._open(busy_timeout, memory)
        except BaseException:
            self._conn.close()
            raise
        self._checkpointer: _Checkpointer | None = None
        if not memory:
            # WAL checkpoints fsync the database; a thread of ours does them, so a commit on the
            # run's event loop never waits for one. SQLite's own auto-checkpoint stays as a
            # (much larger) safety net for when this thread is not running.
            self._conn.execute(f"PRAGMA wal_autocheckpoint = {_AUTOCHECKPOINT_PAGES}")
            self._checkpointer = _Checkpointer(target, busy_timeout)

    def _open(self, busy_timeout: float, memory: bool) -> None:
        conn = self._conn
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            found = self._inspect()
            # Nothing above wrote to the file; refuse a newer schema before anything does.
            schema.check_not_newer(found, self.url)
            if not memory:
                self._enable_wal(busy_timeout)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise self._wrap(exc) from exc
        self._migrate(found)

    def _enable_wal(self, busy_timeout: float) -> None:
        """Switch to WAL. SQLite does not call the busy handler for this pragma, so when several
        processes open a new file at once it is retried here until ``busy_timeout``."""
        deadline = time.monotonic() + busy_timeout
        delay = 0.005
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if (
                    "locked" not in str(exc) and "busy" not in str(exc)
                ) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def _inspect(self) -> int:
        """The schema version of the file (0 if empty); refuses a database of someone else."""
        try:
            tables = {
                r[0]
                for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not r[0].startswith("sqlite_")
            }
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not an agentorch store: the file is not a SQLite database or is "
                f"damaged ({exc})",
                hint="point the store at another file; this one was left untouched",
            ) from exc
        if not tables:
            return 0
        ours = set(schema.TABLES)
        if "schema_version" in tables and tables <= ours:
            try:
                row = self._conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path} has a damaged agentorch schema ({exc})") from exc
            found = int(row[0] or 0)
            if found >= 1 and not ours <= tables:
                missing = ", ".join(sorted(ours - tables))
                raise StoreError(
                    f"{self.path} is a damaged agentorch store (missing tables: {missing})"
                )
            return found
        raise StoreError(
            f"{self.path} is a SQLite database of another application, not an agentorch store "
            f"(tables: {', '.join(sorted(tables)[:8])})",
            hint="point the store at another file; this one was left untouched",
        )

    # --- dialect hooks ---------------------------------------------------------------------------

    def _execute(self, sql: str, params: Any = ()) -> Any:
        return self._conn.execute(sql, params)

    def _executemany(self, sql: str, rows: Any) -> None:
        self._conn.executemany(sql, rows)

    def _begin(self, mode: TxMode) -> None:
        if mode == "write":
            self._conn.execute("BEGIN IMMEDIATE")
        elif mode == "snapshot":
            self._conn.execute("BEGIN")

    def _commit(self, mode: TxMode) -> None:
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _close_connection(self) -> None:
        try:
            if self._checkpointer is not None:
                self._checkpointer.stop()
            self._conn.close()
        finally:
            _release(self.path)

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    def _is_fk_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "FOREIGN KEY" in str(exc)

    def _wrap(self, exc: BaseException) -> AgentOrchError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return StoreError(
                f"the store {self.url} is busy: another process held its write lock too long",
                hint="retry, or raise busy_timeout; for many writers on many machines, "
                "use PostgreSQL",
            )
        return StoreError(f"store {self.url}: {text}")


def _release(path: str) -> None:
    with _OPEN_FILES_LOCK:
        left = _OPEN_FILES.get(path, 0) - 1
        if left > 0:
            _OPEN_FILES[path] = left
        else:
            _OPEN_FILES.pop(path, None)


def _check_header(file: Path) -> None:
    """Refuse a file that is not SQLite before sqlite3 gets a chance to touch it."""
    try:
        with file.open("rb") as fh:
            head = fh.read(len(_HEADER))
    except FileNotFoundError:
        return
    except IsADirectoryError as exc:
        raise StoreError(f"{file} is a folder, not a store file") from exc
    except NotADirectoryError as exc:
        blocking = next((p for p in file.parents if p.is_file()), file.parent)
        raise StoreError(
            f"cannot use the store {file}: {blocking} is a file, not a folder",
            hint="point the store at a file inside a folder (or a path where one can be made)",
        ) from exc
    except OSError as exc:
        raise StoreError(f"cannot read the store {file}: {exc}") from exc
    if head and head != _HEADER:
        raise StoreError(
            f"{file} is not an agentorch store: the file is not a SQLite database",
            hint="point the store at another file; this one was left untouched",
        )


#: Pages the WAL may grow to before a commit checkpoints it itself (~80 MB at 4 KiB pages).
_AUTOCHECKPOINT_PAGES = 20_000
#: How often the background checkpointer copies the WAL back into the database.
_CHECKPOINT_EVERY = 0.5


class _Checkpointer:
    """A daemon thread with its own connection that checkpoints the WAL (PASSIVE: never blocks
    writers, never waits for readers) every ``_CHECKPOINT_EVERY`` seconds."""

    def __init__(self, path: str, busy_timeout: float) -> None:
        self._path = path
        self._timeout = busy_timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="agentorch-wal-checkpoint", daemon=True
        )
        self._thread.start()

    def _loop(self) -> None:
        try:
            conn = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None)
        except sqlite3.Error:
            return  # the foreground connection's auto-checkpoint still bounds the WAL
        try:
            while not self._stop.wait(_CHECKPOINT_EVERY):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    continue  # busy or locked this time: the next round tries again
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
