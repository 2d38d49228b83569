"""Wordings of an installation SOW and a statement of objectives: who a sentence binds, titles
that open with a verb, list markers run into their text, deliverables scheduled in a list."""

from __future__ import annotations

from pathlib import Path

from test_reader_pdf_tables import pdf

from agentorch.documents import find_requirements, read_blocks, text_blocks
from agentorch.documents._duties import IMPERATIVE, scheduled_deliverable


def rows(text: str) -> list[tuple[str, str]]:
    return [(r.modality, r.text) for r in find_requirements(text_blocks(text)).requirements]


def test_who_a_sentence_binds() -> None:
    text = (
        "# 3 Work\n\n"
        "The effort requires the contractor to complete the hardware documentation.\n\n"
        "The COTR will assist the contractor in obtaining the badges. It is the sole"
        " responsibility of the contractor to insure that each employee has identification.\n\n"
        "All orders for services will be placed by telephone by the authorized government"
        " personnel.\n\n"
        "The moving personnel will be compensated for the holiday.\n\n"
        "These services will be extra and compensation will be based on the call rate.\n\n"
        "Payment of laborers will be based on the time they report to the site.\n\n"
        "Development activities are expected to continue up to the configuration audit.\n\n"
        "The co-coordinator is expected to describe his role to the coaches.\n\n"
        "Review approval requests or contact the recipient if payment cannot be made.\n"
    )
    assert rows(text) == [
        ("must", "The effort requires the contractor to complete the hardware documentation."),
        (
            "must",
            "It is the sole responsibility of the contractor to insure that each employee has"
            " identification.",
        ),
        ("must", "The co-coordinator is expected to describe his role to the coaches."),
        ("must", "Review approval requests or contact the recipient if payment cannot be made."),
    ]


def test_a_verb_with_capitalised_words_alone_is_a_title() -> None:
    assert not IMPERATIVE.match("Work Statement")
    assert not IMPERATIVE.match("Test Plan")
    assert IMPERATIVE.match("Work with the COR to schedule the tests.")
    assert rows("Work Statement\n\nThe contractor shall install the cameras.\n") == [
        ("must", "The contractor shall install the cameras.")
    ]


def test_a_parenthesised_number_run_into_its_text_is_a_marker() -> None:
    text = (
        "The contractor shall:\n\n"
        "(1) Replace the access control panels\n"
        "(2)Replace interfaces for 9-doors\n"
        "(3)Provide programming and training for designated personnel\n"
    )
    assert [r.text for r in find_requirements(text_blocks(text)).requirements] == [
        "Replace the access control panels",
        "Replace interfaces for 9-doors",
        "Provide programming and training for designated personnel",
    ]


def test_a_deliverables_schedule_written_as_a_list() -> None:
    section = "MILESTONES, ADMINISTRATION AND REPORTING"
    for line in (
        "Hardware Documentation - January 5, 2001",
        "Project Status Reports - Weekly",
        "IPB -2/1/2001",
        "PPL- 2/1/2001",
        "Test Plans, Procedures, and Reports - 30 Days prior to beginning of the system test",
    ):
        assert scheduled_deliverable(line, section), line
    assert not scheduled_deliverable("Hardware Documentation - January 5, 2001", "Background")
    assert not scheduled_deliverable("Phase 2 - the upgrade of the cameras", section)


def test_short_schedule_lines_of_a_pdf_are_deliverables(tmp_path: Path) -> None:
    page = [
        (72, 740, "MILESTONES AND REPORTING"),
        (72, 715, "-Test Plans, Procedures, and Reports - 30 Days prior to the system test"),
        (72, 702, "- Hardware Documentation - January 5, 2001"),
        (72, 689, "-Project Status Reports - Weekly"),
        (72, 676, "System Transition Plan - 1/15/2001"),
        (72, 663, "The contractor shall provide all invoices for work that is performed to the"),
        (72, 650, "COTR for processing, with the hours worked by each of its employees and the"),
        (72, 637, "tasks each of them performed in the period the invoice covers, every month."),
    ]
    path = pdf(tmp_path / "s.pdf", [page])
    assert [(r.modality, r.text) for r in find_requirements(read_blocks(path)).requirements] == [
        ("must", "Test Plans, Procedures, and Reports - 30 Days prior to the system test"),
        ("must", "Hardware Documentation - January 5, 2001"),
        ("must", "Project Status Reports - Weekly"),
        ("must", "System Transition Plan - 1/15/2001"),
        (
            "must",
            "The contractor shall provide all invoices for work that is performed to the COTR for"
            " processing, with the hours worked by each of its employees and the tasks each of"
            " them performed in the period the invoice covers, every month.",
        ),
    ]
