"""find_requirements reads a sentence in its paragraph: who "they" are, whose meeting it is, what
an acronym names, where a full stop went missing, how a titled clause is counted."""

from __future__ import annotations

from agentorch.documents import Findings, find_requirements, text_blocks
from agentorch.documents._statements import sentences


def shred(text: str) -> Findings:
    return find_requirements(text_blocks(text))


def rows(text: str) -> list[tuple[str, str, str]]:
    return [(r.id, r.modality, r.text) for r in shred(text).requirements]


def test_a_pronoun_subject_is_whoever_the_sentence_before_was_about() -> None:
    text = (
        "6.0 Deliverables\n\n"
        "The contractor will also assist with documentation. They will contribute to reviews; "
        "they will also produce evidence.\n\n"
        "The Product Owner is the key stakeholder. They are responsible for the vision.\n"
    )
    assert [t for _, _, t in rows(text)] == [
        "The contractor will also assist with documentation.",
        "They will contribute to reviews;",
        "they will also produce evidence.",
    ]
    assert [x.text for x in shred(text).excluded] == ["They are responsible for the vision."]


def test_a_paragraph_about_the_buyers_meeting_keeps_its_agenda_out() -> None:
    text = (
        "The Government will hold a kick-off meeting with the contractor. Ideally, this will be "
        "in person, but it may be done virtually. Discussion topics shall include:\n\n"
        "- Introduction of staff;\n- Understanding of the workflow.\n\n"
        "The Contractor shall attend the kick-off meeting.\n"
    )
    found = shred(text)
    assert [r.text for r in found.requirements] == [
        "The Contractor shall attend the kick-off meeting."
    ]
    assert "Discussion topics shall include:" in [x.text for x in found.excluded]


def test_the_buyers_own_staff_and_acts_done_by_the_buyer_are_excluded() -> None:
    text = (
        "The 18F technical lead is responsible for coordination with stakeholders. "
        "Inspectors must be identified and designated by the CO. "
        "Existing lockers may be used by the Contractor. "
        "The Contractor's project manager shall attend.\n"
    )
    assert [(m, t) for _, m, t in rows(text)] == [
        ("may", "Existing lockers may be used by the Contractor."),
        ("must", "The Contractor's project manager shall attend."),
    ]


def test_an_acronym_the_document_defines_as_a_thing_is_not_the_buyer() -> None:
    text = (
        "The Contractor shall submit its Quality Control Plan (QCP) within ten days. "
        "The QCP shall include, at a minimum, the following:\n\n"
        "A. An inspection system;\nB. A system for correcting deficiencies.\n\n"
        "The COR shall review the plan. The COTR will inspect the work.\n"
    )
    found = shred(text)
    assert [r.text for r in found.requirements][1:] == [
        "An inspection system;",
        "A system for correcting deficiencies.",
    ]
    assert len(found.excluded) == 2


def test_a_lost_full_stop_and_an_emphasised_sentence_start_split_sentences() -> None:
    text = (
        "The offeror shall provide two summaries of prior work The summaries shall describe the "
        "frameworks used. Statements are not part of the page limit. **If the offeror has a "
        "conflict, the offeror shall say so.** It was delivered by the Offeror Some were not.\n"
    )
    assert sentences(text) == [
        "The offeror shall provide two summaries of prior work",
        "The summaries shall describe the frameworks used.",
        "Statements are not part of the page limit.",
        "**If the offeror has a conflict, the offeror shall say so.**",
        "It was delivered by the Offeror Some were not.",
    ]


def test_uniform_contract_format_clauses_and_long_lettered_lists() -> None:
    text = (
        "Section C PERFORMANCE WORK STATEMENT\n\n"
        "C.1 GENERAL: The Contractor shall clean the building.\n\n"
        "C.2 DEFINITIONS:\n\n"
        + "".join(f"{c}. Term {c} - a definition.\n" for c in "ABCDEFGHIJKLMNOPQRSTU")
        + "V. Quality Control - The Contractor shall keep records.\n\n"
        "C.3 EQUIPMENT: The Contractor shall furnish all equipment.\n"
    )
    assert [i for i, _, _ in rows(text)] == ["R-C.1", "R-C.2.v", "R-C.3"]


def test_a_titled_clause_is_one_requirement_only_when_titled_like_a_requirement() -> None:
    text = (
        "2.3 Configurable workflows. The Solution shall allow configuration. Proposers should "
        "describe which changes need vendor services.\n\n"
        "C.4 CONTRACTOR FURNISHED ITEMS: The Contractor shall provide all equipment. The "
        "Contractor shall provide a means of communication.\n"
    )
    assert [(i, m) for i, m, _ in rows(text)] == [
        ("R-2.3", "must"),
        ("R-C.4.a", "must"),
        ("R-C.4.b", "must"),
    ]


