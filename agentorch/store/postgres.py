"""The team store: the same schema and semantics in PostgreSQL (psycopg 3).

Several processes or machines share runs, approvals and the audit log. One connection per store,
guarded by a lock; the schema lives in the connection's current schema (``search_path``), so a
URL such as ``postgresql://host/db?options=-csearch_path%3Dteam_a`` keeps teams apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from agentorch.errors import AgentOrchError, MissingDependencyError, StoreError
from agentorch.store import schema
from agentorch.store._ledger import SQLLedgerStore
from agentorch.store._sql import TxMode

if TYPE_CHECKING:
    import psycopg

#: Arbitrary constant: the advisory lock that serialises concurrent migrators.
_MIGRATION_LOCK = 7_240_611_923
#: The store never waits inside a transaction, so a session idle in one this long belongs to a
#: paused or hung process: the server ends it, and its row locks never block a run's new owner.
IDLE_IN_TRANSACTION_TIMEOUT_S = 10


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (safe for messages and logs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://***"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[-1]}"))


class PostgresStore(SQLLedgerStore):
    """A store in a PostgreSQL database.

    Args:
        url: A libpq URL, ``postgresql://user:password@host:5432/dbname``. Parameters such as
            ``sslmode`` or ``options`` may follow ``?``. The password never appears in errors.
        connect_timeout: Seconds to wait for the server when connecting.
        audit_key: Signs the audit heads (default: ``$AGENTORCH_AUDIT_KEY`` or the key file).
    """

    dialect = "postgres"
    for_update = " FOR UPDATE"
    for_share = " FOR SHARE"
    # Not FOR UPDATE: a child row's foreign key holds FOR KEY SHARE on the run's row, which
    # this lock (like any UPDATE of the row's other columns) does not wait for.
    lock_row = " FOR NO KEY UPDATE"

    def __init__(
        self, url: str, *, connect_timeout: int = 10, audit_key: str | bytes | None = None
    ) -> None:
        super().__init__(audit_key)
        try:
            import psycopg
        except ImportError as exc:
            raise MissingDependencyError(
                "the PostgreSQL store needs psycopg 3",
                hint="pip install 'agentorch[postgres]'",
            ) from exc
        self._psycopg = psycopg
        self.url = redact_url(url)
        self._conninfo = url
        self._connect_timeout = connect_timeout
        self._conn = self._connect()
        try:
            self._migrate(self._inspect())
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> psycopg.Connection[Any]:
        psycopg = self._psycopg
        try:
            params = psycopg.conninfo.conninfo_to_dict(self._conninfo)
        except psycopg.ProgrammingError as exc:
            raise StoreError(f"invalid PostgreSQL URL {self.url}: {exc}") from exc
        params.setdefault("connect_timeout", self._connect_timeout)
        params.setdefault("application_name", "agentorch")
        idle = f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_S * 1000}"
        params["options"] = f"{params.get('options') or ''} {idle}".strip()
        try:
            return psycopg.connect(autocommit=False, **params)
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to the PostgreSQL store {self.url}: {str(exc).strip()}",
                hint="is the server running and the URL right?",
            ) from exc

    def _inspect(self) -> int:
        """The schema version in the current schema (0 if none); refuses clashing tables."""
        with self._tx("read"):
            row = self._x("SELECT current_schema()").fetchone()
            if row is None or row[0] is None:
                raise StoreError(
                    f"the PostgreSQL store {self.url} has no usable schema: the search_path names "
                    "a schema that does not exist",
                    hint="create the schema first (CREATE SCHEMA ...) or fix options=-csearch_path",
                )
            tables = {
                r[0]
                for r in self._x(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                ).fetchall()
            }
            if "schema_version" not in tables:
                clash = sorted(tables & set(schema.TABLES))
                if clash:
                    raise StoreError(
                        f"the PostgreSQL store {self.url} already has table(s) "
                        f"{', '.join(clash)} not created by agentorch",
                        hint="use a separate database or schema (options=-csearch_path%3D...)",
                    )
                return 0
            found = self._x("SELECT MAX(version) FROM schema_version").fetchone()[0]
        return int(found or 0)

    # --- dialect hooks ---------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return _to_format(sql)

    def _execute(self, sql: str, params: Any = ()) -> Any:
        return self._conn.execute(sql, params)

    def _executemany(self, sql: str, rows: Any) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(sql, rows)

    def _begin(self, mode: TxMode) -> None:
        # A broken connection (server restart, network drop) is replaced between transactions.
        if self._conn.broken or self._conn.closed:
            self._conn = self._connect()

    def _commit(self, mode: TxMode) -> None:
        self._conn.commit()

    def _rollback(self) -> None:
        if not self._conn.closed:
            self._conn.rollback()

    def _close_connection(self) -> None:
        self._conn.close()

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        return (self._psycopg.Error,)

    def _is_fk_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, self._psycopg.errors.ForeignKeyViolation)

    def _wrap(self, exc: BaseException) -> AgentOrchError:
        if isinstance(exc, self._psycopg.OperationalError):
            return StoreError(
                f"the PostgreSQL store {self.url} failed: {str(exc).strip()}",
                hint="is the server still running?",
            )
        return StoreError(f"store {self.url}: {str(exc).strip()}")

    def _migration_lock(self) -> None:
        self._x("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))


_FORMAT_CACHE: dict[str, str] = {}


def _to_format(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s`` (our SQL has no literal ``?`` or ``%``)."""
    converted = _FORMAT_CACHE.get(sql)
    if converted is None:
        converted = _FORMAT_CACHE[sql] = sql.replace("?", "%s")
    return converted
