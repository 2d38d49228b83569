"""PDF layout: deliverables tables (cells told apart by position, a row cut by a page break),
bullet levels from where their glyphs are drawn, lettered items after a colon, a dash at a
line's end."""

from __future__ import annotations

from pathlib import Path

from agentorch.documents import find_requirements, read_blocks, read_text
from agentorch.documents._pdf_tables import PdfLine
from agentorch.documents._pdf_text import _raw_lines

Text = tuple[float, float, str]  # x, y, text drawn there


def pdf(path: Path, pages: list[list[Text]], encoding: str = "utf-8") -> Path:
    """A minimal PDF drawing each text at its position in 11 pt Helvetica, one stream a page.

    Latin-1 ``encoding`` writes a character as its byte: "\u00b7" is the font's bullet."""
    objects: list[bytes] = [b"", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for texts in pages:
        ops = " ".join(
            f"BT /F1 11 Tf 1 0 0 1 {x} {y} Tm ({t.replace('(', '[').replace(')', ']')}) Tj ET"
            for x, y, t in texts
        ).encode(encoding)
        objects.append(b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3"
            f" 0 R >> >> /Contents {len(objects)} 0 R >>".encode()
        )
        kids.append(f"{len(objects)} 0 R")
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


BODY = [
    (72, 740, "SECTION 8 - DELIVERABLES"),
    (72, 715, "The Contractor shall deliver the items below."),
]


def test_a_deliverables_table_drawn_column_by_column_reads_as_rows(tmp_path: Path) -> None:
    # as a word processor draws it: a row's first cell (wrapped) before its second one
    first = [
        *BODY,
        (72, 690, "Deliverable"),
        (320, 690, "Due Date"),
        (72, 670, "Kick-off Meeting"),
        (320, 670, "Within 2 weeks of award"),
        (72, 655, "Identify and Secure Training"),
        (72, 640, "Locations"),
        (320, 655, "Within 4 months of task"),
        (320, 640, "order award"),
        (72, 620, "Off-boarding documentation"),
        (320, 620, "Prior to any work on behalf of"),
    ]
    # the page break cut the last row: its rest opens the next page
    second = [
        (72, 740, "when leaving contract"),
        (320, 740, "HHS"),
        (72, 725, "Final Report"),
        (320, 725, "At contract expiration"),
        (72, 690, "The Contractor shall keep all records."),
    ]
    text = read_text(pdf(tmp_path / "d.pdf", [first, second]))
    assert [line for line in text.splitlines() if " | " in line] == [
        "Deliverable | Due Date",
        "Kick-off Meeting | Within 2 weeks of award",
        "Identify and Secure Training Locations | Within 4 months of task order award",
        "Off-boarding documentation when leaving contract | Prior to any work on behalf of HHS",
        "Final Report | At contract expiration",
    ]
    found = find_requirements(read_blocks(tmp_path / "d.pdf")).requirements
    assert [(r.text, r.due) for r in found if r.due] == [
        ("Kick-off Meeting - Within 2 weeks of award", "Within 2 weeks of award"),
        (
            "Identify and Secure Training Locations - Within 4 months of task order award",
            "Within 4 months of task order award",
        ),
        (
            "Off-boarding documentation when leaving contract - Prior to any work on behalf of HHS",
            "Prior to any work on behalf of HHS",
        ),
        ("Final Report - At contract expiration", "At contract expiration"),
    ]


def test_other_tables_and_runs_of_one_line_stay_text(tmp_path: Path) -> None:
    page = [
        (72, 740, "APPENDIX A: ACRONYMS"),
        (72, 715, "Acronym"),
        (200, 715, "Description"),
        (72, 700, "COR"),
        (200, 700, "Contracting Officer Representative"),
        (72, 685, "SOW"),
        (200, 685, "Statement of Work"),
        # one sentence drawn in two runs (a styled word), the second where the first ends
        (72, 650, "The Contractor shall submit the "),
        (222, 650, "final report on time."),
        (72, 635, "The Contractor shall return the "),
        (222, 635, "badges on the last day."),
    ]
    text = read_text(pdf(tmp_path / "a.pdf", [page]))
    assert " | " not in text
    assert "The Contractor shall submit the final report on time." in text


def test_bullet_levels_come_from_where_the_glyphs_are_drawn(tmp_path: Path) -> None:
    page = [
        (72, 740, "4. TASKS"),
        (90, 715, "-"),  # a bullet glyph, then its text after a tab
        (108, 715, "Identify and secure training locations."),
        (126, 700, "o"),  # Word's second-level bullet
        (144, 700, "The Contractor shall secure training sites using agency space."),
        (90, 685, "-"),
        (108, 685, "The Contractor shall protect all information as follows:"),
        (108, 670, "a. marked appropriately;"),
        (108, 655, "b. disclosed on a need-to-know basis."),
    ]
    path = pdf(tmp_path / "b.pdf", [page])
    assert [(b.depth, b.text) for b in read_blocks(path)][1:] == [
        (0, "- Identify and secure training locations."),
        (1, "- The Contractor shall secure training sites using agency space."),
        (0, "- The Contractor shall protect all information as follows:"),
        (0, "a. marked appropriately;"),
        (0, "b. disclosed on a need-to-know basis."),
    ]
    found = [r.text for r in find_requirements(read_blocks(path)).requirements]
    assert found == [
        "Identify and secure training locations.",
        "The Contractor shall secure training sites using agency space.",
        "marked appropriately;",
        "disclosed on a need-to-know basis.",
    ]


def test_a_title_in_capitals_on_its_own_line_does_not_run_into_its_text(tmp_path: Path) -> None:
    # headings in body-size capitals, no gap before the text: a heading by its words only
    page = [
        (72, 740, "PLACE OF PERFORMANCE"),
        (72, 727, "Work shall be performed Monday through Friday at the agency's offices in"),
        (72, 714, "Bethesda."),
        (72, 701, "TRAINING"),
        (72, 688, "NIH shall provide training in its systems."),
        (72, 675, "KICK-OFF MEETING"),
        (72, 662, "The project manager shall attend a kick-off meeting. THE CONTRACTOR"),
        (72, 649, "SHALL NOT DISCLOSE ANY DATA OF THE AGENCY OR ITS STAFF TO ANY"),
        (72, 636, "THIRD PARTY OR PUBLIC FORUM."),
    ]
    path = pdf(tmp_path / "h.pdf", [page])
    assert [b.text for b in read_blocks(path)] == [
        "PLACE OF PERFORMANCE",
        "Work shall be performed Monday through Friday at the agency's offices in Bethesda.",
        "TRAINING",
        "NIH shall provide training in its systems.",
        "KICK-OFF MEETING",
        "The project manager shall attend a kick-off meeting. THE CONTRACTOR SHALL NOT DISCLOSE"
        " ANY DATA OF THE AGENCY OR ITS STAFF TO ANY THIRD PARTY OR PUBLIC FORUM.",
    ]
    found = [r.text for r in find_requirements(read_blocks(path)).requirements]
    assert found == [
        "Work shall be performed Monday through Friday at the agency's offices in Bethesda.",
        "The project manager shall attend a kick-off meeting.",
        "THE CONTRACTOR SHALL NOT DISCLOSE ANY DATA OF THE AGENCY OR ITS STAFF TO ANY THIRD PARTY"
        " OR PUBLIC FORUM.",
    ]


def test_bullets_the_text_layer_ran_into_one_line_are_items(tmp_path: Path) -> None:
    b = "\u00b7"  # the font's bullet glyph
    page = [
        (72, 740, "4. TASKS"),
        (72, 715, f"The Contractor shall: {b} Develop the training plan {b} Deliver the plan."),
        (72, 690, f"{b} Write the monthly report"),
        (72, 677, "o Include the budget status"),
        (72, 664, "o Include the risks"),
        (72, 626, "The Contractor shall keep the logs."),
        (72, 613, "o Not an item: this line is outside any list."),
    ]
    path = pdf(tmp_path / "i.pdf", [page], encoding="latin-1")
    assert [(b.depth, b.text) for b in read_blocks(path)][1:] == [
        (0, "The Contractor shall:"),
        (0, "- Develop the training plan"),
        (0, "- Deliver the plan."),
        (0, "- Write the monthly report"),
        (1, "- Include the budget status"),
        (1, "- Include the risks"),
        (0, "The Contractor shall keep the logs."),
        (0, "o Not an item: this line is outside any list."),
    ]
    found = [(r.lead_in, r.text) for r in find_requirements(read_blocks(path)).requirements]
    assert found[:3] == [
        ("The Contractor shall:", "Develop the training plan"),
        ("The Contractor shall:", "Deliver the plan."),
        ("The Contractor shall:", "Write the monthly report"),
    ]


def test_items_of_another_glyph_run_into_an_item_are_nested_under_it() -> None:
    line = PdfLine(
        "\u2022 Maintain the archive: \u25aa daily backups \u25aa weekly checks", 700, 11
    )
    after = PdfLine("\u2022 Keep the logs \u2022 Return the badges", 680, 11)
    assert [(r.depth, r.text) for r in _raw_lines([[line, after]])] == [
        (0, "\u2022 Maintain the archive:"),
        (1, "- daily backups"),
        (1, "- weekly checks"),
        (0, "\u2022 Keep the logs"),
        (0, "- Return the badges"),
    ]


def test_a_dash_ending_a_line_inside_a_sentence_is_not_a_bullet(tmp_path: Path) -> None:
    page = [
        (72, 740, "2.1 Acquisition Services"),
        (72, 715, "The Contractor shall support the amendment of solicitations -"),
        (72, 702, "Requests for Quotations and Invitations for Bids to include the following:"),
        (90, 689, "-"),  # a bullet glyph apart from its text
        (108, 689, "Prepare solicitation documents for review; -"),  # the next item's glyph
        (108, 676, "Maintain solicitation files."),
    ]
    path = pdf(tmp_path / "d.pdf", [page])
    assert [b.text for b in read_blocks(path)][1:] == [
        "The Contractor shall support the amendment of solicitations - Requests for Quotations"
        " and Invitations for Bids to include the following:",
        "- Prepare solicitation documents for review;",
        "- Maintain solicitation files.",
    ]
