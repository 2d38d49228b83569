"""Standalone measures' sections in BENCHMARKS.md: each between its own start and end markers."""

from __future__ import annotations

from pathlib import Path


def write_section(report: Path, block: str, start_marker: str, end_marker: str) -> None:
    """Replace the section ``block`` (which spans its markers) in ``report``, or add it.

    A new section goes below ``STANDALONE_MARKER``, where a re-render of the main report
    (``python -m bench``) keeps it.
    """
    from bench.__main__ import STANDALONE_MARKER

    text = report.read_text(encoding="utf-8") if report.is_file() else ""
    start, end = text.find(start_marker), text.find(end_marker)
    if start >= 0 and end > start:
        text = text[:start] + block + text[end + len(end_marker) :].lstrip("\n")
    else:
        if STANDALONE_MARKER not in text:
            text = (text.rstrip("\n") + "\n\n" if text else "") + STANDALONE_MARKER + "\n"
        text = text.rstrip("\n") + "\n\n" + block
    report.write_text(text, encoding="utf-8")
