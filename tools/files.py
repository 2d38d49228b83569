"""``write_file`` and ``submit_response``: the run's output folder and its submissions outbox in it.

Every path lives under ``ToolContext.state["output_dir"]`` (default ``./out``): a relative path,
or an absolute one inside that folder. A path that leaves it (``../x``, a symlink out, an absolute
path elsewhere) or enters its ``.parts/`` staging folder or its ``submissions/`` outbox (where
only ``submit_response`` files) is refused before any approval is asked, so no approval can let
it through.

A file larger than one call's arguments may carry (the run's tool-argument limit, 1 MB by
default) is written in parts: each part is staged under ``.parts/<run id>/`` in the output folder
and the file appears whole, in one rename, when its last part is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agentorch import ToolContext, tool
from agentorch.errors import ModelRetry, ToolError

#: Content of one call (a whole file, or one part of a file sent in parts).
MAX_BYTES = 10 * 1024 * 1024
#: Parts one file may be sent in.
MAX_PARTS = 10_000
#: Where the parts of a file wait for its last one, inside the output folder.
PARTS_DIR = ".parts"


def _check_path(arguments: dict[str, Any], ctx: ToolContext) -> None:
    """Refuse a path outside the output folder, or parts out of range, before any approval."""
    resolve_output(ctx, arguments["path"])
    part, parts = arguments.get("part", 1), arguments.get("parts", 1)
    if not 1 <= part <= parts <= MAX_PARTS:
        raise ModelRetry(
            f"refused: part {part} of {parts}: parts is 1 to {MAX_PARTS} and part 1 to parts"
        )


@tool(risk="write", idempotent=True, check=_check_path)
def write_file(ctx: ToolContext, path: str, content: str, part: int = 1, parts: int = 1) -> str:
    """Write a text file (UTF-8) into the run's output folder, replacing any earlier version.

    A file too large for one call is sent in parts, in order (part 1, 2, ... parts), each call
    with the next piece of the text; the file appears whole when its last part is written.

    Args:
        path: File path relative to the output folder, e.g. "response.md" or "drafts/3.1.md".
        content: The full text of the file, or of this part of it.
        part: Which part of the file this call sends, from 1 to parts.
        parts: How many parts the file is sent in (1: the whole file in this call).
    """
    _check_path({"path": path, "part": part, "parts": parts}, ctx)
    target = resolve_output(ctx, path)
    data = content.encode("utf-8")
    if len(data) > MAX_BYTES:
        raise ModelRetry(f"refused: content is {len(data)} bytes; the limit is {MAX_BYTES}")
    if target.is_dir():
        raise ModelRetry(f"refused: {path} is a folder; give a file name")
    if parts == 1:
        atomic_write(target, data)
        return str(target)
    staged = _staging(ctx, target)
    if part == 1:
        shutil.rmtree(staged, ignore_errors=True)  # a new write of this file starts over
    elif not (staged / _part_name(part - 1, parts)).is_file():
        if part == parts and _ends_with(target, data) and not staged.exists():
            return str(target)  # the last part again, after the file was put together
        raise ModelRetry(
            f"refused: part {part - 1} of {parts} of {path} was not written first: send the "
            "parts in order, from part 1"
        )
    atomic_write(staged / _part_name(part, parts), data)
    if part < parts:
        return f"part {part} of {parts} of {target} staged; the file is written with part {parts}"
    atomic_write(target, (staged / _part_name(i, parts) for i in range(1, parts + 1)))
    shutil.rmtree(staged, ignore_errors=True)
    _remove_empty(staged.parent, output_dir(ctx).resolve())
    return str(target)


def _part_name(part: int, parts: int) -> str:
    return f"{part:05d}-of-{parts:05d}"


def _staging(ctx: ToolContext | None, target: Path) -> Path:
    """The folder holding the parts of ``target`` written so far, one per run and file."""
    root = output_dir(ctx).resolve()
    run = re.sub(r"[^\w.-]", "_", (ctx.run_id if ctx is not None else "") or "run")
    return root / PARTS_DIR / run / target.resolve().relative_to(root)


def _ends_with(target: Path, data: bytes) -> bool:
    """Whether ``target`` exists and ends with ``data`` (a last part replayed after the join)."""
    if not target.is_file() or target.stat().st_size < len(data):
        return False
    with target.open("rb") as fh:
        fh.seek(target.stat().st_size - len(data))
        return fh.read() == data


def _remove_empty(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to ``root`` (excluded) while they are empty."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


#: ``ToolContext.state`` key: the mandatory requirements still open, set by the submitting step.
GATE_KEY = "submission_gate"


@tool(risk="external", requires_approval=True, idempotent=False, check=_check_path)
def submit_response(
    ctx: ToolContext, path: str, recipient: str, accept_gaps: list[str] | None = None
) -> dict[str, Any]:
    """Submit a finished response document to the buyer. This cannot be undone.

    The document is filed in the submissions outbox with a receipt. Only submit a response a
    person has approved; submitting the same document to the same recipient twice is refused.
    While a mandatory requirement is missing or in conflict, the submission is refused unless
    accept_gaps names every such requirement and a person (not an automatic rule) approved it.

    Args:
        path: The response document in the output folder, e.g. "response.md".
        recipient: Who receives it: the buyer's submission address or portal named in the RFP.
        accept_gaps: Ids of open mandatory requirements a person accepts as exceptions by
            approving this submission, e.g. ["R-3.2"].
    """
    accepted = check_gate(ctx, accept_gaps or [])
    document = resolve_output(ctx, path)
    if not document.is_file():
        raise ModelRetry(f"no such document to submit: {path}; write it with write_file first")
    recipient = " ".join(recipient.split())
    if not recipient or len(recipient) > 200:
        raise ModelRetry("recipient must be a non-empty address or portal name (max 200 chars)")
    data = document.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    receipt_id = "SUB-" + hashlib.sha256(f"{digest}\n{recipient}".encode()).hexdigest()[:12]
    outbox = outbox_dir(ctx)
    receipt_path = outbox / f"{receipt_id}.json"
    copy_path = outbox / f"{receipt_id}-{document.name}"
    receipt: dict[str, Any] = {
        "receipt_id": receipt_id,
        "status": "submitted",
        "recipient": recipient,
        "document": document.name,
        "sha256": digest,
        "bytes": len(data),
        "submitted_copy": str(copy_path),
        "receipt_file": str(receipt_path),
        "run_id": ctx.run_id if ctx is not None else None,
        "accepted_gaps": accepted,
    }
    if receipt_path.exists():
        raise _duplicate(receipt_path)
    atomic_write(copy_path, data)
    body = (json.dumps(receipt, indent=2, sort_keys=True) + "\n").encode()
    if not atomic_write(receipt_path, body, exclusive=True):
        raise _duplicate(receipt_path)
    return receipt


def check_gate(ctx: ToolContext | None, accept_gaps: list[str]) -> list[str]:
    """Refuse while open mandatory requirements are not accepted by name by a person.

    Returns the accepted gaps (those open and named). The open gaps come from the run, through
    ``ctx.state[GATE_KEY]``, never from the model's arguments; whether a person approved comes
    from the runtime's decision (``ctx.approval``), never from the model either.
    """
    gate = ctx.state.get(GATE_KEY) if ctx is not None else None
    open_gaps = [str(g) for g in (gate or {}).get("open_mandatory", [])]
    if not open_gaps:
        return []
    named = {g.strip().upper() for g in accept_gaps}
    unaccepted = [g for g in open_gaps if g.upper() not in named]
    approval = ctx.approval if ctx is not None else None
    listed = ", ".join(open_gaps)
    if unaccepted:
        raise ModelRetry(
            f"refused: mandatory requirement(s) {', '.join(unaccepted)} are missing or in "
            f"conflict; a submission with open mandatory gaps needs a person's approval that "
            f"names them all in accept_gaps ({listed})"
        )
    if approval is None or not approval.approved or approval.automatic:
        who = approval.approver if approval is not None else "nobody"
        raise ModelRetry(
            f"refused: mandatory requirement(s) {listed} are missing or in conflict, and the "
            f"submission was approved by {who}, not by a person; an automatic approval "
            "(--approve-all) never accepts open mandatory gaps on anyone's behalf"
        )
    return [g for g in open_gaps if g.upper() in named]


def _duplicate(receipt_path: Path) -> ToolError:
    existing = json.loads(receipt_path.read_text(encoding="utf-8"))
    return ToolError(
        f"refused: this document was already submitted to {existing.get('recipient')} "
        f"(receipt {existing.get('receipt_id')}); it is not sent twice",
        tool="submit_response",
        kind="duplicate",
        details=existing,
    )


def output_dir(ctx: ToolContext | None) -> Path:
    """The run's output folder: ``state["output_dir"]``, default ``./out``."""
    state = ctx.state if ctx is not None else {}
    return Path(state.get("output_dir") or "out")


