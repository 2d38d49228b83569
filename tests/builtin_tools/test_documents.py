"""read_document: the same RFP as .md, .pdf and .docx reads the same; bad files get clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tools_helpers import DATA, EXAMPLE, make_ctx, tools_module

from agentorch.errors import InputFileError, ModelRetry

documents = tools_module("documents")
from agentorch.documents import read_text  # noqa: E402

RFP_MD = EXAMPLE / "rfp.md"
REQUIREMENT = re.compile(r"^([2-6]\.\d+) ")
REGENERATE = "out of date: run `python tests/data/make_fixtures.py`"


def requirement_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if REQUIREMENT.match(line)]


@pytest.fixture(scope="module")
def md_text() -> str:
    return read_text(RFP_MD)


def test_markdown_rfp_has_sections_and_requirements(md_text: str) -> None:
    headings = [line for line in md_text.splitlines() if line.startswith("## ")]
    assert "## 3. Security and Privacy Requirements" in headings
    assert "## 5. Pricing" in headings
    reqs = requirement_lines(md_text)
    assert len(reqs) >= 25
    assert {r.split(".")[0] for r in reqs} == {"2", "3", "4", "5", "6"}
    # each requirement is one whole line, not cut where the source wrapped it
    assert any(
        r.startswith("4.1 Availability.") and r.endswith("disaster recovery events.") for r in reqs
    )


@pytest.mark.parametrize("name", ["rfp.pdf", "rfp.docx"])
def test_pdf_and_docx_read_exactly_like_markdown(name: str, md_text: str) -> None:
    text = read_text(DATA / name)
    assert requirement_lines(text) == requirement_lines(md_text), f"{name} {REGENERATE}"
    assert text == md_text, f"{name} {REGENERATE}"


def test_pdf_running_header_and_page_numbers_are_dropped() -> None:
    text = read_text(DATA / "rfp.pdf")
    assert "Page 1 of" not in text
    assert "City of Riverton RFP No. 2025-DIT-017" not in text


async def test_read_document_tool(tmp_path: Path) -> None:
    tool = documents.read_document
    assert tool.risk == "read" and tool.idempotent
    assert set(tool.schema().parameters["properties"]) == {"path", "start", "end"}
    text = await tool.invoke({"path": "rfp.docx"}, make_ctx(input_dir=str(DATA)))
    assert text.startswith("# City of Riverton Request for Proposals")


async def test_find_requirements_tool_reports_progress() -> None:
    from agentorch import ToolContext

    seen: list[tuple[int, int, str]] = []
    ctx = ToolContext(
        run_id="r",
        step_id="s",
        agent="parser",
        idempotency_key="k",
        state={"input_dir": str(EXAMPLE)},
        on_progress=lambda done, total, message: seen.append((done, total, message)),
    )
    found = await documents.find_requirements.invoke({"path": "rfp.md"}, ctx)
    assert len(found["requirements"]) == 50 and found["requirements"][0]["location"] == "line 25"
    assert seen and seen[0][1] > 0


async def test_input_roots_confine_reads(tmp_path: Path) -> None:
    ctx = make_ctx(input_roots=[str(DATA / "rfp.pdf")])
    assert "2.1 Cloud hosting." in await documents.read_document.invoke(
        {"path": str(DATA / "rfp.pdf")}, ctx
    )
    with pytest.raises(ModelRetry, match="not one of this run's input files"):
        await documents.read_document.invoke({"path": str(RFP_MD)}, ctx)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.md", "input file not found"),
        ("empty.md", "input file is empty"),
        ("rfp_encrypted.pdf", "PDF file is encrypted"),
        ("corrupt.pdf", "PDF file is corrupt"),
        ("corrupt.docx", "DOCX file is corrupt"),
        ("make_fixtures.py", "unsupported input file type '.py'"),
    ],
)
def test_bad_files_raise_input_file_error(name: str, message: str) -> None:
    with pytest.raises(InputFileError, match=re.escape(message)) as info:
        read_text(DATA / name)
    assert str(DATA / name) in str(info.value)


def test_more_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not a file"):
        read_text(tmp_path)
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0 legacy")
    with pytest.raises(InputFileError) as info:
        read_text(tmp_path / "old.doc")
    assert info.value.hint == "Save it as .docx first."
    (tmp_path / "locked.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    with pytest.raises(InputFileError, match="encrypted or is a legacy Word file"):
        read_text(tmp_path / "locked.docx")
    (tmp_path / "blank.md").write_text("\n\n   \n")
    with pytest.raises(InputFileError, match="no readable text"):
        read_text(tmp_path / "blank.md")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02 abc")
    with pytest.raises(InputFileError, match="binary"):
        read_text(tmp_path / "binary.txt")


def test_scanned_pdf_without_text(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    with (tmp_path / "scan.pdf").open("wb") as fh:
        writer.write(fh)
    with pytest.raises(InputFileError, match="no readable text") as info:
        read_text(tmp_path / "scan.pdf")
    assert "OCR" in (info.value.hint or "")


def test_pdf_with_only_an_owner_password_is_readable(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(DATA / "rfp.pdf"))
    writer.encrypt(user_password="", owner_password="owner-only", algorithm="AES-128")
    with (tmp_path / "restricted.pdf").open("wb") as fh:
        writer.write(fh)
    assert read_text(tmp_path / "restricted.pdf") == read_text(DATA / "rfp.pdf")


def test_markdown_normalisation(tmp_path: Path) -> None:
    source = tmp_path / "doc.md"
    source.write_text(
        "Title\n=====\n\nIntro wrapped\nover two lines with **bold** and a [link](https://x.y).\n"
        "3.1 The Contractor shall comply.\n3.2 The Contractor\u2019s staff \u201cshall\u201d be\n"
        "trained for a period of two\n(2) years covering 2.4\nmillion records.\n\n"
        "* first\n+ second\n\u2022 third\n\n"
        "| Item | Price |\n|---|---|\n| A | $1 |\n\n---\n\n## Pricing ##\n"
        "(a) lettered item\n\n```\ncode  line\n```\n",
        encoding="utf-8",
    )
    assert read_text(source).split("\n") == [
        "# Title",
        "",
        "Intro wrapped over two lines with bold and a link (https://x.y).",
        "",
        "3.1 The Contractor shall comply.",
        "",
        '3.2 The Contractor\'s staff "shall" be trained for a period of two (2) years '
        "covering 2.4 million records.",
        "",
        "- first",
        "- second",
        "- third",
        "",
        "Item | Price",
        "A | $1",
        "",
        "## Pricing",
        "",
        "(a) lettered item",
        "",
        "code line",
        "",
    ]


def test_docx_structure(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Scope", level=2)
    document.add_paragraph("Intro\u00a0text with\ttabs.")
    document.add_paragraph("first step", style="List Number")
    document.add_paragraph("second step", style="List Number")
    document.add_paragraph("a bullet", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("Role", "Rate"), ("Engineer", "$150")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    paragraph = document.add_paragraph("line one")
    paragraph.add_run().add_break()
    paragraph.add_run("1.2 The second clause.")
    document.save(str(tmp_path / "d.docx"))
    assert read_text(tmp_path / "d.docx") == (
        "## Scope\n\nIntro text with tabs.\n\n1. first step\n\n2. second step\n\n- a bullet\n\n"
        "Role | Rate\nEngineer | $150\n\nline one\n\n1.2 The second clause.\n"
    )


def test_facilities_rfp_reads() -> None:
    text = read_text(DATA / "rfp_facilities.md")
    assert len(requirement_lines(text)) >= 20


def test_a_second_rfp_also_reads_the_same_in_every_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("make_fixtures", DATA / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    fixtures = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_fixtures", fixtures)  # its dataclass needs it
    spec.loader.exec_module(fixtures)
    source = DATA / "rfp_facilities.md"
    blocks = fixtures.parse_markdown(source.read_text(encoding="utf-8"))
    (tmp_path / "f.pdf").write_bytes(fixtures.build_pdf(blocks))
    fixtures.build_docx(blocks, tmp_path / "f.docx")
    expected = read_text(source)
    assert read_text(tmp_path / "f.pdf") == expected
    assert read_text(tmp_path / "f.docx") == expected
