"""The commitment checker per kind of constraint: what it reads, and how it compares."""

from __future__ import annotations

import math

import pytest
from tools_helpers import tools_module

numbers = tools_module("_numbers")
compare = tools_module("_compare")
constraints = tools_module("_constraints")


def extract(text: str, requirement: bool = True):
    return compare.extract(text, requirement=requirement)


def one(text: str, kind: str, requirement: bool = True):
    found = [c for c in extract(text, requirement) if c.kind == kind]
    assert len(found) == 1, found
    return found[0]


def verdict(requirement: str, answer: str) -> str:
    return compare.check(requirement, answer).verdict


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("within twenty-four (24) hours", "within 24 hours"),
        ("seventy-two hours", "72 hours"),
        ("one hundred eighty (180) days", "180 days"),
        ("ninety-nine point nine percent", "99.9 percent"),
        ("two hundred and fifty users", "250 users"),
        ("30 (thirty) days", "30 days"),
        ("within an hour", "within 1 hour"),
        ("no one will call; one of the", "no one will call; one of the"),
        ("≤ 4 hours", " no more than  4 hours"),
    ],
)
def test_number_words_become_digits(text: str, expected: str) -> None:
    assert numbers.normalise(text) == expected


def test_words_value_handles_scales_and_decimals() -> None:
    assert numbers.words_value("five million") == 5_000_000
    assert numbers.words_value("one thousand two hundred") == 1200
    assert numbers.words_value("ninety-nine point nine five") == 99.95
    assert numbers.words_value("banana") is None


# ------------------------------------------------------------------ time


def test_durations_have_subject_direction_and_hours() -> None:
    c = one("The Contractor shall notify the City within twenty-four (24) hours.", "response_time")
    assert (c.subject, c.direction, c.lo, c.hi) == ("notification", "max", 24, 24)
    c = one("Audit logs shall be retained for at least seven (7) years.", "duration")
    assert (c.subject, c.direction) == ("retention", "min")
    assert c.lo == 7 * 8766  # a year is 365.25 days
    rto, rpo = sorted(
        (c for c in extract("An RPO of no more than 1 hour and an RTO of no more than 4 hours.")),
        key=lambda c: c.subject,
    )
    assert (rpo.subject, rpo.lo, rto.subject, rto.lo) == ("RTO", 4, "RPO", 1)[0:0] or (
        rto.subject,
        rto.lo,
        rpo.subject,
        rpo.lo,
    ) == ("RPO", 1, "RTO", 4)


def test_business_days_are_a_range_of_calendar_time() -> None:
    c = one("with at least ten (10) business days' notice", "duration")
    assert (c.subject, c.basis, c.direction) == ("notice", "business", "min")
    assert c.lo == 12 * 24 and c.hi == 16 * 24  # 14 calendar days, give or take two
    lo, hi = constraints.hours_interval(4, 4, "hour", "business")
    assert lo == 4 and math.isinf(hi)


@pytest.mark.parametrize(
    ("requirement", "answer", "expected"),
    [
        ("at least 10 business days' notice", "at least 7 calendar days' notice", "falls_short"),
        ("at least 10 business days' notice", "three weeks' notice", "meets"),
        ("at least 10 business days' notice", "14 calendar days' notice", "cannot_tell"),
        ("notice of at least 14 calendar days", "notice of ten business days", "cannot_tell"),
        ("respond within 4 hours", "a response within 8 business hours", "falls_short"),
        ("respond within 4 hours", "a response within 4 business hours", "cannot_tell"),
        ("respond within two business days", "we respond within 24 hours", "meets"),
        ("an RTO of no more than four hours", "our RTO is 2 hours", "meets"),
        (
            "an RTO of no more than four hours",
            "our recovery time objective is 8 hours",
            "falls_short",
        ),
        ("notify within 24 hours", "we notify without undue delay", "cannot_tell"),
        ("retain for 7 years", "records are retained indefinitely", "meets"),
        ("retain for 7 years", "records are retained for 5 years", "falls_short"),
        ("data returned within 30 days", "we return the data within one month", "meets"),
        ("data returned within 2 weeks", "we return the data within one month", "falls_short"),
    ],
)
def test_time_comparisons(requirement: str, answer: str, expected: str) -> None:
    assert verdict(requirement, answer) == expected


def test_severity_levels_pair_the_right_values() -> None:
    requirement = "Critical vulnerabilities shall be remediated within 15 days."
    answer = "Remediation targets are 30 days for critical and 90 days for medium vulnerabilities."
    result = compare.check(requirement, answer)
    assert result.verdict == "falls_short"
    assert result.checks[0].offered == "30 days"


