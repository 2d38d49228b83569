"""The writer's candidates: strong hits; for a short requirement (BM25 scores grow with the
query, so it never reaches the strong score) a hit that stands clearly above the rest, then hits
whose title names the requirement's subject."""

from __future__ import annotations

from agentorch.discovery import builtin_module

matching = builtin_module("agents", "_matching")
REQ = {"id": "R-1", "title": "Encryption", "text": "Encrypt all data in transit and at rest."}


def hits(*scores: float, titles: tuple[str, ...] = ()) -> list[dict[str, object]]:
    named = titles or ("Other",) * len(scores)
    return [
        {"id": f"AA-{n:03d}", "score": s, "title": t}
        for n, (s, t) in enumerate(zip(scores, named, strict=True), 1)
    ]


def test_strong_hits_come_best_first() -> None:
    assert matching.candidates(REQ, hits(25.0, 30.0, 5.0), {}) == ["AA-002", "AA-001"]


def test_a_dominant_hit_of_a_short_query_is_a_candidate() -> None:
    assert matching.candidates(REQ, hits(22.0, 5.7, 5.6), {}) == ["AA-001"]
    assert matching.candidates(REQ, hits(13.0), {}) == ["AA-001"]


def test_a_weak_or_contested_top_hit_is_not() -> None:
    assert matching.candidates(REQ, hits(11.0, 2.0), {}) == []  # below the weak score
    assert matching.candidates(REQ, hits(20.0, 12.0), {}) == []  # not clearly ahead
    assert matching.candidates(REQ, [], {}) == [] and matching.candidates(REQ, None, {}) == []


def test_a_long_requirement_keeps_the_strong_score() -> None:
    long = {"id": "R-1", "title": "Encryption", "text": " ".join(f"word{i}" for i in range(20))}
    assert matching.candidates(long, hits(22.0, 5.0), {}) == []
    assert matching.candidates(long, hits(22.0, titles=("Encryption at rest",)), {}) == []


def test_hits_whose_title_names_the_subject_follow_most_shared_first() -> None:
    req = {"id": "R-1", "title": "Service credits", "text": "Credit fees below the SLA."}
    found = hits(
        20.0, 17.0, 7.0, 5.0,
        titles=("Availability service level", "Service credits as remedy", "Backups", "Service"),
    )  # fmt: skip
    # the top hit is not clearly ahead; both titles with "service" qualify, two shared words first
    assert matching.candidates(req, found, {}) == ["AA-002", "AA-001"]


def test_an_acronym_in_the_answers_title_names_the_subject() -> None:
    mfa = {"id": "R-1", "title": "Multi-factor authentication", "text": "Require it for staff."}
    found = hits(14.6, 8.6, titles=("Single sign-on", "Access control, MFA and audit logging"))
    assert matching.candidates(mfa, found, {}) == ["AA-002"]
    api = {"id": "R-1", "title": "API", "text": "Offer an API to the finance system."}
    assert matching.candidates(api, hits(11.9, 4.7, titles=("Integration APIs", "X")), {}) == [
        "AA-001"
    ]
    assert matching.names_subject("Access control, MFA", "Login", "Sign in with a password") == 0


def test_a_reviewers_suggestion_wins() -> None:
    assert matching.candidates(REQ, hits(30.0), {"R-1": "AA-040"}) == ["AA-040"]
