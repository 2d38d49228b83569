"""A full-text index of the approved-answer library: SQLite FTS5, BM25 ranking, cached on disk.

The index is built once per library content: its file name carries a hash of the library's files,
so an unchanged library reuses the cached index and any edit builds a new one. Builds write a
temporary file and rename it into place, so concurrent runs never see a half-built index.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._library import INDEX_VERSION, ApprovedAnswer, content_hash, library_files, load_library

CACHE_ENV = "AGENTORCH_CACHE_DIR"

# bm25() weights per FTS column: id (unindexed), title, tags, text. A title hit says most.
_WEIGHTS = (0.0, 6.0, 3.0, 1.0)
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "its",
        "must",
        "of",
        "on",
        "or",
        "our",
        "shall",
        "should",
        "the",
        "this",
        "to",
        "we",
        "what",
        "when",
        "which",
        "will",
        "with",
        "you",
        "your",
    ]
)


@dataclass(frozen=True, slots=True)
class AnswerIndex:
    """A ready index file. ``built`` says whether this call had to build it."""

    path: Path
    key: str
    built: bool


def cache_root(state: dict[str, Any]) -> Path:
    """``state["cache_dir"]``, else ``$AGENTORCH_CACHE_DIR``, else ``~/.cache/agentorch``."""
    configured = state.get("cache_dir") or os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "agentorch"


def open_index(library: Path, cache_dir: Path) -> AnswerIndex:
    """Return the index for the library's current content, building it if needed."""
    files = library_files(library)
    key = content_hash(library, files)
    folder = cache_dir / "answer-index"
    tag = hashlib.sha256(str(library.resolve()).encode()).hexdigest()[:8]
    path = folder / f"{tag}-{key[:24]}.sqlite"
    if path.exists() and _stored_key(path) == key:
        return AnswerIndex(path, key, built=False)
    answers = load_library(library, files)
    folder.mkdir(parents=True, exist_ok=True)
    _build(path, answers, key)
    for stale in folder.glob(f"{tag}-*.sqlite"):
        if stale != path:
            with contextlib.suppress(OSError):  # another process may still have it open
                stale.unlink()
    return AnswerIndex(path, key, built=True)


def search(
    index: AnswerIndex, query: str, *, category: str | None, limit: int
) -> list[dict[str, Any]]:
    """BM25-ranked answers for a free-text query; higher ``score`` is a better match."""
    match = fts_query(query)
    if match is None:
        return []
    sql = (
        "SELECT a.id, a.title, a.category, bm25(answers_fts, ?, ?, ?, ?) AS rank, "
        "snippet(answers_fts, 3, '[', ']', ' ... ', 24) "
        "FROM answers_fts JOIN answers AS a ON a.rowid = answers_fts.rowid "
        "WHERE answers_fts MATCH ? AND (? IS NULL OR a.category = ?) "
        "ORDER BY rank, a.id LIMIT ?"
    )
    with _connect(index.path) as db:
        rows = db.execute(sql, (*_WEIGHTS, match, category, category, limit)).fetchall()
    return [
        {"id": i, "title": t, "category": c, "score": round(-rank, 4), "snippet": s}
        for i, t, c, rank, s in rows
    ]


def get(index: AnswerIndex, answer_id: str) -> dict[str, Any] | None:
    """The full answer with this id (case-insensitive), or ``None``."""
    with _connect(index.path) as db:
        row = db.execute(
            "SELECT data FROM answers WHERE id = ? COLLATE NOCASE", (answer_id.strip(),)
        ).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def all_ids(index: AnswerIndex) -> list[str]:
    """Every answer id in the index, sorted."""
    with _connect(index.path) as db:
        return [r[0] for r in db.execute("SELECT id FROM answers ORDER BY id")]


def fts_query(text: str) -> str | None:
    """Free text -> an FTS5 query: each word quoted (no operator injection), OR-ed for BM25."""
    words = list(dict.fromkeys(re.findall(r"\w+", text.lower())))
    useful = [w for w in words if w not in _STOPWORDS] or words
    return " OR ".join(f'"{w}"' for w in useful) if useful else None


@contextlib.contextmanager
def _connect(path: Path, *, readonly: bool = True) -> Iterator[sqlite3.Connection]:
    uri = path.resolve().as_uri() + ("?mode=ro" if readonly else "?mode=rwc")
    db = sqlite3.connect(uri, uri=True)
    try:
        yield db
    finally:
        db.close()


def _stored_key(path: Path) -> str | None:
    try:
        with _connect(path) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'content_hash'").fetchone()
    except sqlite3.Error:
        return None  # unreadable or foreign file: rebuild over it
    return None if row is None else str(row[0])


def _build(path: Path, answers: list[ApprovedAnswer], key: str) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with _connect(tmp, readonly=False) as db, db:
            # A crash mid-build leaves only the temp file, and a damaged index is rebuilt, so the
            # build can skip SQLite's journal and fsyncs.
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.executescript(
                "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                "CREATE TABLE answers(rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
                " title TEXT NOT NULL, category TEXT NOT NULL, data TEXT NOT NULL);"
                "CREATE VIRTUAL TABLE answers_fts USING fts5("
                "id UNINDEXED, title, tags, text, tokenize='porter unicode61 remove_diacritics 2');"
            )
            db.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?)",
                [("content_hash", key), ("index_version", INDEX_VERSION)],
            )
            for rowid, answer in enumerate(answers, start=1):
                data = answer.model_dump(mode="json")
                db.execute(
                    "INSERT INTO answers(rowid, id, title, category, data) VALUES (?, ?, ?, ?, ?)",
                    (rowid, answer.id, answer.title, answer.category, json.dumps(data)),
                )
                db.execute(
                    "INSERT INTO answers_fts(rowid, id, title, tags, text) VALUES (?, ?, ?, ?, ?)",
                    (rowid, answer.id, answer.title, " ".join(answer.tags), answer.text),
                )
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