# ------------------------------------------------------------------ percentages, money, counts


def test_percentages() -> None:
    c = one("The Solution shall be available 99.95% of each month.", "percentage")
    assert (c.subject, c.direction, c.lo) == ("availability", "min", 99.95)
    assert verdict("uptime of at least 99.9%", "we commit to 99.5% availability") == "falls_short"
    assert verdict("uptime of at least 99.9%", "availability of three nines") == "meets"
    assert verdict("increases not to exceed 3% a year", "price increase of 5% per year") == (
        "falls_short"
    )


def test_a_value_the_answer_rules_out_is_not_offered() -> None:
    answer = "We commit to 99.9% availability; no service can guarantee 100% availability."
    assert verdict("available 100% of the time", answer) == "falls_short"


def test_money_with_scales_currencies_and_basis() -> None:
    c = one("cyber liability insurance of at least USD 10 million per claim", "money")
    assert (c.subject, c.lo, c.unit, c.basis, c.direction) == (
        "cyber liability",
        10e6,
        "USD",
        "per occurrence",
        "min",
    )
    assert one("general liability of $2M", "money").lo == 2e6
    assert one("five million dollars of professional liability", "money").lo == 5e6
    assert verdict("cyber cover of $10,000,000", "cyber liability of €10 million") == "cannot_tell"
    req = "general liability of $2,000,000 per occurrence"
    assert verdict(req, "general liability $1,000,000 per occurrence, $2,000,000 aggregate") == (
        "falls_short"
    )
    assert verdict(req, "general liability of $2M each occurrence") == "meets"


def test_counts_and_references_on_request() -> None:
    c = one("Provide at least three (3) client references.", "count")
    assert (c.subject, c.lo, c.direction) == ("reference", 3, "min")
    assert verdict("Provide three references.", "References are available upon request.") == (
        "falls_short"
    )
    assert verdict("Provide three references.", "We enclose five references.") == "meets"
    assert verdict("Provide three references.", "We enclose two references below.") == "falls_short"


def test_frequencies() -> None:
    c = one("Vulnerability scans shall be run at least monthly.", "frequency")
    assert (c.subject, c.lo, c.direction) == ("vulnerability scan", 12, "min")
    assert verdict("a penetration test at least twice a year", "annual penetration tests") == (
        "falls_short"
    )
    assert verdict("backups every day", "backups run every 4 hours") == "meets"
    assert not [c for c in extract("annual subscription fees") if c.kind == "frequency"]


# ------------------------------------------------------------------ terms


def test_unlimited_against_a_cap() -> None:
    req = "The Contractor's liability shall be unlimited."
    assert one(req, "unlimited").term == "unlimited"
    assert verdict(req, "Our liability is capped at twelve months of fees.") == "conflicts"
    assert verdict(req, "We are not able to accept unlimited liability.") == "conflicts"
    assert verdict(req, "We accept unlimited liability for this contract.") == "meets"
    assert verdict("an unlimited number of users", "licensed for up to 500 named users") == (
        "conflicts"
    )


def test_firm_fixed_prices_against_escalation() -> None:
    req = "All prices shall remain firm and fixed for the full term; no escalation."
    assert one(req, "price_basis").term == "fixed"
    assert verdict(req, "Fees increase annually by CPI-U.") == "conflicts"
    assert verdict(req, "Prices are fixed for the full term with no escalation.") == "meets"
    assert verdict(
        req, "Prices are held for year one; thereafter the then-current rates apply."
    ) == ("conflicts")


def test_ownership() -> None:
    req = "All work product shall be owned exclusively by the County."
    assert one(req, "ownership").term == "customer"
    assert verdict(req, "The vendor retains ownership of all deliverables.") == "conflicts"
    assert verdict(req, "The County owns all deliverables as works made for hire.") == "meets"
    assert verdict(req, "The customer receives a perpetual licence to the deliverables.") == (
        "conflicts"
    )
    data = "City data remains the property of the City."
    assert verdict(data, "The customer owns its data; we retain ownership of the platform.") == (
        "meets"
    )


def test_data_location() -> None:
    req = "Data shall be stored only within the continental United States."
    assert one(req, "data_location").options == ("US-continental",)
    assert verdict(req, "Data is hosted in us-east-1 (Virginia).") == "meets"
    assert verdict(req, "Data is hosted in the US and replicated to Ireland.") == "conflicts"
    assert verdict(req, "Data is hosted in North America.") == "cannot_tell"
    assert verdict("Data must stay in the EU.", "Data never leaves the European Union.") == "meets"
    assert (
        verdict(
            "Data must be stored in the United States.",
            "Data is never stored outside the United States.",
        )
        == "meets"
    )


