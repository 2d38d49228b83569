"""The store's schema and its versioned migrations, shared by SQLite and PostgreSQL.

Migrations are ``(version, sql)`` pairs in dialect-neutral SQL with a few placeholders that each
dialect fills in (``{id}`` for an auto-increment key, ``{real}`` for a double). They are applied
in order (all pending ones in one transaction) and recorded in ``schema_version``. A store whose
version is newer than ``SCHEMA_VERSION`` is refused untouched.

Fields of a record without a column of their own live in the row's ``extra`` JSON column, so a
field added to a record needs no migration. JSON values are stored as TEXT in both dialects
(compact JSON; the audit payload in exactly the canonical spelling that was hashed). In
PostgreSQL, ``payload::jsonb`` makes them queryable.
"""

from __future__ import annotations

from agentorch.errors import StoreError

#: Dialect-specific spellings of the placeholders used in the migrations.
DIALECTS: dict[str, dict[str, str]] = {
    "sqlite": {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "real": "REAL"},
    "postgres": {
        "id": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        "real": "DOUBLE PRECISION",
    },
}

#: Tables agentorch owns (used to tell our store from someone else's database).
TABLES = ("schema_version", "runs", "steps", "journal", "approvals", "events")

_V1 = """
CREATE TABLE runs (
    id {id},
    run_id TEXT NOT NULL UNIQUE,
    task TEXT NOT NULL,
    status TEXT NOT NULL,
    workflow TEXT,
    spec TEXT NOT NULL,
    policy_hash TEXT,
    budget TEXT NOT NULL,
    plan TEXT,
    output TEXT,
    error TEXT,
    usage TEXT NOT NULL,
    created_at {real} NOT NULL,
    updated_at {real} NOT NULL,
    lease_owner TEXT,
    lease_until {real},
    audit_seq INTEGER NOT NULL DEFAULT 0,
    audit_head TEXT NOT NULL,
    extra TEXT NOT NULL
);
CREATE INDEX runs_created ON runs (created_at, id);
CREATE INDEX runs_status ON runs (status, created_at);
CREATE TABLE steps (
    id {id},
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    status TEXT NOT NULL,
    revision INTEGER NOT NULL,
    instruction TEXT NOT NULL,
    output TEXT,
    error TEXT,
    usage TEXT NOT NULL,
    context_tokens INTEGER NOT NULL,
    started_at {real},
    finished_at {real},
    extra TEXT NOT NULL,
    UNIQUE (run_id, step_id)
);
CREATE TABLE journal (
    id {id},
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    step_id TEXT,
    name TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    idempotent BOOLEAN NOT NULL,
    request TEXT,
    result TEXT,
    error TEXT,
    usage TEXT NOT NULL,
    started_at {real} NOT NULL,
    finished_at {real},
    extra TEXT NOT NULL,
    UNIQUE (run_id, key)
);
CREATE TABLE approvals (
    id {id},
    request_id TEXT NOT NULL UNIQUE,
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_id TEXT,
    agent TEXT,
    subject TEXT NOT NULL,
    tool TEXT,
    arguments TEXT NOT NULL,
    risk TEXT,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    approver TEXT,
    decided_arguments TEXT,
    comment TEXT NOT NULL,
    created_at {real} NOT NULL,
    decided_at {real},
    extra TEXT NOT NULL
);
CREATE INDEX approvals_run ON approvals (run_id, status);
CREATE TABLE events (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ts {real} NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
)
"""

#: v2: the run's audit head is signed with the audit key (HMAC-SHA256, never stored here);
#: existing rows are recorded in the chain and heads signed by the store's ``_after_migration``.
_V2 = """
ALTER TABLE runs ADD COLUMN audit_mac TEXT
"""

#: v3: the lease's fencing token, raised by every acquisition, checked by every write of the owner.
_V3 = "ALTER TABLE runs ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0"

#: Every migration, in order. Append new ones; never edit a released one.
MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _V1), (2, _V2), (3, _V3))

SCHEMA_VERSION: int = MIGRATIONS[-1][0]

CREATE_VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version "
    "(version INTEGER PRIMARY KEY, applied_at {real} NOT NULL)"
)


def statements(sql: str, dialect: str) -> list[str]:
    """Split one migration into statements with the dialect's placeholders filled in."""
    filled = sql.format(**DIALECTS[dialect])
    return [part.strip() for part in filled.split(";") if part.strip()]


def pending(current: int, dialect: str) -> list[tuple[int, list[str]]]:
    """The migrations after ``current``, as statements for ``dialect``."""
    return [(v, statements(sql, dialect)) for v, sql in MIGRATIONS if v > current]


def check_not_newer(found: int, where: str) -> None:
    """Refuse a store written by a newer agentorch, before anything touches it."""
    if found > SCHEMA_VERSION:
        from agentorch import __version__

        raise StoreError(
            f"{where} was created by a newer agentorch (schema v{found}); this is "
            f"v{SCHEMA_VERSION} (agentorch {__version__}) — upgrade agentorch",
            hint="pip install -U agentorch",
        )
