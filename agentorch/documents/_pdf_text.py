"""PDF text with layout hints: which lines are headings and where paragraphs start.

pypdf gives text lines; its ``visitor_text`` callback also gives each fragment's position and font
size. From those: lines in a clearly larger font than the body are headings (largest = level 1), a
vertical gap wider than the usual line spacing starts a new paragraph, and lines repeated at the
top or bottom of most pages (running headers, "Page 3 of 9") are dropped.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from agentorch.documents._blocks import MARKER, RawLine
from agentorch.documents._pdf_tables import PdfLine, add_run, rebuild_tables
from agentorch.errors import InputFileError

_LOWER_ITEM = re.compile(r"^\(?[a-z][.)]\s+[a-z]")
#: A bullet glyph inside a line, between two items' texts (never "-" or "o": words use them).
_INLINE_BULLET = re.compile(r"(?<=\S)\s+([\u2022\u25aa\u25cf\u25a0\u25e6\uf0b7\uf0a7])\s+(?=\S)")
_SUB_BULLET = re.compile(r"^o\s+[A-Z]")
_CUE_WORD = re.compile(r"(?i)\b(?:shall|must|will|should|may|required|responsible)\b")
_BULLETS = frozenset("-\u2022\u25cb\u25e6\u25aa\u25cf\u25a0\u2219\u00b7\uf0b7\uf0a7o")
#: A hyphen at a line's end after a word: a dash inside the sentence ("of solicitations -" /
#: "Request for ..."), not a bullet glyph drawn before the next line's item.
_DASH_IN_SENTENCE = re.compile(r"[^\W_] -$")
_HEADING_RATIO = 1.12  # a font this much larger than the body text marks a heading
_GAP_RATIO = 1.3  # a vertical gap this much wider than the usual line spacing starts a paragraph
_SHORT_RATIO = 0.7  # a line this much shorter than a full line, ending a sentence, ends a paragraph
#: A name and what goes with it, split by a spaced dash: "Hardware Documentation - January 5,
#: 2001", "PPL- 2/1/2001", "Project Status Reports - Weekly" (a list line of a schedule).
_NAME_DASH_DUE = re.compile(r"\w(?:\s+-\s*|-\s+)\w")
#: A hyphen run into a capitalised word at a line's start: a bullet without its space.
_GLUED_BULLET = re.compile(r"^-[A-Z][a-z]")
_LIST_RATIO = 0.5  # a line this short ends a paragraph even without punctuation (see below)
#: Words a line can end with only inside a sentence ("... the" / "Contractor shall ...").
_CONTINUES = frozenset(
    re.findall(
        r"\w+",
        "a an the and or of to for in on at by with from as that which who shall must will may"
        " should is are be",
    )
)

_Line = PdfLine


def pdf_lines(file: Path) -> list[RawLine]:
    """Read a PDF's text as raw lines with heading levels and paragraph starts."""
    reader = _open(file)
    try:
        pages = [_page_lines(page) for page in reader.pages]
    except InputFileError:
        raise
    except Exception as exc:
        # pypdf raises many types on damaged content streams; all mean "corrupt" to the user.
        raise _corrupt(file, exc) from exc
    _drop_running_lines(pages)
    _join_rows_across_pages(pages)
    return _raw_lines(pages)


def _corrupt(file: Path, exc: Exception) -> InputFileError:
    return InputFileError(
        f"PDF file is corrupt or not a PDF: {file} ({type(exc).__name__}: {exc})",
        hint="Re-export the PDF from its source application.",
    )


def _open(file: Path) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(str(file))
        encrypted = reader.is_encrypted
    except Exception as exc:
        raise _corrupt(file, exc) from exc
    if encrypted:
        try:
            # Many PDFs are encrypted with an empty user password (owner restrictions only).
            opened = reader.decrypt("")
        except DependencyError as exc:
            raise InputFileError(
                f"PDF file is encrypted with AES and cannot be opened: {file}",
                hint="pip install cryptography, or export an unprotected copy.",
            ) from exc
        except Exception as exc:
            raise _corrupt(file, exc) from exc
        if not opened:
            raise InputFileError(
                f"PDF file is encrypted (password-protected): {file}",
                hint="Export an unprotected copy of the PDF and use that.",
            )
    return reader


def _page_lines(page: Any) -> list[_Line]:
    fragments: list[tuple[str, float, float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], _font: Any, font_size: float) -> None:
        if text:
            m = _multiply(tm, cm)
            fragments.append((text, m[4], m[5], float(font_size) * math.hypot(m[2], m[3])))

    page.extract_text(visitor_text=visit)
    lines: list[_Line] = []
    parts: list[str] = []
    runs: list[tuple[float, str]] = []  # where each drawn run of the line starts, and its text
    y: float | None = None
    size = 0.0
    for text, frag_x, frag_y, frag_size in fragments:
        pieces = text.split("\n")
        for index, piece in enumerate(pieces):
            if index > 0:
                _flush(lines, parts, runs, y, size)
                parts, runs, y, size = [], [], None, 0.0
            if piece.strip():
                if y is None:
                    y = frag_y
                size = max(size, frag_size)
                add_run(runs, frag_x if index == 0 else None, piece, frag_size)
            parts.append(piece)
    _flush(lines, parts, runs, y, size)
    return rebuild_tables(lines)


