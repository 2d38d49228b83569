"""Opening stores: URL forms, schema creation and migration, and refusing what is not ours."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from store_helpers import make_run

from agentorch.errors import ConfigError, MissingDependencyError, StoreError
from agentorch.store import SCHEMA_VERSION, PostgresStore, SQLiteStore, open_store, schema

# --- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "relative"),
    [
        ("sqlite:///runs.db", "runs.db"),
        ("sqlite:///nested/dir/runs.db", "nested/dir/runs.db"),
        ("runs.db", "runs.db"),
        ("state/runs.sqlite3", "state/runs.sqlite3"),
    ],
)
def test_sqlite_urls_relative_to_the_working_dir(
    url: str, relative: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store(url)
    try:
        assert isinstance(store, SQLiteStore)
        assert store.url == f"sqlite:///{tmp_path / relative}"
        assert (tmp_path / relative).is_file()
    finally:
        store.close()


def test_an_absolute_sqlite_url_has_four_slashes(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/abs.db")  # sqlite:////tmp/.../abs.db
    store.close()
    assert (tmp_path / "abs.db").is_file()


@pytest.mark.parametrize(
    "url", [":memory:", "sqlite://:memory:", "sqlite:///:memory:", "sqlite://"]
)
def test_in_memory_stores(url: str) -> None:
    store = open_store(url)
    make_run(store)
    assert store.url == "sqlite://:memory:"
    assert [r.run_id for r in store.list_runs()] == ["run-1"]
    store.close()


def test_none_means_the_environment_or_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTORCH_STORE", raising=False)
    open_store(None).close()
    assert (tmp_path / "runs.db").is_file()
    monkeypatch.setenv("AGENTORCH_STORE", "sqlite:///from-env.db")
    open_store().close()
    assert (tmp_path / "from-env.db").is_file()


def test_a_store_object_is_passed_through() -> None:
    store = SQLiteStore()
    assert open_store(store) is store
    store.close()


@pytest.mark.parametrize(
    "url", ["mysql://app:s3cret@db.example.com/runs", "runs.txt", "https://example.com/x.db"]
)
def test_unknown_urls_name_the_accepted_forms(url: str) -> None:
    with pytest.raises(ConfigError, match="unknown store URL") as info:
        open_store(url)
    assert "s3cret" not in str(info.value)
    assert info.value.hint is not None
    assert "sqlite:///" in info.value.hint and "postgresql://" in info.value.hint


def test_a_malformed_sqlite_url_explains_the_slashes() -> None:
    with pytest.raises(ConfigError, match="bad SQLite store URL") as info:
        open_store("sqlite:/runs.db")
    assert info.value.hint is not None and "three slashes" in info.value.hint


def test_postgres_without_psycopg_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingDependencyError) as info:
        open_store("postgresql://localhost/runs")
    assert info.value.hint == "pip install 'agentorch[postgres]'"


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError, match="cannot connect") as info:
        open_store("postgresql://app:s3cret@127.0.0.1:1/runs?connect_timeout=2")
    assert "s3cret" not in str(info.value)
    assert "app:***@127.0.0.1:1" in str(info.value)


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgres://", "postgresql+psycopg://", "POSTGRESQL://"])
def test_postgres_url_aliases(scheme: str, pg_url: str) -> None:
    store = open_store(scheme + pg_url.split("://", 1)[1])
    assert isinstance(store, PostgresStore)
    make_run(store)
    store.close()


# --- what is not ours, or too new, is refused untouched ------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_untouched(path: Path, digest: str) -> None:
    assert _digest(path) == digest
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


@pytest.mark.parametrize("header", [b"", b"SQLite format 3\x00"])
def test_a_corrupt_file_is_refused_untouched(tmp_path: Path, header: bytes) -> None:
    path = tmp_path / "runs.db"
    path.write_bytes(header + os.urandom(8192))
    digest = _digest(path)
    with pytest.raises(StoreError, match="not an agentorch store") as info:
        open_store(str(path))
    assert "not a SQLite database" in str(info.value)
    _assert_untouched(path, digest)


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('ACME')")
    conn.commit()
    conn.close()
    digest = _digest(path)
    with pytest.raises(StoreError, match="another application") as info:
        open_store(path.as_posix())
    assert "customers" in str(info.value)
    _assert_untouched(path, digest)


def test_a_newer_sqlite_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    store = open_store(str(path))
    make_run(store)
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (99, 0)")
    conn.commit()
    conn.close()
    digest = _digest(path)
    with pytest.raises(StoreError) as info:
        open_store(str(path))
    assert f"created by a newer agentorch (schema v99); this is v{SCHEMA_VERSION}" in str(
        info.value
    )
    assert "upgrade agentorch" in str(info.value)
    _assert_untouched(path, digest)


def test_a_folder_is_not_a_store(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="folder"):
        open_store(str(tmp_path / "dir.db"))


def test_a_file_where_a_folder_is_needed_is_named(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("notes")
    with pytest.raises(StoreError, match="afile is a file, not a folder") as info:
        SQLiteStore(tmp_path / "afile" / "sub" / "runs.db")
    assert "Errno" not in str(info.value)
    assert (tmp_path / "afile").read_text() == "notes"


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    open_store(str(tmp_path / "runs.db")).close()
    conn = sqlite3.connect(tmp_path / "runs.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


@pytest.mark.postgres
def test_a_newer_postgres_schema_is_refused_untouched(pg_url: str) -> None:
    import psycopg

    open_store(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (99, 0)")
        with pytest.raises(StoreError, match=r"newer agentorch \(schema v99\)"):
            open_store(pg_url)
        versions = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert versions == [*((v,) for v in range(1, SCHEMA_VERSION + 1)), (99,)]


@pytest.mark.postgres
def test_postgres_tables_of_someone_else_are_refused(pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE runs (id SERIAL PRIMARY KEY, job TEXT)")
    with pytest.raises(StoreError, match="not created by agentorch"):
        open_store(pg_url)


@pytest.mark.postgres
def test_postgres_search_path_naming_no_schema_is_explained(pg_url: str) -> None:
    missing = pg_url.split("?")[0] + "?options=-csearch_path%3Dno_such_schema"
    with pytest.raises(StoreError, match="no usable schema"):
        open_store(missing)


# --- creation and migration ----------------------------------------------------------------------


def test_reopening_keeps_the_data(store_url: str) -> None:
    store = open_store(store_url)
    make_run(store)
    store.append_event("run-1", "run_started", 1.0, {})
    store.close()
    again = open_store(store_url)
    assert again.get_run("run-1").run_id == "run-1"
    assert again.verify_audit("run-1").ok
    again.close()


def test_an_older_store_is_migrated_in_place(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(store_url)
    make_run(store)
    store.close()
    later = SCHEMA_VERSION + 1
    notes = "CREATE TABLE notes (id {id}, run_id TEXT NOT NULL, body TEXT NOT NULL, at {real})"
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, (later, notes)))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", later)
    upgraded = open_store(store_url)
    try:
        assert upgraded.get_run("run-1").run_id == "run-1"
        with upgraded.transaction():
            versions = upgraded._x("SELECT version FROM schema_version ORDER BY version")  # type: ignore[attr-defined]
            assert [v for (v,) in versions.fetchall()] == list(range(1, later + 1))
            upgraded._x("INSERT INTO notes (run_id, body) VALUES ('run-1', 'hi')")  # type: ignore[attr-defined]
    finally:
        upgraded.close()


def test_a_background_thread_checkpoints_the_wal(tmp_path: Path) -> None:
    import threading
    import time

    from store_helpers import make_run

    from agentorch.store.sqlite import SQLiteStore

    def checkpointers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "agentorch-wal-checkpoint"]

    before = len(checkpointers())
    store = SQLiteStore(tmp_path / "runs.db")
    try:
        assert len(checkpointers()) == before + 1
        main = tmp_path / "runs.db"
        size = main.stat().st_size
        for i in range(50):  # far below SQLite's own auto-checkpoint threshold
            make_run(store, f"run-{i}")
        deadline = time.monotonic() + 10
        while main.stat().st_size == size and time.monotonic() < deadline:
            time.sleep(0.05)
        assert main.stat().st_size > size  # the WAL's pages reached the database file
    finally:
        store.close()
    assert len(checkpointers()) == before
