"""Input documents as text: Markdown, plain text, PDF and DOCX read to one normalised form.

The same document saved as .md, .pdf or .docx reads to the same text, so whatever runs on it
downstream (requirement extraction, a model's prompt) does not depend on the file format. The
supervisor reads ``files=`` with it, and the bundled ``read_document`` tool calls it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from agentorch.documents._blocks import Block
from agentorch.documents.reader import SUPPORTED_SUFFIXES, read_blocks, read_text, text_blocks
from agentorch.documents.requirements import (
    Candidate,
    ExcludedCandidate,
    Findings,
    UnaccountedStatement,
    find_requirements,
)


def read_document(path: str | Path) -> str:
    """The document's normalised text; ``InputFileError`` when missing, empty or unreadable."""
    return read_text(path)


def read_inputs(files: Iterable[str | Path]) -> dict[str, str]:
    """Input files read to text by file name (Markdown, text, PDF, DOCX); a bad file is an error."""
    return {Path(file).name: read_document(file) for file in files}


__all__ = [
    "SUPPORTED_SUFFIXES",
    "Block",
    "Candidate",
    "ExcludedCandidate",
    "Findings",
    "UnaccountedStatement",
    "find_requirements",
    "read_blocks",
    "read_document",
    "read_inputs",
    "read_text",
    "text_blocks",
]
