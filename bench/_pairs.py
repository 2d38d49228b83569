"""Reading a hand-labelled set of requirement/answer pairs (JSON lines) for a scorer.

Shared by ``python -m bench commitments`` and ``python -m bench addresses``: each line is one
pair with an ``id``; a malformed line, a missing field, a duplicate id or a value the scorer
refuses is a one-line ``PairsError`` naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


class PairsError(ValueError):
    """The labelled set cannot be read; the message names the line."""


def read_pairs(
    path: Path, required: set[str], check: Callable[[dict[str, Any]], str | None]
) -> list[dict[str, Any]]:
    """The pairs in ``path``; ``check`` returns what is wrong with a pair, or None."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PairsError(f"cannot read {path}: {exc.strerror or exc}") from None
    pairs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            pair = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PairsError(f"{path.name}:{number}: not JSON ({exc.msg})") from None
        missing = {"id", *required} - set(pair)
        if missing:
            raise PairsError(f"{path.name}:{number}: missing {', '.join(sorted(missing))}")
        problem = check(pair)
        if problem:
            raise PairsError(f"{path.name}:{number}: {problem}")
        if pair["id"] in seen:
            raise PairsError(f"{path.name}:{number}: duplicate id {pair['id']!r}")
        seen.add(pair["id"])
        pairs.append(pair)
    return pairs
