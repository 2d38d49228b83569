"""``read_document`` and ``find_requirements``: input documents and the obligations they state.

Both read Markdown, text, PDF and DOCX the same way; ``find_requirements`` is the deterministic
shredder the offline parser uses and an LLM parser verifies and completes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentorch import ToolContext, tool
from agentorch.documents import find_requirements as shred
from agentorch.documents import read_blocks, read_text
from agentorch.documents.chunks import document_findings, findings_in, part_text
from agentorch.errors import ModelRetry


@tool(risk="read")
def read_document(ctx: ToolContext, path: str, start: int = 0, end: int | None = None) -> str:
    """Read an input document (Markdown, text, PDF or DOCX) and return its text.

    Whatever the file format, headings come back as Markdown headings and every numbered clause
    (3.1, 3.2, ...) or list item on its own line, so requirements can be read line by line.

    Args:
        path: Path of the document, as named in the task's input files.
        start: The first block of the part to read (a step working on one part gives it).
        end: One past the last block of the part; omit it (and start) for the whole document.
    """
    file = resolve_input(ctx, path)
    start, end = _span(ctx, path, start, end)
    if start == 0 and end is None:
        return read_text(file)
    blocks, _ = document_findings(file)
    return part_text(blocks, start, end)


@tool(risk="read")
def find_requirements(
    ctx: ToolContext, path: str, start: int = 0, end: int | None = None
) -> dict[str, Any]:
    """Find the requirement statements of an input document (RFP, SOW, PWS, RFQ), with ids.

    Returns {"title", "statements_seen", "requirements": [{"id", "number", "title", "text",
    "lead_in", "modality", "negative", "section", "location", "due", "flags"}], "excluded":
    [{"text", "section", "location", "reason"}]}: one requirement per obligation of the
    contractor (a shall/must/will/should/may sentence, a list item under a lead-in, a table
    cell, a deliverable with its due date), and the statements kept out (the buyer's own
    obligations, what is stated as not required) with the reason.

    Args:
        path: Path of the document, as named in the task's input files.
        start: The first block of the part to search (a step working on one part gives it):
            the ids are those of the whole document.
        end: One past the last block of the part; omit it (and start) for the whole document.
    """
    start, end = _span(ctx, path, start, end)
    if start != 0 or end is not None:
        whole, findings = document_findings(resolve_input(ctx, path))
        return findings_in(findings, whole, start, end).model_dump()
    blocks = read_blocks(resolve_input(ctx, path))
    ctx.report_progress(0, len(blocks), "blocks read, finding requirements")

    def progress(done: int, total: int) -> None:
        ctx.report_progress(done, total, "blocks shredded")

    return shred(blocks, total=len(blocks), progress=progress).model_dump()


#: ``ToolContext.state`` key: the document part a step works on (``{"file", "start", "end"}``).
PART_KEY = "document_part"


def _span(
    ctx: ToolContext | None, path: str, start: int, end: int | None
) -> tuple[int, int | None]:
    """The blocks to read: as asked, else the step's own part of that file (never the whole
    document by default in a step that works on one part: its model's context is sized for it)."""
    part = ctx.state.get(PART_KEY) if ctx is not None else None
    if start != 0 or end is not None or not isinstance(part, dict):
        return start, end
    if Path(path).name != part.get("file"):
        return start, end
    return int(part["start"]), int(part["end"])


def resolve_input(ctx: ToolContext | None, path: str) -> Path:
    """Resolve ``path`` against ``state["input_dir"]``; enforce ``state["input_roots"]`` if set."""
    state = ctx.state if ctx is not None else {}
    file = Path(path)
    if not file.is_absolute() and state.get("input_dir"):
        file = Path(state["input_dir"]) / file
    roots = state.get("input_roots")
    if roots:
        resolved = file.resolve()
        allowed = [Path(r).resolve() for r in roots]
        if not any(resolved == root or resolved.is_relative_to(root) for root in allowed):
            names = ", ".join(str(r) for r in roots)
            raise ModelRetry(f"refused: {path} is not one of this run's input files ({names})")
    return file