def _flush(
    lines: list[_Line],
    parts: list[str],
    runs: list[tuple[float, str]],
    y: float | None,
    size: float,
) -> None:
    text = " ".join("".join(parts).replace("\u200b", "").split())
    if not text or y is None:
        return
    last = lines[-1] if lines else None
    if last is not None and abs(last.y - y) < 0.3 * max(size, last.size, 1.0):
        # the same baseline: a link or styled run that the text layer split off its line
        joiner = "" if text[:1] in ".,;:)" else " "
        last.text, last.size = last.text + joiner + text, max(last.size, size)
        for x, run in runs:
            add_run(last.runs, x, run, size)
        return
    lines.append(_Line(text, y, size, list(runs)))


def _multiply(a: list[float], b: list[float]) -> list[float]:
    return [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]


def _drop_running_lines(pages: list[list[_Line]]) -> None:
    """Remove headers/footers: the same line (digits aside) at a page edge on most pages."""
    if len(pages) < 2:
        return

    def key(line: _Line) -> str:
        return re.sub(r"\d+", "#", line.text.lower())

    def edges(lines: list[_Line]) -> list[_Line]:
        return lines[:2] + lines[-2:] if len(lines) > 4 else list(lines)

    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({key(line) for line in edges(lines)})
    needed = max(2, math.ceil(len(pages) / 2))
    running = {k for k, n in counts.items() if n >= needed}
    if not running:
        return
    for lines in pages:
        drop = {id(line) for line in edges(lines) if key(line) in running}
        lines[:] = [line for line in lines if id(line) not in drop]


def _join_rows_across_pages(pages: list[list[_Line]]) -> None:
    """A table row cut by a page break: its rest, at the top of the next page, joins it."""
    for before, page in itertools.pairwise(pages):
        if not (before and page and page[0].continued and before[-1].cells and page[0].cells):
            continue
        last, rest = before[-1], page[0]
        if last.cells is None or rest.cells is None or len(last.cells) != len(rest.cells):
            continue
        last.cells = [
            " ".join(f"{a} {b}".split()) for a, b in zip(last.cells, rest.cells, strict=True)
        ]
        last.text = " | ".join(last.cells)
        del page[0]


