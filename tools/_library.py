"""The approved-answer library: answers a bid team has approved for reuse, and how they load.

A library is a folder (or one file) of entries in either format:

- ``*.md``: one answer per file; TOML front matter between ``+++`` lines, the answer text below.
- ``*.jsonl``: one answer per line, a JSON object with the same fields plus ``text``.

``README.md`` files in the folder are documentation, not answers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agentorch.errors import ConfigError

Category = Literal["technical", "security", "sla", "pricing", "legal", "company"]
CATEGORIES: tuple[str, ...] = ("technical", "security", "sla", "pricing", "legal", "company")

#: Bumped when the index layout changes, so old cached indexes are not reused.
INDEX_VERSION = "answers-fts5-v1"
LIBRARY_ENV = "AGENTORCH_LIBRARY"

_ITEM = re.compile(r"^(?:[-*+]|\d{1,3}[.)])\s+")
_FRONT_MATTER = re.compile(r"\A\+\+\+[ \t]*\r?\n(.*?)\r?\n\+\+\+[ \t]*(?:\r?\n|\Z)(.*)\Z", re.S)


class ApprovedAnswer(BaseModel):
    """One approved answer, as the bid team wrote and signed it off."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    title: str = Field(min_length=1)
    category: Category
    tags: tuple[str, ...] = ()
    approved: dt.date
    owner: str = Field(min_length=1)
    review_by: dt.date | None = None
    #: Guidance for the bid team (what not to promise, who must sign off); never sent to a buyer.
    usage_notes: str = ""
    text: str = Field(min_length=1)

    @field_validator("category", mode="before")
    @classmethod
    def _lower_category(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


def resolve_library(state: dict[str, Any]) -> Path:
    """The library to use: ``state["library"]``, else ``$AGENTORCH_LIBRARY``, else ``./library``."""
    configured = state.get("library") or os.environ.get(LIBRARY_ENV)
    path = Path(configured) if configured else Path("library")
    if not path.exists():
        raise ConfigError(
            f"approved-answer library not found: {path}",
            hint=f"Set ToolContext.state['library'] or ${LIBRARY_ENV} to a library folder or file.",
        )
    return path


def library_files(library: Path) -> list[Path]:
    """The entry files of a library, in a stable order."""
    if library.is_file():
        return [library]
    files = [
        p
        for p in library.rglob("*")
        if p.is_file()
        and p.suffix.lower() in (".md", ".jsonl")
        and p.name.lower() != "readme.md"
        and not any(part.startswith(".") for part in p.relative_to(library).parts)
    ]
    return sorted(files, key=lambda p: p.relative_to(library).as_posix())


def content_hash(library: Path, files: list[Path]) -> str:
    """A hash of the library's entry files (names and bytes): the index cache key."""
    digest = hashlib.sha256(INDEX_VERSION.encode())
    root = library if library.is_dir() else library.parent
    for file in files:
        digest.update(b"\0" + file.relative_to(root).as_posix().encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()


def load_library(library: Path, files: list[Path] | None = None) -> list[ApprovedAnswer]:
    """Parse and validate every entry; duplicate ids and bad fields are ``ConfigError``s."""
    answers: list[ApprovedAnswer] = []
    seen: dict[str, str] = {}
    for file in library_files(library) if files is None else files:
        for where, raw in _entries(file):
            try:
                answer = ApprovedAnswer.model_validate(raw)
            except ValidationError as exc:
                raise ConfigError(f"invalid approved answer in {where}: {_errors(exc)}") from exc
            if answer.id in seen:
                raise ConfigError(
                    f"duplicate approved-answer id {answer.id!r} in {where} "
                    f"(first defined in {seen[answer.id]})"
                )
            seen[answer.id] = where
            answers.append(answer)
    if not answers:
        raise ConfigError(
            f"approved-answer library has no entries: {library}",
            hint="Add *.md files with +++ TOML front matter or a *.jsonl file.",
        )
    return answers


def _entries(file: Path) -> list[tuple[str, dict[str, Any]]]:
    text = file.read_text(encoding="utf-8-sig")
    if file.suffix.lower() == ".jsonl":
        entries = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{file}:{number}: not valid JSON: {exc.msg}") from exc
            if not isinstance(raw, dict):
                raise ConfigError(f"{file}:{number}: each line must be a JSON object")
            entries.append((f"{file}:{number}", raw))
        return entries
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ConfigError(
            f"{file}: an approved answer starts with TOML front matter between '+++' lines",
            hint='e.g. +++\\nid = "AA-001"\\ntitle = "..."\\n+++\\nThe answer text.',
        )
    try:
        meta = tomllib.loads(match.group(1))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: front matter is not valid TOML: {exc}") from exc
    if "text" in meta:
        raise ConfigError(f"{file}: put the answer text below the front matter, not in 'text'")
    return [(str(file), {**meta, "text": unwrap(match.group(2))})]


def unwrap(body: str) -> str:
    """Markdown paragraphs -> one line each (list items keep their own lines)."""
    paragraphs = []
    for chunk in re.split(r"\n[ \t]*\n", body.strip()):
        lines: list[str] = []
        for line in chunk.splitlines():
            line = line.strip()
            if lines and not _ITEM.match(line):
                lines[-1] += " " + line
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(p for p in paragraphs if p)


def _errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "(entry)"
        parts.append(f"{field}: {error['msg']}")
    return "; ".join(parts)