def test_a_lead_in_with_an_obligation_of_its_own_is_a_requirement() -> None:
    text = (
        "The projects should be recent and similar to the size and technical scope of this "
        "requirement. Recent and similar are defined below.\n\n"
        "Similar size: up to six staff.\n\n"
        "The Contractor shall provide the following:\n\nSimilar scope: public dashboards.\n"
    )
    assert [(m, t) for _, m, t in rows(text)] == [
        (
            "should",
            "The projects should be recent and similar to the size and technical scope of this "
            "requirement.",
        )
    ]


def test_a_paragraph_indented_inside_a_list_does_not_end_it() -> None:
    text = (
        "   At a minimum, provide:\n\n"
        "   -   An introduction.\n\n"
        "   -   A breakdown of labor categories.\n\n"
        "   Letters of intent shall be signed by key personnel.\n\n"
        "   -   A description of any teaming arrangements.\n\n"
        "The Government will evaluate quotes.\n\n"
        "   An indented note.\n"
    )
    found = shred(text).requirements
    assert [(r.text, r.lead_in) for r in found] == [
        ("An introduction.", "At a minimum, provide:"),
        ("A breakdown of labor categories.", "At a minimum, provide:"),
        ("Letters of intent shall be signed by key personnel.", ""),
        ("A description of any teaming arrangements.", "At a minimum, provide:"),
    ]


def test_numbered_paragraphs_under_a_numbered_heading_or_title_clause_are_its_items() -> None:
    text = (
        "# 7 Security\n\n1. The Contractor shall badge all staff.\n\n"
        "2. The Contractor shall return badges.\n\n"
        "# Instructions\n\n5. Special Instructions.\n\n"
        "1. Quotes must be valid for 60 days.\n\n"
        "6. Evaluation. The offeror shall attend an oral presentation.\n"
    )
    assert [i for i, _, _ in rows(text)] == ["R-7.1", "R-7.2", "R-5.1", "R-6"]


def test_a_lead_in_stating_its_own_obligation_is_a_row_beside_its_items() -> None:
    text = (
        "All employees must be able to speak English, and shall also receive training as "
        "follows:\n\n1. The Contractor shall train staff on the fire alarm.\n\n"
        "The Contractor shall work with the agency teams to ensure that the system is "
        "compliant with policies, including:\n\n- FISMA\n- NIST SP 800-53\n"
    )
    assert [t for _, _, t in rows(text)] == [
        "All employees must be able to speak English, and shall also receive training as follows:",
        "The Contractor shall train staff on the fire alarm.",
        "FISMA",
        "NIST SP 800-53",
    ]


def test_a_compound_subject_with_the_contractor_and_etc_ending_a_sentence() -> None:
    text = (
        "The contractor and government may mutually agree to alter sprint length. "
        "Floors shall be free of staples, string, etc. Floors shall present a high luster.\n"
    )
    assert [(m, t) for _, m, t in rows(text)] == [
        ("may", "The contractor and government may mutually agree to alter sprint length."),
        ("must", "Floors shall be free of staples, string, etc."),
        ("must", "Floors shall present a high luster."),
    ]


def test_a_lead_in_naming_the_duty_its_list_details_is_a_row_too() -> None:
    text = (
        "The Contractor shall assist in performing acquisition planning services to include the "
        "following:\n\n- Develop acquisition plans;\n- Perform market research.\n\n"
        "The Contractor shall provide, but not be limited to, the following services:\n\n"
        "- Maintain the award files;\n"
        "- Assist with ensuring that pre-award procedures are carried out including, but not "
        "limited to, the following:\n  - Reviewing the audit report;\n\n"
        "The Contractor shall provide the following:\n\n- a monthly report\n"
    )
    assert [t for _, _, t in rows(text)] == [
        "The Contractor shall assist in performing acquisition planning services to include the "
        "following:",
        "Develop acquisition plans;",
        "Perform market research.",
        "Maintain the award files;",
        "Assist with ensuring that pre-award procedures are carried out including, but not "
        "limited to, the following:",
        "Reviewing the audit report;",
        "a monthly report",
    ]


def test_nothing_needed_a_grants_officers_duty_and_the_solicitation_are_not_rows() -> None:
    text = (
        "No Government Furnished Materials will be needed for the vendor. No travel is "
        "anticipated or will be required. There is no guarantee that any services will be "
        "ordered. No substitutions shall be made. If the Grants Officer is not authorized to "
        "withhold documents, the Grants Officer must provide them to the authority. This "
        "solicitation will be accomplished using the terms of the BPA.\n"
    )
    found = shred(text)
    assert [r.text for r in found.requirements] == ["No substitutions shall be made."]
    assert [x.reason for x in found.excluded] == [
        "states that nothing is needed",
        "states that nothing is needed",
        "states that nothing is needed",
        "obligation or right of the buyer",
        "obligation or right of the buyer",
    ]
