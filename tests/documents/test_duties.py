"""Duties stated without a subject and lists the obligation stands apart from: task lists of bare
verbs, duties after an opening phrase, present-tense duties, a run of tasks in one paragraph."""

from __future__ import annotations

import pytest

from agentorch.documents import Findings, find_requirements, text_blocks
from agentorch.documents._duties import IMPERATIVE, is_imperative
from agentorch.documents._statements import classify, list_apart


def shred(text: str) -> Findings:
    return find_requirements(text_blocks(text))


def rows(text: str) -> list[tuple[str, str]]:
    return [(r.modality, r.text) for r in shred(text).requirements]


@pytest.mark.parametrize(
    "sentence",
    [
        "Assure the solicitation includes all appropriate solicitation terms and conditions.",
        "Release solicitation by electronic posting.",
        "Distribute contract to appropriate parties.",
        "Process contractor invoices, including contract funding status management.",
        "Presents and interprets data for senior staff.",
        "Analyzes the results of each survey.",
        "Prior to release of solicitation, verify that funds are available.",
        "Market the program to eligible facilities.",
    ],
)
def test_a_task_opens_with_a_verb(sentence: str) -> None:
    assert is_imperative(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Typically, these meetings are held bi-weekly or monthly.",
        "Failure to do so is a breach.",
        "Reports are due on the fifth day.",
        "Examples of local travel include trips to the campus.",
        "Your cover page is not included in the page limit.",
        "Please note that teaming and subcontracting are not the same.",
        "Due every other Monday by 9:00 AM.",
        "Additional copies are available.",
        "Acquisitions are processed under negotiated procedures.",
        "the work continues.",
    ],
)
def test_a_subject_noun_or_adverb_is_no_task(sentence: str) -> None:
    assert not is_imperative(sentence)


def test_an_instruction_after_an_opening_phrase_is_one() -> None:
    assert IMPERATIVE.match(
        "In collaboration with procurement and program staff, provide support functions:"
    )
    assert IMPERATIVE.match("Prior to release of solicitation, verify that funds are available.")
    assert not IMPERATIVE.match("In collaboration with the COR, the Government will decide.")
    statement = classify("Prior to release of solicitation, verify that funds are available.")
    assert (statement.modality, statement.imperative) == ("must", True)


def test_every_sentence_of_a_task_item_under_a_lead_in_is_a_task() -> None:
    text = (
        "In collaboration with procurement and program staff, provide support contract functions "
        "to include:\n\n"
        "- Solicitations. Prepare Requests for Quotes in the contract writing system. Assure the "
        "solicitation includes all appropriate terms. Release solicitation by electronic "
        "posting.\n"
        "- Statements of Work (SOW). Provide consultation to program managers.\n"
        "- Expert assistance in supporting proposal evaluations, including price analysis. "
        "Distribute contract to appropriate parties. Typically, awards are made in June.\n"
    )
    found = shred(text)
    assert [(r.modality, r.text) for r in found.requirements] == [
        ("must", "Prepare Requests for Quotes in the contract writing system."),
        ("must", "Assure the solicitation includes all appropriate terms."),
        ("must", "Release solicitation by electronic posting."),
        ("must", "Provide consultation to program managers."),
        ("must", "Expert assistance in supporting proposal evaluations, including price analysis."),
        ("must", "Distribute contract to appropriate parties."),
    ]
    # the run-in titles ("Solicitations.", "Statements of Work (SOW).") are titles, not rows
    assert found.requirements[4].lead_in.startswith("In collaboration with procurement")


def test_tasks_after_a_duty_in_one_paragraph_are_tasks_too() -> None:
    text = (
        "1. Contract administration\n\n"
        "The Contractor shall support the Contracting Officer. Monitor contractor compliance "
        "with terms of the contract. Reconcile invoices monthly. Typically, these tasks take "
        "a day.\n\n"
        "2. Background\n\n"
        "The office was founded in 1836. Monitor the news.\n"
    )
    assert rows(text) == [
        ("must", "The Contractor shall support the Contracting Officer."),
        ("must", "Monitor contractor compliance with terms of the contract."),
        ("must", "Reconcile invoices monthly."),
        ("must", "Monitor the news."),
    ]