def _raw_lines(pages: list[list[_Line]]) -> list[RawLine]:
    all_lines = [line for lines in pages for line in lines]
    if not all_lines:
        return []
    weights: Counter[float] = Counter()
    for line in all_lines:
        weights[round(line.size, 1)] += len(line.text)
    body = weights.most_common(1)[0][0]
    heading_sizes = sorted({s for s in weights if s >= body * _HEADING_RATIO}, reverse=True)
    levels = {s: min(i + 1, 6) for i, s in enumerate(heading_sizes)}

    body_lines = [line for line in all_lines if round(line.size, 1) not in levels]
    full = _percentile([len(line.text) for line in body_lines], 0.9)
    gaps = [
        prev.y - line.y
        for lines in pages
        for prev, line in itertools.pairwise(lines)
        if round(prev.size, 1) == body and round(line.size, 1) == body and prev.y > line.y
    ]
    # Line spacing as a multiple of the font size, so headings' wider spacing is judged fairly.
    leading = statistics.median(gaps) / body if gaps and body > 0 else 0.0

    indents = _bullet_indents(all_lines)
    raw: list[RawLine] = []
    previous: _Line | None = None
    previous_level = -1
    bullet = False  # a bullet glyph drawn on its own: the next line is the item's text
    previous_title = False
    item_depth = -1  # the depth of the bulleted item the text is in, -1 outside one
    for page_number, lines in enumerate(pages, start=1):
        for index, line in enumerate(lines):
            text = line.text.replace("\u200b", "").strip()
            if not text:
                continue
            if line.cells is not None:  # a table row: a block of its own
                where = f"page {page_number}, line {index + 1}"
                raw.append(RawLine(text, new_block=True, where=where))
                previous, previous_level, bullet = line, 0, False
                continue
            if text in _BULLETS:
                bullet = True
                continue
            depth = 0
            if len(line.runs) >= 2 and line.runs[0][1].strip() in _BULLETS:
                # a bullet glyph and its text drawn apart: how far in the glyph is, is its level
                depth = min(range(len(indents)), key=lambda i: abs(indents[i] - line.runs[0][0]))
                if text[:2] == "o ":  # Word's second-level bullet is a letter o
                    line.text = text = "- " + text[2:]
            if bullet:
                line.text, bullet = "- " + text, False
            elif _GLUED_BULLET.match(text):
                line.text = text = "- " + text[1:]  # "-Project Status Reports - Weekly"
            if text[-2:-1] == " " and text[-1:] in _BULLETS and not _DASH_IN_SENTENCE.search(text):
                line.text, bullet = text[:-2], True
            sub = item_depth >= 0 and bool(_SUB_BULLET.match(line.text))
            if sub:
                # Word's "o" sub-bullet drawn in one run with its text, inside a bulleted item
                line.text, depth = "- " + line.text[2:], item_depth + 1
            own = line.runs[0][1].strip()[:1] if line.runs else ""
            own = own if own in _BULLETS else line.text[:1] if line.text[:1] in _BULLETS else ""
            line.text, inline = _inline_items(line.text)
            level = levels.get(round(line.size, 1), 0)
            if level and len(line.text) > 150:
                level = 0  # a long run of large text is emphasis, not a heading
            new_block = previous is None or level != previous_level
            if previous is not None:
                if index == 0:  # across a page break only the text itself can tell
                    new_block = new_block or bool(level)
                else:
                    gap = previous.y - line.y
                    usual = leading * max(line.size, previous.size)
                    new_block = new_block or gap <= 0 or (usual > 0 and gap > usual * _GAP_RATIO)
                if not level:
                    new_block = new_block or _ends_paragraph(previous.text, full, line.text)
            if not level and MARKER.match(line.text):
                new_block = True
            # a title follows a finished sentence or a heading, not the middle of a paragraph
            # in capitals ("... TO THE EXTENT / PERMITTED BY LAW")
            after_break = new_block or previous is None or previous.text[-1:] in '.:;!?)"'
            title = not level and after_break and _caps_title(line.text)
            if title or previous_title:
                # "BACKGROUND" on a line of its own in body-size bold capitals, then its text:
                # a heading by its words only, so it must not run into the paragraph
                new_block = True
            previous_title = title
            if previous is not None and previous.text.endswith(":") and _LOWER_ITEM.match(text):
                new_block = True  # "shall be:" then "a. marked appropriately;"
            if line.text.startswith("- "):
                new_block = True
            where = f"page {page_number}, line {index + 1}"
            raw.append(
                RawLine(line.text, heading=level, new_block=new_block, where=where, depth=depth)
            )
            if sub:
                pass  # its parent item stays the one its siblings nest under
            elif line.text.startswith("- ") or own:
                item_depth = depth
            elif new_block:
                item_depth = -1
            for glyph, piece in inline:
                # items the text layer ran into one line ("... as follows: • A • B"); a
                # glyph other than the line's own bullet marks items nested under it
                nested = bool(own) and glyph != own
                item = depth + 1 if nested else depth
                raw.append(RawLine("- " + piece, new_block=True, where=where, depth=item))
                item_depth = depth if nested or item_depth < 0 else item_depth
            previous, previous_level = line, level
    return raw


def _inline_items(text: str) -> tuple[str, list[tuple[str, str]]]:
    """A line's text before its first bullet glyph inside the line, and the items after it."""
    pieces = _INLINE_BULLET.split(text)
    if len(pieces) < 3:
        return text, []
    items = [(pieces[i], pieces[i + 1].strip()) for i in range(1, len(pieces) - 1, 2)]
    return pieces[0].rstrip(), [(glyph, piece) for glyph, piece in items if piece]


def _bullet_indents(lines: list[_Line]) -> list[float]:
    """Where bullet glyphs drawn apart from their text start, left to right (one per level)."""
    indents: list[float] = []
    for line in lines:
        if len(line.runs) >= 2 and line.runs[0][1].strip() in _BULLETS:
            x = line.runs[0][0]
            if not any(abs(x - seen) <= 3.0 for seen in indents):
                indents.append(x)
    return sorted(indents)


def _caps_title(text: str) -> bool:
    """A short line in capitals with no modal verb and no closing comma: "SCOPE OF WORK",
    "KICK-OFF MEETING", "GOVERNMENT FURNISHED PROPERTY/EQUIPMENT"."""
    words = text.split()
    letters = [c for c in text if c.isalpha()]
    return (
        0 < len(words) <= 12
        and len(letters) >= 4
        and sum(c.isupper() for c in letters) / len(letters) > 0.8
        and text[-1:] not in ",;"
        and not _CUE_WORD.search(text)
        and not text.startswith("- ")
    )


def _ends_paragraph(text: str, full: float, following: str) -> bool:
    """A short line ends its paragraph when it ends a sentence, or when it pairs a name and its
    date or frequency without punctuation ("Hardware Documentation - January 5, 2001", a line of a
    schedule) and the next line starts afresh with a capital."""
    if len(text) >= full * _SHORT_RATIO:
        return False
    if text[-1:] in '.:;!?)"':
        return True
    last = text.rsplit(None, 1)[-1].lower() if text.split() else ""
    return (
        len(text) < full * _LIST_RATIO
        and text[-1:].isalnum()
        and last not in _CONTINUES
        and (following[:1].isupper() or following[:1] == "-")
        and bool(_NAME_DASH_DUE.search(text))
    )


def _percentile(values: list[int], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])
