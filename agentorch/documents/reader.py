"""Read Markdown, text, PDF and DOCX files into one normalised text form.

The same document saved as .md, .pdf or .docx reads to the same text, so requirement extraction
downstream does not depend on the file format:

- one block (heading, paragraph, list item, numbered clause, table row) per line, blocks
  separated by a blank line;
- headings as Markdown headings (``## 3. Security``), whatever the source format;
- numbered clauses (``3.1``, ``2.``, ``(a)``) and list items always start their own line;
- whitespace collapsed, wrapped lines re-joined, typographic quotes and bullets made plain.

The runtime reuses this module through the ``read_document`` tool; ``read_text`` is its entry point.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agentorch.documents._blocks import Block, RawLine, assemble, render
from agentorch.documents._pdf_text import pdf_lines
from agentorch.errors import InputFileError

SUPPORTED_SUFFIXES: dict[str, str] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".pdf": "pdf",
    ".docx": "docx",
}

_SUPPORTED_HINT = "supported formats: .md, .markdown, .txt, .text, .pdf, .docx"


def read_text(path: str | Path) -> str:
    """Read a document and return its normalised text.

    Raises:
        InputFileError: missing, empty, encrypted, corrupt or unsupported file.
    """
    return render(read_blocks(path))


def read_blocks(path: str | Path) -> list[Block]:
    """Read a document as blocks (headings, paragraphs, list items, table rows) with locations.

    Raises:
        InputFileError: missing, empty, encrypted, corrupt or unsupported file.
    """
    file = Path(path)
    kind = _check_file(file)
    if kind == "pdf":
        lines = pdf_lines(file)
    elif kind == "docx":
        lines = _docx_lines(file)
    else:
        lines = markdown_lines(_read_plain(file))
    blocks = assemble(lines)
    if not blocks:
        hint = "If it is a scanned PDF, run OCR on it first." if kind == "pdf" else None
        raise InputFileError(f"input file has no readable text: {file}", hint=hint)
    return blocks


def text_blocks(text: str) -> list[Block]:
    """Blocks of a document given as text (Markdown or plain), located by line."""
    return assemble(markdown_lines(text))


def _check_file(file: Path) -> str:
    if not file.exists():
        hint = "Check the path; relative paths start at the current directory."
        raise InputFileError(f"input file not found: {file}", hint=hint)
    if not file.is_file():
        raise InputFileError(f"input path is not a file: {file}")
    kind = SUPPORTED_SUFFIXES.get(file.suffix.lower())
    if kind is None:
        hint = "Save it as .docx first." if file.suffix.lower() == ".doc" else _SUPPORTED_HINT
        suffix = file.suffix or "(none)"
        raise InputFileError(f"unsupported input file type {suffix!r}: {file}", hint=hint)
    if file.stat().st_size == 0:
        raise InputFileError(f"input file is empty: {file}")
    return kind


def _read_plain(file: Path) -> str:
    data = file.read_bytes()
    if b"\x00" in data[:4096]:
        raise InputFileError(f"input file is binary, not text: {file}", hint=_SUPPORTED_HINT)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Windows-exported text files are often cp1252; latin-1 decodes anything as a last resort.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


# --- Markdown / plain text ----------------------------------------------------------------------

#: ``# Title``, and ``##4.0 TITLE`` (no space) when a digit or capital letter follows the marks.
_ATX = re.compile(r"^(#{1,6})(?:\s+|(?=[0-9A-Z]))(.*?)(?:\s+#+)?\s*$")
#: A printed page number or running page footer in a text export: "Page 3", "Page 3 of 9", "- 3 -".
_PAGE_LINE = re.compile(r"^(?:page\s+\d+(?:\s+of\s+\d+)?|-\s*\d+\s*-)$", re.I)
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_RULE = re.compile(r"^(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?$")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_EMPHASIS = re.compile(r"(\*\*|__|(?<![\w*])\*(?!\*)|(?<![\w_])_(?!_))(?=\S)(.+?)(?<=\S)\1")
_LIST = re.compile(r"^(?:[*+]|-(?!-))\s+")


def markdown_lines(text: str) -> list[RawLine]:
    """Split Markdown (or plain text) into raw lines with heading levels and block starts."""
    lines: list[RawLine] = []
    new_block = True
    in_fence = False
    in_pipe_table = False
    table_spans: list[tuple[int, int]] | None = None
    current_raw = ""
    # not str.splitlines: it also breaks at form feeds, and a page break is not a paragraph break
    lines_of_text = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, raw in enumerate(lines_of_text, start=1):
        where = f"line {number}"
        if "\f" in raw:  # a page break in a text export: the page's text runs on
            raw = raw.replace("\f", "")
        line = raw.strip()
        previous_raw, current_raw = current_raw, raw
        if not line:
            table_spans = None
            in_pipe_table = False
        if line.startswith(("```", "~~~")):
            in_fence = not in_fence
            new_block = True
            continue
        if not line:
            new_block = True
            continue
        if in_fence:
            lines.append(RawLine(line, new_block=True, where=where))
            continue
        if _PAGE_LINE.match(line):
            continue
        setext = _SETEXT.match(line)
        if setext and lines and not new_block and not lines[-1].heading:
            lines[-1].heading = 1 if setext.group(1).startswith("=") else 2
            lines[-1].new_block = True
            new_block = True
            continue
        if "|" in line and _TABLE_SEPARATOR.match(line):
            # a pipe table's header written without outer pipes ("Item | Due"): a row too
            if lines and not lines[-1].heading and previous_raw.count("|"):
                lines[-1].text = " | ".join(_cells(previous_raw.strip()))
                lines[-1].new_block = True
            in_pipe_table, new_block = True, True
            continue
        spans = _simple_table_spans(raw) if previous_raw.strip() and not new_block else None
        if spans and lines and not lines[-1].heading:
            # a Pandoc simple table: the header above a line of dash groups, one per column
            header = _slice(previous_raw, spans)
            if len(header) > 1:
                lines[-1].text = " | ".join(header)
                lines[-1].new_block = True
            table_spans, new_block = spans, True
            continue
        if table_spans is not None:
            lines.append(RawLine(" | ".join(_slice(raw, table_spans)), new_block=True, where=where))
            continue
        if in_pipe_table and "|" in line:
            lines.append(RawLine(" | ".join(_cells(line)), new_block=True, where=where))
            continue
        in_pipe_table = False
        if _RULE.match(line):
            new_block = True
            continue
        atx = _ATX.match(line)
        if atx:
            heading = RawLine(_inline(atx.group(2)), heading=len(atx.group(1)), new_block=True)
            heading.where = where
            lines.append(heading)
            new_block = True
            continue
        line = line.lstrip(">").strip() if line.startswith(">") else line
        if line.startswith("|"):
            lines.append(RawLine(" | ".join(_cells(line)), new_block=True, where=where))
            new_block = True
            continue
        # a list item's indentation tells its nesting; only comparisons between items use it
        depth = len(raw.expandtabs(4)) - len(raw.expandtabs(4).lstrip())
        line = _LIST.sub("- ", line)
        lines.append(RawLine(_inline(line), new_block=new_block, where=where, depth=depth))
        new_block = False
    return lines


_DASH_GROUPS = re.compile(r"^\s*-{3,}(?:\s+-{3,})+\s*$")


def _simple_table_spans(raw: str) -> list[tuple[int, int]] | None:
    """The column spans of a Pandoc simple table's dash line ("  ----  -----"), else ``None``."""
    if not _DASH_GROUPS.match(raw):
        return None
    return [(m.start(), m.end()) for m in re.finditer(r"-{3,}", raw.expandtabs(4))]