def test_a_bare_task_verb_outside_any_task_list_is_no_requirement() -> None:
    # "Process" reads as a noun at a sentence's start; only a task list makes it a duty
    assert rows("Process improvements follow the annual review.\n") == []


def test_a_list_whose_clause_has_no_obligation_yields_no_rows() -> None:
    lead = (
        "The following legal holidays are observed by the Federal government and the contractor "
        "shall not report for work on these holidays."
    )
    assert list_apart(lead)
    assert not list_apart("The Contractor shall provide the following:")
    assert not list_apart("The following tasks are required to be performed:")
    found = shred(f"{lead}\n\n- New Year's Day - January 1st\n- Veterans Day - November 11th\n")
    assert [(r.modality, r.negative, r.text) for r in found.requirements] == [("must", True, lead)]


def test_the_contractors_work_in_a_paragraph_about_acceptance_is_the_contractors() -> None:
    text = (
        "The work product delivered by the contractor will be reviewed and approved by the "
        "Contracting Officer. The work performed shall be in conformance with all regulations. "
        "Discussion topics shall include the schedule.\n"
    )
    assert rows(text) == [
        ("must", "The work performed shall be in conformance with all regulations.")
    ]


def test_an_office_of_the_buyer_and_an_institute_acronym_are_the_buyer() -> None:
    text = (
        "The National Institutes of Health (NIH) runs the program. "
        "The Office of Acquisitions (OA) is responsible for the acquisitions programs. "
        "NIH shall provide training in its systems. "
        "The contractor's home office will provide contract support.\n"
    )
    assert rows(text) == [("must", "The contractor's home office will provide contract support.")]


def test_an_optional_duty_without_to_and_with_two_verbs_is_may() -> None:
    text = (
        "Local travel may be required in order to meet the scope of services. "
        "A Contractor employee with an approved laptop may be allowed and/or required to "
        "telework from home.\n"
    )
    assert rows(text) == [
        ("may", "Local travel may be required in order to meet the scope of services."),
        (
            "may",
            "A Contractor employee with an approved laptop may be allowed and/or required to "
            "telework from home.",
        ),
    ]


def test_needing_to_and_requiring_that_the_contractor_are_obligations() -> None:
    text = (
        "Technical Architects will need to be on site at the agency twice a week. "
        "The co-coordinator may need to meet with teams during that time. "
        "The investigation procedures require that the Contractor submit background forms.\n"
    )
    assert [m for m, _ in rows(text)] == ["must", "may", "must"]


def test_items_after_a_task_item_in_one_list_are_tasks() -> None:
    text = (
        "## TASKS\n\n"
        "- Develop the curriculum for the three sessions.\n"
        "- Tabulate the evaluation results after each session.\n"
        "- Curate the reading list.\n\n"
        "## OUTPUTS\n\n"
        "- Curate the reading list.\n"
    )
    # the last list has no task before it: "Curate" (no instruction verb) is not taken alone
    assert rows(text) == [
        ("must", "Develop the curriculum for the three sessions."),
        ("must", "Tabulate the evaluation results after each session."),
        ("must", "Curate the reading list."),
    ]


def test_a_title_in_title_case_or_a_role_noun_is_no_task() -> None:
    assert not is_imperative("Contractor Non-Disclosure Agreement (NDA).")
    assert not is_imperative(
        "Contractor Responsibilities Upon Physical Completion of the Contract."
    )
    assert not is_imperative("Offeror names its key personnel.")
    assert is_imperative("Prepare Request for Quotes (RFQs) in the Purchase Request System.")
    assert is_imperative("Administer the contract file.")
