"""A generic answer is never "covered": the requirement's distinctive terms must be addressed."""

from __future__ import annotations

import time

from agentorch.discovery import builtin_module

specific = builtin_module("agents", "_specific")
matrix = builtin_module("agents", "_matrix")
types = builtin_module("agents", "_types")

PIV = (
    "Use the Key Management system on the HHS personal identification verification (PIV) card or "
    "establish and use a key recovery mechanism to ensure the ability for authorized personnel to "
    "encrypt/decrypt information and recover encryption keys."
)
KMS = (
    "Customer data, backups and document storage are encrypted at rest with AES-256 using keys "
    "managed in AWS Key Management Service, with a separate key per tenant and annual rotation."
)
ON_POINT = (
    "Authorized staff encrypt and decrypt government information with the key management on "
    "their HHS PIV cards; otherwise we run a key recovery mechanism so keys can be recovered."
)
# a document in which the buyer's name is in every clause and the PIV card in one
DOCUMENT = [f"The Contractor shall give HHS report number {i} on schedule." for i in range(40)]
DOCUMENT.append(PIV)


def answer(text: str) -> object:
    return types.DraftAnswer(
        requirement_id="R-1", text=text, citations=["AA-018"], status="answered"
    )


def checked() -> object:
    return types.CommitmentCheck(verdict="meets", relevant=True, relevance=0.7, checks=[])


def test_a_generic_answer_on_the_topic_is_partial_and_the_reason_names_what_it_leaves_out() -> None:
    terms = specific.key_terms(PIV, specific.DocumentTerms(DOCUMENT))
    status, note = matrix.status_for("must", answer(KMS), checked(), PIV, terms)
    assert status == "partial"
    assert note.startswith("the answer does not address what the requirement specifically asks")
    assert "PIV" in note and "recovery" in note


def test_an_answer_that_addresses_the_ask_in_other_words_is_covered() -> None:
    terms = specific.key_terms(PIV, specific.DocumentTerms(DOCUMENT))
    assert matrix.status_for("must", answer(ON_POINT), checked(), PIV, terms) == ("covered", "")


def test_a_term_in_every_clause_of_the_document_carries_no_weight() -> None:
    terms = specific.key_terms(PIV, specific.DocumentTerms(DOCUMENT))
    assert "HHS" not in terms and terms["PIV"] > terms["encrypt"]
    # without a document every content word counts
    assert "HHS" in specific.key_terms(PIV)


def test_acronyms_defined_in_the_requirement_match_either_form() -> None:
    requirement = "Staff shall complete Role-Based Training (RBT) within 60 days."
    assert specific.addressed(requirement, "Our staff complete the RBT within 60 days.").ok
    assert specific.addressed(requirement, "Staff finish role-based training in 60 days.").ok


def test_examples_in_parentheses_are_not_asked() -> None:
    requirement = (
        "Proposers shall explain the basis of their subscription pricing (for example, named "
        "users, concurrent users, modules, transaction volume or population)."
    )
    found = specific.addressed(requirement, "Subscription pricing is based on the modules chosen.")
    assert found.ok, found


def test_a_missing_standard_number_blocks_covered_whatever_the_share() -> None:
    requirement = "Media shall be sanitized in accordance with NIST SP 800-88 before disposal."
    found = specific.addressed(
        requirement, "Media are sanitized under NIST guidance before disposal."
    )
    assert not found.ok and "800-88" in found.named_missing


def test_without_the_requirement_text_the_status_rule_is_the_values_only_one() -> None:
    # the benchmark's "before" column: no terms checked, low relevance alone makes it partial
    low = types.CommitmentCheck(verdict="meets", relevant=True, relevance=0.4, checks=[])
    assert matrix.status_for("must", answer(KMS), low)[0] == "partial"
    assert matrix.status_for("must", answer(KMS), checked()) == ("covered", "")


def test_counting_a_large_document_is_linear_and_cached_per_list() -> None:
    rows = [
        f"Clause {i}: the Contractor shall deliver artefact{i} to the COR." for i in range(5000)
    ]
    started = time.process_time()
    counted = specific.document_terms(rows, rows)
    assert counted.size == 5000
    assert specific.document_terms(rows, rows) is counted  # the same list: counted once
    assert specific.document_terms(list(rows), rows) is not counted
    assert time.process_time() - started < 20  # a guard against quadratic work, not a benchmark
