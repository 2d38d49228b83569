"""find_requirements on small excerpts written in the styles real solicitations use."""

from __future__ import annotations

from agentorch.documents import Findings, find_requirements, text_blocks


def shred(text: str) -> Findings:
    return find_requirements(text_blocks(text))


def rows(text: str) -> list[tuple[str, str, str]]:
    return [(r.id, r.modality, r.text) for r in shred(text).requirements]


def test_headings_of_every_form_give_sections_and_numbers() -> None:
    text = (
        "##4.0 REQUIREMENTS\n\nThe Contractor shall deliver the system.\n\n"
        "5.0 QUALITY CONTROL\n\nThe Contractor shall keep a quality plan.\n\n"
        "SECTION C - DESCRIPTION\n\nC.3.2 The Contractor shall staff a help desk.\n\n"
        "Article 7 Payment\n\nThe Contractor shall invoice monthly.\n"
    )
    found = shred(text).requirements
    assert [(r.id, r.section) for r in found] == [
        ("R-4.0", "4.0 REQUIREMENTS"),
        ("R-5.0", "5.0 QUALITY CONTROL"),
        ("R-C.3.2", "SECTION C - DESCRIPTION"),
        ("R-7", "Article 7 Payment"),
    ]


def test_numbering_schemes() -> None:
    text = (
        "1.The Contractor shall attend the kickoff.\n\n"
        "5.5.1 The Contractor shall:\n\n"
        "a) submit a plan;\n\nb. train the staff;\n\n(i) report weekly.\n\n"
        "6.1 Reports. The Contractor shall provide the following:\n\n"
        "(a)(1) a monthly report\n"
    )
    assert [r[0] for r in rows(text)] == [
        "R-1",
        "R-5.5.1.a",
        "R-5.5.1.b",
        "R-5.5.1.b.i",  # a new marker style nests under the item before it
        "R-6.1.a.1",
    ]


def test_wrapped_lines_and_page_lines_do_not_split_a_sentence() -> None:
    text = "3.1 The Contractor shall keep all\nrecords for five\n\fPage 3 of 9\nyears.\n"
    assert rows(text) == [
        ("R-3.1", "must", "The Contractor shall keep all records for five years.")
    ]


def test_prose_modalities_and_prohibitions() -> None:
    text = (
        "## 2. Work\n\n"
        "The Contractor will be required to attend meetings. The vendor is required to "
        "keep logs. The Contractor is responsible for backups. The Contractor shall not "
        "disclose data. The Contractor should use open source. The Contractor may propose "
        "alternatives. Work will be conducted in sprints.\n"
    )
    found = shred(text).requirements
    assert [(r.id, r.modality, r.negative) for r in found] == [
        ("R-2.a", "must", False),
        ("R-2.b", "must", False),
        ("R-2.c", "must", False),
        ("R-2.d", "must", True),
        ("R-2.e", "should", False),
        ("R-2.f", "may", False),
        ("R-2.g", "must", False),
    ]
    assert {r.location for r in found} == {"line 3"}


def test_buyer_obligations_and_evaluation_are_excluded_with_a_reason() -> None:
    text = (
        "4.1 The Government will provide office space. The COR shall inspect all work. "
        "The Contracting Officer may extend the order. Quotes received late will not be "
        "considered. The Contractor shall keep the space clean.\n"
    )
    found = shred(text)
    assert [r.text for r in found.requirements] == ["The Contractor shall keep the space clean."]
    assert [x.reason for x in found.excluded] == [
        "obligation or right of the buyer",
        "obligation or right of the buyer",
        "obligation or right of the buyer",
        "evaluation by the buyer",
    ]
    assert found.statements_seen == 5


def test_list_items_carry_their_lead_in() -> None:
    text = (
        "3.0 Tasks. The Contractor shall perform the following tasks:\n\n"
        "3.1 Repair equipment on request. Do this work during business hours.\n\n"
        "## 4 Reports\n\nEach report shall contain the following information:\n\n"
        "- date and time\n- location\n- Technician name. It should be legible.\n\n"
        "Vendor will not be required to handle any of the following tasks:\n\n"
        "- Provide hosting\n"
    )
    found = shred(text)
    assert [(r.id, r.modality, r.text) for r in found.requirements] == [
        ("R-3.1.a", "must", "Repair equipment on request."),
        ("R-3.1.b", "must", "Do this work during business hours."),
        ("R-4.a", "must", "date and time"),
        ("R-4.b", "must", "location"),
        ("R-4.c", "must", "Technician name."),
        ("R-4.d", "should", "It should be legible."),
    ]
    assert found.requirements[2].lead_in == "Each report shall contain the following information:"
    assert [(x.text, x.reason) for x in found.excluded] == [
        (
            "Vendor will not be required to handle any of the following tasks:",
            "states what is not required",
        ),
        ("Provide hosting", "listed as not required"),
    ]


