"""JSONL sink: one JSON object per event and line, readable back with ``read_jsonl``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from agentorch.errors import ConfigError
from agentorch.events.types import BaseEvent, parse_event


class JsonlSink:
    """Appends each event to a file as one line of JSON (``event.model_dump(mode="json")``).

    Each line is flushed as it is written, so a crash loses at most the line being written and
    ``tail -f`` shows events live. Ephemeral events (streamed text) are skipped unless asked for.

    Args:
        path: The file; parent folders are created; an existing file is appended to.
        include_ephemeral: Also write ephemeral events (text deltas).
    """

    def __init__(self, path: str | Path, *, include_ephemeral: bool = False) -> None:
        self.path = Path(path)
        self.include_ephemeral = include_ephemeral
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file: IO[str] | None = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot open the events file {str(self.path)!r}: {exc.strerror or exc}"
            ) from exc

    def __call__(self, event: BaseEvent) -> None:
        if event.ephemeral and not self.include_ephemeral:
            return
        line = event.model_dump_json() + "\n"
        with self._lock:
            if self._file is None:
                return  # closed: late events after the run ended are not an error
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> JsonlSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_jsonl(path: str | Path) -> Iterator[BaseEvent]:
    """Typed events from a JSONL file written by ``JsonlSink`` (blank lines are skipped).

    Raises:
        ConfigError: a line is not a valid event (the message names the line).
    """
    with Path(path).open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield parse_event(json.loads(line))
            except ValueError as exc:  # json.JSONDecodeError and pydantic.ValidationError
                raise ConfigError(f"{path}:{number}: not a valid agentorch event: {exc}") from exc
