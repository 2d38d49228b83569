"""Where the command writes: ``--output DIR``, ``--events FILE``, ``audit export -o FILE``.

One rule for all of them, checked before anything runs so a bad path never leaves a failed run
behind: missing folders on the way are created; a file where a folder is needed (or a folder
where a file is), or a folder nobody may write in, is a one-line error naming the option.
"""

from __future__ import annotations

import os
from pathlib import Path

from agentorch.errors import UserError


def check_output_folder(option: str, folder: str | None) -> None:
    """``folder`` can be the run's output folder: an existing folder, or one that can be made."""
    if not folder:
        return
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise UserError(
            f"{option} {folder} is a file, not a folder",
            hint="pass a folder for the run's output; missing folders are created",
        )
    _check_parents(
        option, folder, path, "pass a folder for the run's output; missing folders are created"
    )


def check_output_file(option: str, file: str | None, what: str) -> None:
    """``file`` can be written (``what``: e.g. "the events"): not a folder, its folder makeable."""
    if not file:
        return
    path = Path(file)
    hint = f"pass a file name for {what}; missing folders are created"
    if path.is_dir():
        raise UserError(f"{option} {file} is a folder, not a file", hint=hint)
    _check_parents(option, file, path, hint)


def _check_parents(option: str, given: str, path: Path, hint: str) -> None:
    """The nearest existing folder at or above ``path`` is a folder this process may write in."""
    target = path
    nearest = target if target.is_dir() else target.parent
    while not nearest.exists():
        nearest = nearest.parent
    if not nearest.is_dir():
        raise UserError(f"{option} {given}: {nearest} is a file, not a folder", hint=hint)
    writable = target if target.is_file() else nearest
    if not os.access(writable, os.W_OK | (0 if target.is_file() else os.X_OK)):
        raise UserError(
            f"{option} {given}: cannot write {writable.absolute()} (permission denied)", hint=hint
        )