def test_certifications_compare_levels() -> None:
    assert verdict("a current SOC 2 Type II report", "We hold a SOC 2 Type I report.") == (
        "falls_short"
    )
    assert verdict("a current SOC 2 Type II report", "Our SOC 2 Type II report is attached.") == (
        "meets"
    )
    assert verdict("FedRAMP Moderate authorization", "We are FedRAMP High authorized.") == "meets"
    assert verdict("FedRAMP High authorization", "Our FedRAMP authorization is in process.") == (
        "falls_short"
    )
    assert verdict("conform to WCAG 2.1 Level AA", "The portal conforms to WCAG 2.0 AA.") == (
        "falls_short"
    )
    assert verdict("conform to WCAG 2.1 Level AA", "We meet WCAG 2.2 AA.") == "meets"
    assert verdict("ISO 27001 or SOC 2 Type II", "We are ISO/IEC 27001 certified.") == "meets"


def test_languages() -> None:
    req = "The portal shall be available in English and Spanish; Vietnamese is preferred."
    assert one(req, "language").options == ("english", "spanish")
    assert verdict(req, "The portal is available in English and Spanish.") == "meets"
    assert verdict(req, "The portal is available in English only.") == "falls_short"
    assert verdict(req, "The portal is in English; Spanish is not supported.") == "conflicts"


def test_liability_caps_as_multiples() -> None:
    req = "The liability cap shall be no less than two times (2x) the total contract value."
    c = one(req, "money")
    assert (c.subject, c.lo, c.unit, c.direction) == ("liability cap", 2, "contract value", "min")
    assert verdict(req, "Liability is capped at the fees paid in the prior twelve months.") == (
        "falls_short"
    )
    annual = "Liability shall be capped at no less than one times the annual fees."
    assert verdict(annual, "Our cap is three times (3x) the total contract value.") == "meets"
    assert verdict(req, "Our cap is three times the annual fees.") == "cannot_tell"


def test_billing_and_indemnity_terms() -> None:
    req = "Subscription fees shall be invoiced annually in arrears; no fees before go-live."
    assert verdict(req, "Subscription fees are invoiced annually in advance.") == "conflicts"
    assert verdict(req, "Fees are invoiced annually in arrears, from go-live.") == "meets"
    assert verdict(req, "Fees are billed from contract signature.") == "conflicts"
    indemnity = (
        "The Contractor shall indemnify the City against all claims, including claims caused in"
        " part by the negligence of the City."
    )
    assert one(indemnity, "indemnity").term == "any cause"
    assert verdict(
        indemnity, "Our indemnity does not extend to claims caused by the customer's negligence."
    ) == ("conflicts")
    assert verdict(indemnity, "We indemnify the City against all third-party claims.") == (
        "not_stated"
    )


def test_direction_words() -> None:
    marker = constraints.direction_marker
    for text, expected in [
        ("warranty of not less than 12 months", "min"),
        ("fees shall not increase by more than 2% a year", "max"),
        ("shall not be less than 5 days", "min"),
        ("no later than 48 hours", "max"),
        ("a minimum of 3 references", "min"),
        ("10 days or more", "min"),
        ("4 hours or less", "max"),
    ]:
        start = next(i for i, ch in enumerate(text) if ch.isdigit())
        end = start + len(" ".join(text[start:].split()[:2]))  # the number and its unit
        assert marker(text, start, end) == expected, text


def test_records_scopes_and_partial_conformance() -> None:
    answer = "Uptime has averaged 99.99% over the last year; our SLA commitment is 99.0%."
    assert verdict("The system shall be available 99.5% of the time.", answer) == "falls_short"
    assert verdict("Uptime of 99.5% is required.", "Uptime has averaged 99.99% to date.") == (
        "cannot_tell"
    )
    initial = "Fees may not be increased during the initial term."
    assert verdict(initial, "Fees are fixed during the initial term; renewals may rise 3%.") == (
        "meets"
    )
    every = "Fees are firm for the initial term and any renewal."
    assert verdict(every, "Fees are fixed during the initial term; renewals may rise 3%.") == (
        "conflicts"
    )
    assert verdict("Prices fixed for at least 3 years.", "Prices are fixed for 1 year.") == (
        "falls_short"
    )
    assert verdict("Conform to WCAG 2.1 AA.", "We partially support WCAG 2.1 AA.") == "falls_short"