def outbox_dir(ctx: ToolContext | None) -> Path:
    """Where submissions go: ``state["outbox_dir"]``, default ``submissions/`` in the output folder.

    Inside the output folder, so a run writes nowhere else (never beside it, e.g. a repository root).
    """
    state = ctx.state if ctx is not None else {}
    configured = state.get("outbox_dir")
    return Path(configured) if configured else output_dir(ctx).resolve() / "submissions"


def resolve_output(ctx: ToolContext | None, path: str) -> Path:
    """``path`` inside the output folder (relative to it, or absolute within it); else refused."""
    if not path.strip() or "\x00" in path:
        raise ModelRetry("refused: give a file name, e.g. 'response.md'")
    root = output_dir(ctx)
    target = root / Path(path)  # an absolute path replaces the root here
    if not target.resolve().is_relative_to(root.resolve()):
        raise ModelRetry(
            f"refused: {path} is outside the output folder {root}/; this tool only writes "
            "inside it: give a path inside it, e.g. 'response.md'"
        )
    inside = target.resolve().relative_to(root.resolve()).parts
    if inside and inside[0].casefold() == PARTS_DIR:  # (casefold: macOS folders ignore case)
        raise ModelRetry(
            f"refused: {path} is in {PARTS_DIR}/, where write_file stages the parts of a large "
            "file until its last part: give another path, e.g. 'response.md'"
        )
    if _in_outbox(target.resolve(), outbox_dir(ctx).resolve()):
        raise ModelRetry(
            f"refused: {path} is in the submissions outbox, where only submit_response files "
            "what was submitted: write the document elsewhere (e.g. 'response.md') and submit it"
        )
    return Path(os.path.normpath(target))


def _in_outbox(target: Path, outbox: Path) -> bool:
    """Whether ``target`` is the outbox or inside it, ignoring case (macOS folders ignore case)."""
    folded, box = target.as_posix().casefold(), outbox.as_posix().casefold()
    return folded == box or folded.startswith(box.rstrip("/") + "/")


def atomic_write(path: Path, data: bytes | Iterable[Path], *, exclusive: bool = False) -> bool:
    """Write ``data`` (bytes, or files to join in order) via a temp file and a rename, so readers
    never see half a file.

    With ``exclusive`` the file is only created if it does not exist yet; returns False if it did.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:
                for piece in data:
                    with piece.open("rb") as src:
                        shutil.copyfileobj(src, fh)
            fh.flush()
            os.fsync(fh.fileno())
        if not exclusive:
            os.replace(tmp, path)
            return True
        try:
            os.link(tmp, path)  # atomic create-if-absent
        except FileExistsError:
            return False
        except OSError:  # no hard links on this filesystem
            if path.exists():
                return False
            os.replace(tmp, path)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
