"""``read_document``: input documents (Markdown, text, PDF, DOCX) as one normalised text form."""

from __future__ import annotations

from pathlib import Path

from agentorch import ToolContext, tool
from agentorch.documents import read_text
from agentorch.errors import ModelRetry


@tool(risk="read")
def read_document(ctx: ToolContext, path: str) -> str:
    """Read an input document (Markdown, text, PDF or DOCX) and return its text.

    Whatever the file format, headings come back as Markdown headings and every numbered clause
    (3.1, 3.2, ...) or list item on its own line, so requirements can be read line by line.

    Args:
        path: Path of the document, as named in the task's input files.
    """
    return read_text(resolve_input(ctx, path))


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