def test_nested_items_of_a_plain_item_are_part_of_it() -> None:
    text = (
        "The Contractor shall provide the following services:\n\n"
        "- Select a stack. Approved stacks are listed below in order of preference:\n"
        "    - Ruby on Rails\n    - PHP\n- Provide an import function.\n"
    )
    assert [r[2] for r in rows(text)] == ["Select a stack.", "Provide an import function."]


def test_markdown_table_with_a_requirement_in_a_cell_and_a_deliverables_table() -> None:
    text = (
        "## 6 Security\n\n| ID | Text |\n|---|---|\n"
        "| 6.1 | The Contractor shall encrypt data at rest. |\n"
        "| 6.2 | The Government will audit annually. |\n\n"
        "## 7 Deliverables\n\n| Deliverable | Due Date |\n|---|---|\n"
        "| Status report | 5th business day of each month |\n| Final report | End of task order |\n"
    )
    found = shred(text)
    assert [(r.id, r.text, r.due) for r in found.requirements] == [
        ("R-6.1", "The Contractor shall encrypt data at rest.", ""),
        (
            "R-7.a",
            "Status report - 5th business day of each month",
            "5th business day of each month",
        ),
        ("R-7.b", "Final report - End of task order", "End of task order"),
    ]
    assert found.excluded[0].text == "The Government will audit annually."


def test_repeated_number_keeps_both_and_flags_them() -> None:
    text = (
        "3.5 The Contractor shall back up data daily.\n\n"
        "3.5 The Contractor shall test restores monthly.\n"
    )
    found = shred(text).requirements
    assert [(r.id, r.flags) for r in found] == [
        ("R-3.5.a", ["repeated_number"]),
        ("R-3.5.b", ["repeated_number"]),
    ]


def test_titled_clause_is_one_requirement_and_unnumbered_text_gets_section_ordinals() -> None:
    text = (
        "## Scope\n\n2.3 Workflows. The Solution shall allow configuration. Proposers should "
        "describe any limits.\n\n## Staffing\n\nThe Contractor shall name a manager. The "
        "manager must attend reviews.\n"
    )
    found = shred(text).requirements
    assert [(r.id, r.title, r.modality) for r in found] == [
        ("R-2.3", "Workflows", "must"),
        ("R-S2.1", "", "must"),
        ("R-S2.2", "", "must"),
    ]
    assert (
        found[0].text.startswith("Workflows. The Solution shall") and found[1].section == "Staffing"
    )


def test_lead_in_without_a_list_is_a_pointer_not_a_requirement() -> None:
    text = "## 1 Scope\n\nThe Contractor shall comply with the following:\n\nSee Appendix A.\n"
    assert rows(text) == []


def test_instructions_to_offerors_and_who_is_bound() -> None:
    text = (
        "## 6 Quotation Instructions\n\n"
        "Please ensure your registration is active. Please note that late quotes are common. "
        "Provide your best discounted rates. Quotations will be evaluated by a panel. "
        "Customers of the platform are responsible for their own applications. "
        "All users shall be authenticated. The Government estimates this will take a year. "
        "Award will be made to the offeror with the best value.\n"
    )
    found = shred(text)
    assert [r.text for r in found.requirements] == [
        "Please ensure your registration is active.",
        "Provide your best discounted rates.",
        "All users shall be authenticated.",
    ]
    assert [x.reason for x in found.excluded] == [
        "evaluation by the buyer",
        "obligation of a third party",
        "the buyer's estimate or intent",
        "evaluation by the buyer",
    ]