def _slice(raw: str, spans: list[tuple[int, int]]) -> list[str]:
    """A simple-table line cut into cells: each column runs to where the next one starts."""
    raw = raw.expandtabs(4)
    starts = [start for start, _ in spans]
    bounds = zip(starts, [*starts[1:], len(raw)], strict=True)
    return [_inline(raw[a:b].strip()) for a, b in bounds]


def _cells(line: str) -> list[str]:
    return [_inline(c.strip()) for c in line.strip().strip("|").split("|")]


def _inline(text: str) -> str:
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return _EMPHASIS.sub(lambda m: m.group(2), text)


# --- DOCX ---------------------------------------------------------------------------------------


def _docx_lines(file: Path) -> list[RawLine]:
    with file.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        # An OLE container: a password-protected .docx or a legacy .doc renamed.
        raise InputFileError(
            f"DOCX file is encrypted or is a legacy Word file: {file}",
            hint="Remove the password (or save as .docx) and try again.",
        )
    try:
        import docx
        from docx.table import Table

        document = docx.Document(str(file))
        blocks = list(document.iter_inner_content())
    except Exception as exc:
        # python-docx raises a zoo of types on damaged files (BadZipFile, KeyError, lxml errors,
        # PackageNotFoundError); all mean the same to the user.
        raise InputFileError(
            f"DOCX file is corrupt or not a Word document: {file} ({type(exc).__name__}: {exc})",
            hint="Open and re-save it in Word, or export it to PDF.",
        ) from exc
    lines: list[RawLine] = []
    numbered: dict[str, int] = {}
    paragraphs = tables = 0
    for block in blocks:
        if isinstance(block, Table):
            tables += 1
            for number, row in enumerate(block.rows, start=1):
                cells = _row_cells(row)
                if any(cells):
                    where = f"table {tables}, row {number}"
                    lines.append(RawLine(" | ".join(cells), new_block=True, where=where))
            numbered.clear()
            continue
        paragraphs += 1
        style = (block.style.name if block.style is not None else "") or ""
        heading = _docx_heading_level(style)
        prefix = ""
        level = re.search(r"List (?:Bullet|Number|Paragraph)\s*(\d)?$", style)
        depth = 4 * (int(level.group(1)) - 1) if level and level.group(1) else 0
        if style.startswith("List Bullet"):
            prefix = "- "
        elif style.startswith("List Number"):
            numbered[style] = numbered.get(style, 0) + 1
            prefix = f"{numbered[style]}. "
        else:
            numbered.clear()
        parts = block.text.split("\n")
        for index, part in enumerate(parts):
            lead = prefix if index == 0 else ""
            lines.append(
                RawLine(
                    lead + part,
                    heading=heading,
                    new_block=index == 0,
                    where=f"paragraph {paragraphs}",
                    depth=depth,
                )
            )
    return lines


def _row_cells(row: Any) -> list[str]:
    """A table row's cell texts; a merged cell (repeated by python-docx) counts once."""
    cells = list(row.cells)
    unique = [c for i, c in enumerate(cells) if i == 0 or c._tc is not cells[i - 1]._tc]
    return [" ".join(cell.text.split()) for cell in unique]


def _docx_heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading ([1-9])", style)
    return min(int(match.group(1)), 6) if match else 0
