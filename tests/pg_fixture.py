"""Pytest fixtures for a real PostgreSQL server (register with ``pytest_plugins = ["pg_fixture"]``).

- ``pg_server`` (session): the running ``PostgresServer``; skips with the reason when PostgreSQL
  cannot run here (no binaries, or root with no way to drop privileges).
- ``pg_url`` (function): a URL whose ``search_path`` is a fresh, empty schema, so every test gets
  an independent store.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pgserver import PostgresServer, PostgresUnavailable, postgres_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    try:
        with postgres_server() as server:
            yield server
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    return pg_server.fresh_url()