def test_list_items_with_run_in_titles_and_a_list_without_obligation_wording() -> None:
    text = (
        "## 7 Technical Quotation\n\nThe technical quotation shall include:\n\n"
        "a. Cover Page. The cover page lists the company name.\n\n"
        "b. Staffing Plan. The offeror shall submit a staffing plan.\n\n"
        "Desired skills include:\n\n- Leadership\n- Communication\n"
    )
    assert [r[0:3:2] for r in rows(text)] == [
        ("R-7.a", "The cover page lists the company name."),
        ("R-7.b", "The offeror shall submit a staffing plan."),
    ]


def test_items_that_only_complete_the_lead_in_are_part_of_its_one_obligation() -> None:
    text = (
        "## 5 Conflicts\n\nOfferors shall describe any relationship that may result in:\n\n"
        "1. Being unable to give impartial advice, or\n\n2. Being given an unfair advantage.\n"
    )
    assert rows(text) == [
        ("R-5", "must", "Offerors shall describe any relationship that may result in:")
    ]


def test_lettered_parts_number_their_clauses_and_a_part_title_may_run_in() -> None:
    # HHS security clauses after a numbered SOW: parts "A." .. "E." with "1)" clauses and "a."
    # items; "E." runs its title into its first sentence. A "Section C" heading is no such part.
    text = (
        "SECTION 10 - REFERENCE MATERIALS\n\n- A link to the program's site.\n\n"
        "A. Baseline Security Requirements\n\n"
        "1) Safeguarding Information. The Contractor shall:\n\n"
        "a. Protect government information.\n\nb. Provide security for its systems.\n\n"
        "B. Training\n\n"
        "1) Mandatory Training. All Contractor employees shall complete the training.\n\n"
        "C. Position Sensitivity Designations All Contractor employees must obtain a background "
        "investigation.\n\n"
        "SECTION D - REPORTS\n\nE. Other Reports. The Contractor shall file a report.\n"
    )
    assert [r[0] for r in rows(text)] == ["R-A.1.a", "R-A.1.b", "R-B.1", "R-C", "R-D.e"]


def test_wordings_seen_in_an_hhs_statement_of_work() -> None:
    text = (
        "# 4. Tasks\n\n"
        "- Acquire the guest speakers for these trainings.\n"
        "- Arrange and pay for travel for the guest speakers.\n\n"
        "Schedule of Deliverables\n\n"
        "It is imperative that the facilitator is available for all sessions.\n\n"
        "For internal websites, HTTPS is not required, but it is highly recommended.\n\n"
        "It is estimated that 100% of the work will be performed off-site.\n\n"
        "The speakers will be offered a stipend.\n\n"
        "Acknowledge that the agency will not treat a report as evidence of fault.\n"
    )
    assert [(r[1], r[2]) for r in rows(text)] == [
        ("must", "Acquire the guest speakers for these trainings."),
        ("must", "Arrange and pay for travel for the guest speakers."),
        ("must", "It is imperative that the facilitator is available for all sessions."),
        ("should", "For internal websites, HTTPS is not required, but it is highly recommended."),
        ("must", "Acknowledge that the agency will not treat a report as evidence of fault."),
    ]


def test_items_that_complete_a_lead_in_and_a_role_s_duties() -> None:
    text = (
        "# 2. Security\n\n"
        "The requirements apply whether the contract includes either or both of the following:\n\n"
        "a. Access: an employee will have access to government information.\n\n"
        "b. Operation: an employee will operate a federal system.\n\n"
        "The Contractor shall:\n\n"
        "a. Protect government information in order to ensure:\n\n"
        "- Confidentiality, which means preserving restrictions on access;\n"
        "- Integrity, which means guarding against modification.\n\n"
        "# 3. Facilitation\n\n"
        "Additionally, the co-coordinator would:\n\n"
        "- Attend and participate in the three classroom sessions.\n"
        "- Present on at least one public health topic.\n"
    )
    assert [(r[0], r[2]) for r in rows(text)] == [
        ("R-2.a", "Protect government information in order to ensure:"),
        ("R-3.a", "Attend and participate in the three classroom sessions."),
        ("R-3.b", "Present on at least one public health topic."),
    ]


def test_a_full_sentence_nested_under_a_plain_item_is_a_row() -> None:
    text = (
        "# 4. Tasks\n\n- Identify and secure training locations.\n"
        "  - The Contractor shall secure training sites using agency space.\n"
        "  - Sites near a metro station.\n"
    )
    assert [r[2] for r in rows(text)] == [
        "Identify and secure training locations.",
        "The Contractor shall secure training sites using agency space.",
    ]
