"""Regenerate the document fixtures in tests/data from examples/rfp/rfp.md.

    python tests/data/make_fixtures.py

Writes rfp.pdf (a hand-built PDF: standard Helvetica fonts, wrapped lines, larger headings,
running header and footer), rfp.docx (python-docx, real Heading styles), rfp_encrypted.pdf
(pypdf, AES-256, user password "riverton"), corrupt.pdf, corrupt.docx and empty.md. Needs only
the project's own dependencies (pypdf, python-docx, cryptography for AES).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent.parent / "examples" / "rfp" / "rfp.md"
RUNNING_HEADER = "City of Riverton RFP No. 2025-DIT-017"

# Helvetica advance widths (1/1000 em) for ASCII 32..126, from the Adobe AFM.
_WIDTHS = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
]  # fmt: skip


@dataclass
class Block:
    kind: str  # "h1" | "h2" | "h3" | "p" | "li"
    text: str


def parse_markdown(text: str) -> list[Block]:
    """The small Markdown subset the RFP uses: ATX headings, paragraphs, "- " bullets."""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("p", " ".join(paragraph)))
            paragraph.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif m := re.match(r"^(#{1,3})\s+(.*)$", line):
            flush()
            blocks.append(Block(f"h{len(m.group(1))}", m.group(2).strip()))
        elif line.startswith("- "):
            flush()
            blocks.append(Block("li", line[2:].strip()))
        else:
            paragraph.append(line)
    flush()
    return blocks


# --- PDF ----------------------------------------------------------------------------------------

PAGE_W, PAGE_H, MARGIN = 612, 792, 72
STYLE = {  # kind -> (font, size, space before)
    "h1": ("F2", 18.0, 0.0),
    "h2": ("F2", 14.0, 12.0),
    "h3": ("F2", 12.0, 8.0),
    "p": ("F1", 10.0, 6.0),
    "li": ("F1", 10.0, 2.0),
}


def text_width(text: str, size: float, bold: bool) -> float:
    widths = sum(_WIDTHS[ord(c) - 32] if 32 <= ord(c) < 127 else 556 for c in text)
    return widths * size / 1000 * (1.06 if bold else 1.0)


def wrap(text: str, width: float, size: float, bold: bool) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, size, bold) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def pdf_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    escaped.encode("cp1252")  # the fonts use WinAnsiEncoding; fail loudly on anything else
    return f"({escaped})"


def layout(blocks: list[Block]) -> list[list[str]]:
    """Place blocks on pages; returns each page's content-stream operators."""
    pages: list[list[str]] = [[]]
    y: float = PAGE_H - MARGIN
    bottom = MARGIN + 20
    width = PAGE_W - 2 * MARGIN

    def show(font: str, size: float, x: float, y_pos: float, text: str) -> None:
        pages[-1].append(
            f"BT /{font} {size:g} Tf 1 0 0 1 {x:.2f} {y_pos:.2f} Tm {pdf_string(text)} Tj ET"
        )

    for block in blocks:
        font, size, before = STYLE[block.kind]
        leading = size * 1.3
        indent = 14.0 if block.kind == "li" else 0.0
        text = ("- " + block.text) if block.kind == "li" else block.text
        lines = wrap(text, width - indent, size, font == "F2")
        if pages[-1]:
            y -= before
        # Keep a heading with the first lines that follow it.
        needed = leading * (3 if block.kind.startswith("h") else 1)
        for index, line in enumerate(lines):
            if y - leading < bottom or (index == 0 and y - needed < bottom):
                pages.append([])
                y = PAGE_H - MARGIN
            y -= leading
            show(font, size, MARGIN + (indent if index else 0.0), y, line)
    total = len(pages)
    for number, ops in enumerate(pages, start=1):
        if number > 1:
            ops.insert(
                0,
                f"BT /F1 8 Tf 1 0 0 1 {MARGIN} {PAGE_H - 40} Tm {pdf_string(RUNNING_HEADER)} Tj ET",
            )
        ops.append(
            f"BT /F1 8 Tf 1 0 0 1 {MARGIN} 40 Tm {pdf_string(f'Page {number} of {total}')} Tj ET"
        )
    return pages


def build_pdf(blocks: list[Block]) -> bytes:
    pages = layout(blocks)
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_id = add(b"")
    f1 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    f2 = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    page_ids = []
    for ops in pages:
        data = zlib.compress("\n".join(ops).encode("cp1252"), 9)
        stream = add(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
        )
        page_ids.append(
            add(
                (
                    f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
                    f"/Resources << /Font << /F1 {f1} 0 R /F2 {f2} 0 R >> >> "
                    f"/Contents {stream} 0 R >>"
                ).encode()
            )
        )
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    objects[pages_id - 1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode()

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        xref,
    )
    return bytes(out)


# --- DOCX ---------------------------------------------------------------------------------------


def build_docx(blocks: list[Block], path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "RFP No. 2025-DIT-017"
    for block in blocks:
        if block.kind.startswith("h"):
            document.add_heading(block.text, level=int(block.kind[1]))
        elif block.kind == "li":
            document.add_paragraph(block.text, style="List Bullet")
        else:
            document.add_paragraph(block.text)
    document.save(str(path))


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    from pypdf import PdfReader, PdfWriter

    blocks = parse_markdown(SOURCE.read_text(encoding="utf-8"))
    pdf = build_pdf(blocks)
    (HERE / "rfp.pdf").write_bytes(pdf)
    build_docx(blocks, HERE / "rfp.docx")

    writer = PdfWriter(clone_from=PdfReader(HERE / "rfp.pdf"))
    writer.encrypt(user_password="riverton", owner_password="owner-secret", algorithm="AES-256")
    with (HERE / "rfp_encrypted.pdf").open("wb") as fh:
        writer.write(fh)

    # A PDF cut off mid-file (no xref, no trailer) and a "DOCX" that is not a zip archive.
    (HERE / "corrupt.pdf").write_bytes(pdf[:1500])
    (HERE / "corrupt.docx").write_bytes(b"PK\x03\x04 this is not really a Word document\n" * 20)
    (HERE / "empty.md").write_bytes(b"")
    for name in ("rfp.pdf", "rfp.docx", "rfp_encrypted.pdf", "corrupt.pdf", "corrupt.docx"):
        print(f"wrote {name} ({(HERE / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
