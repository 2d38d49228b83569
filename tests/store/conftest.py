"""Store fixtures: every contract test runs against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pg_fixture import pg_server, pg_url  # noqa: F401  (fixtures, until the lead registers the plugin)
from store_helpers import Raw

from agentorch.store import Store, open_store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of a fresh, empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def raw(store_url: str) -> Iterator[Raw]:
    """Run SQL straight against the store's database (``?`` placeholders), bypassing the store."""
    if store_url.startswith("sqlite"):
        conn = sqlite3.connect(store_url[len("sqlite:///") :], isolation_level=None)

        def run_sqlite(sql: str, *params: Any) -> list[tuple[Any, ...]]:
            return conn.execute(sql, params).fetchall()

        yield run_sqlite
        conn.close()
        return
    import psycopg

    pg = psycopg.connect(store_url, autocommit=True)

    def run_pg(sql: str, *params: Any) -> list[tuple[Any, ...]]:
        cur = pg.execute(sql.replace("?", "%s"), params)
        return cur.fetchall() if cur.description else []

    yield run_pg
    pg.close()
