"""Durable state of runs: ``open_store`` picks SQLite or PostgreSQL from a URL.

>>> store = open_store("sqlite://:memory:")
>>> store.list_runs()
[]
>>> store.close()
"""

from __future__ import annotations

import os

from agentorch.errors import ConfigError
from agentorch.store._audit import GENESIS_HASH, canonical_json, record_hash, verify_chain
from agentorch.store.base import (
    RESUMABLE,
    ApprovalRecord,
    ApprovalStatus,
    AuditRecord,
    AuditVerification,
    JournalEntry,
    JournalKind,
    JournalStatus,
    RunRecord,
    RunStatus,
    StepRecord,
    StepStatus,
    Store,
)
from agentorch.store.postgres import PostgresStore, redact_url
from agentorch.store.schema import SCHEMA_VERSION
from agentorch.store.sqlite import SQLiteStore

__all__ = [
    "DEFAULT_STORE_URL",
    "GENESIS_HASH",
    "RESUMABLE",
    "SCHEMA_VERSION",
    "ApprovalRecord",
    "ApprovalStatus",
    "AuditRecord",
    "AuditVerification",
    "JournalEntry",
    "JournalKind",
    "JournalStatus",
    "PostgresStore",
    "RunRecord",
    "RunStatus",
    "SQLiteStore",
    "StepRecord",
    "StepStatus",
    "Store",
    "canonical_json",
    "open_store",
    "record_hash",
    "verify_chain",
]

#: Where runs go when no store is named (and ``AGENTORCH_STORE`` is not set).
DEFAULT_STORE_URL = "sqlite:///runs.db"

_ACCEPTED = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, path/to/file.db, "
    "sqlite://:memory: (or :memory:), postgresql://user:password@host:5432/dbname"
)
_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def open_store(url: str | os.PathLike[str] | Store | None = None) -> Store:
    """Open (creating or migrating) the store a URL names; a ``Store`` is returned as is.

    Accepted: ``sqlite:///relative.db``, ``sqlite:////abs/path.db``, a bare path ending in
    ``.db``/``.sqlite``/``.sqlite3``, ``sqlite://:memory:`` or ``:memory:``, and
    ``postgresql://...`` / ``postgres://...``. ``None`` means ``$AGENTORCH_STORE`` or
    ``DEFAULT_STORE_URL``.

    Raises:
        ConfigError: The URL is not one of the accepted forms.
        MissingDependencyError: A PostgreSQL URL without psycopg installed.
        StoreError: The store cannot be opened (corrupt or foreign file, newer schema, server down).
    """
    if isinstance(url, Store):
        return url
    if url is None:
        url = os.environ.get("AGENTORCH_STORE") or DEFAULT_STORE_URL
    text = os.fspath(url).strip()
    lowered = text.lower()
    if lowered.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return PostgresStore("postgresql://" + text.split("://", 1)[1])
    if lowered.startswith("sqlite:"):
        return SQLiteStore(_sqlite_path(text))
    if text == ":memory:":
        return SQLiteStore(":memory:")
    if "://" not in text and lowered.endswith(_SQLITE_SUFFIXES):
        return SQLiteStore(text)
    raise ConfigError(f"unknown store URL {redact_url(text)!r}", hint=f"use one of: {_ACCEPTED}")


def _sqlite_path(url: str) -> str:
    rest = url[len("sqlite:") :]
    if rest in ("", "//", "//:memory:", "///:memory:"):
        return ":memory:"
    if rest.startswith("///") and len(rest) > 3:
        return rest[3:]  # sqlite:///rel.db -> rel.db; sqlite:////abs.db -> /abs.db
    raise ConfigError(
        f"bad SQLite store URL {url!r}",
        hint="sqlite:///relative/path.db (three slashes) or sqlite:////absolute/path.db (four)",
    )
