"""Acronyms a requirement uses without defining them match the words an answer spells them out
in, and the other way round; a US state's postal code matches its name."""

from __future__ import annotations

from agentorch.discovery import builtin_module

acronyms = builtin_module("agents", "_acronyms")
specific = builtin_module("agents", "_specific")

GFP = (
    "The contractor shall protect the GFP from loss, damage, or theft and report any loss to the "
    "property administrator."
)


def test_an_undefined_acronym_answered_in_full_words_is_addressed() -> None:
    spelled = (
        "We protect all Government-furnished property from loss, damage and theft, and report "
    )
    assert specific.addressed(GFP, spelled + "any loss to the property administrator.").ok
    # the same answer without the property is not
    assert not specific.addressed(GFP, "We report any loss to the administrator.").ok


def test_an_acronym_in_the_answer_matches_the_words_of_the_requirement() -> None:
    requirement = (
        "Forward each finalized status report to the Contracting Officer's Technical "
        "Representative and the Contracting Officer."
    )
    result = specific.addressed(
        requirement, "We forward each finalized status report to the COTR and the CO."
    )
    assert result.ok, result


def test_linking_words_may_give_a_letter_or_be_skipped() -> None:
    assert acronyms.spelled_out("DOD", "with Department of Defense staff") == [
        ["Department", "of", "Defense"]
    ]
    assert acronyms.spelled_out("GFP", "the Government-furnished property") == [
        ["Government", "furnished", "property"]
    ]
    assert acronyms.spelled_out("COR", "the Contracting Officer's Representative") == [
        ["Contracting", "Officer's", "Representative"]
    ]


def test_a_two_letter_acronym_needs_capitalised_words() -> None:
    assert acronyms.spelled_out("CO", "the Contracting Officer") == [["Contracting", "Officer"]]
    assert acronyms.spelled_out("CO", "we can contact our office") == []
    assert acronyms.spelled_out("PM", "the project manager") == []


def test_acronyms_are_found_with_plurals_and_long_names_left_out() -> None:
    found = acronyms.acronyms("Respond to IOCs from the CSIRT and the COR, per FedRAMP and NIST.")
    assert found == {"IOC", "CSIRT", "COR", "NIST"}  # FedRAMP is a name, not initials


def test_a_state_code_after_a_place_matches_the_state_name() -> None:
    requirement = "Work shall be performed at the agency's offices in the Bethesda, MD area."
    assert acronyms.states(requirement) == {"MD": "Maryland"}
    answer = "Our staff work at the agency's offices in the Bethesda, Maryland area."
    assert specific.addressed(requirement, answer).ok
    assert not specific.addressed(requirement, "Our staff work at the agency's offices.").ok


def test_a_definition_may_come_before_its_words() -> None:
    requirement = (
        "Upload each deliverable to the AASBS (Assisted Acquisition Services Business System)."
    )
    assert specific.definitions(requirement)["aasb"] == {
        specific.stem(w) for w in ("Assisted", "Acquisition", "Services", "Business", "System")
    }
    assert specific.addressed(requirement, "Each deliverable is uploaded to the AASBS portal.").ok
