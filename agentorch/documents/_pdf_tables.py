"""Deliverables tables in a PDF's text layer: cells told apart by where their text starts.

A PDF has no table structure, only runs of text drawn at positions, and a table's cells come out
column by column or merged into one line. Here a line drawn in two or more runs is a table line
when its later runs start at column positions that other lines of the page share (a table's
columns are aligned; a styled word inside a sentence is not). Around such lines, the lines that
start at those columns are the table's, and rows are rebuilt from them top to bottom: a line
with text in two or more columns, each opening with a capital, digit or bracket, starts a row;
any other line goes on the cells of the row above (a cell wrapped over several lines, or a row
that a page break cut, continued at the top of the next page).

Only a table whose header names a deliverable and when it is due is rebuilt: a deliverables
table is one requirement per row, and its cells run together as text lose which date belongs to
which deliverable. Other tables (acronyms, labour categories, prices) keep being read as lines,
which the extractor handles as prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ALIGN = 2.0  # points: runs starting this close together start in the same column
_NARROW = 0.38  # a character's width, as a share of the font size, in a narrow font
_ROW_START = re.compile(r"[A-Z0-9\"'$]")
#: A first run that is a list marker ("a.", "1)", "(iv)", a bullet) with its text after a tab.
_DELIVERABLE_HEADER = re.compile(r"(?i)\b(?:deliverables?|reports?|items?|products?)\b")
_DUE_HEADER = re.compile(r"(?i)\b(?:due|dates?|frequency|deadline|schedule)\b")
_MARKER_RUN = re.compile(r"^(?:[-\u2022\u25cf\u25aa\u25cb\uf0b7o]|\(?[A-Za-z0-9]{1,4}[.)])$")


@dataclass(slots=True)
class PdfLine:
    """One line of a page: its text, baseline, font size, and the runs it was drawn in."""

    text: str
    y: float
    size: float
    #: (x where the run starts, its text), in drawing order.
    runs: list[tuple[float, str]] = field(default_factory=list)
    #: The cells of a rebuilt table row, else ``None``.
    cells: list[str] | None = None
    #: A table row that only goes on the row above it (the top of a page inside a table).
    continued: bool = False


def add_run(runs: list[tuple[float, str]], x: float | None, text: str, size: float) -> None:
    """Add drawn text to a line's runs: a run of its own only when it starts clearly after
    where the run before it ends (a cell), not where the text goes on (a styled word, justified
    spacing). Where a run ends is a low estimate from its length, so a gap is a real one."""
    if runs and (x is None or x <= runs[-1][0] + _NARROW * size * len(runs[-1][1]) + size):
        runs[-1] = (runs[-1][0], runs[-1][1] + text)
    elif x is not None:
        runs.append((x, text))


def rebuild_tables(lines: list[PdfLine]) -> list[PdfLine]:
    """The page's lines with each table's lines replaced by one line per rebuilt row."""
    columns = _column_positions(lines)
    if not columns:
        return lines
    out: list[PdfLine] = []
    index = 0
    while index < len(lines):
        if not _is_table_line(lines[index], columns):
            out.append(lines[index])
            index += 1
            continue
        end = _region_end(lines, index, columns)
        rows = _rows(lines[index:end], columns, at_top=index == 0)
        out.extend(rows if rows is not None else lines[index:end])
        index = end
    return out


def _starts(line: PdfLine) -> list[float]:
    """Where the line's later runs start (its first run starts the line)."""
    return [x for x, _ in line.runs[1:]]


def _column_positions(lines: list[PdfLine]) -> list[float]:
    """Positions where a run of a line drawn in several runs starts, on two or more lines."""
    seen: list[float] = []
    shared: list[float] = []
    for line in lines:
        if len(line.runs) < 2 or _MARKER_RUN.match(line.runs[0][1].strip()):
            continue
        for x, _ in line.runs:
            if any(abs(x - s) <= _ALIGN for s in shared):
                continue
            if any(abs(x - s) <= _ALIGN for s in seen):
                shared.append(x)
            else:
                seen.append(x)
    return shared


def _is_table_line(line: PdfLine, columns: list[float]) -> bool:
    if len(line.runs) < 2 or _MARKER_RUN.match(line.runs[0][1].strip()):
        return False
    return all(any(abs(x - c) <= _ALIGN for c in columns) for x in _starts(line))


def _region_end(lines: list[PdfLine], start: int, columns: list[float]) -> int:
    """Where the table that starts at ``start`` ends: after the last line aligned with it."""
    left = lines[start].runs[0][0]
    positions = [left, *columns]
    low = high = lines[start].y
    end = start + 1
    while end < len(lines):
        line = lines[end]
        aligned = all(any(abs(x - p) <= _ALIGN for p in positions) for x, _ in line.runs)
        # lines of a cell sit within the table or just below its lowest line so far
        near = low - 2.4 * max(line.size, 1.0) <= line.y <= high + 0.5 * max(line.size, 1.0)
        if not (aligned and near):
            break
        low, high = min(low, line.y), max(high, line.y)
        end += 1
    return end


def _deliverables_header(cells: list[str]) -> bool:
    """A header with a deliverable's column and a due date's column ("Deliverable | Due Date")."""
    item = next((i for i, c in enumerate(cells) if _DELIVERABLE_HEADER.search(c)), None)
    return item is not None and any(
        _DUE_HEADER.search(c) for i, c in enumerate(cells) if i != item and c
    )


def _rows(lines: list[PdfLine], columns: list[float], *, at_top: bool) -> list[PdfLine] | None:
    """The rows of one table, top to bottom; ``None`` when it is no table after all."""
    positions = sorted({lines[0].runs[0][0], *columns})
    by_y: dict[float, list[tuple[float, str]]] = {}
    sizes: dict[float, float] = {}
    for line in lines:
        key = next((y for y in by_y if abs(y - line.y) < 0.3 * max(line.size, 1.0)), line.y)
        by_y.setdefault(key, []).extend(line.runs)
        sizes[key] = max(sizes.get(key, 0.0), line.size)
    rows: list[list[str]] = []
    tops: list[tuple[float, float]] = []
    continued = False
    for y in sorted(by_y, reverse=True):
        cells = [""] * len(positions)
        for x, text in by_y[y]:
            column = min(range(len(positions)), key=lambda i: abs(positions[i] - x))
            cells[column] = " ".join(f"{cells[column]} {text}".split())
        filled = [c for c in cells if c]
        starts = len(filled) >= 2 and all(_ROW_START.match(c) for c in filled)
        if starts or not rows:
            continued = continued or not (rows or starts)
            rows.append(cells)
            tops.append((y, sizes[y]))
        else:
            rows[-1] = [" ".join(f"{a} {b}".split()) for a, b in zip(rows[-1], cells, strict=True)]
    keep = [i for i in range(len(positions)) if any(row[i] for row in rows[1:])]
    if (
        len(rows) < 2
        or len(keep) < 2
        or not ((continued and at_top) or _deliverables_header(rows[0]))
    ):
        return None
    out = []
    for number, (row, (y, size)) in enumerate(zip(rows, tops, strict=True)):
        cells = [row[i] for i in keep]
        line = PdfLine(" | ".join(cells), y, size, cells=cells)
        line.continued = continued and number == 0
        out.append(line)
    return out
