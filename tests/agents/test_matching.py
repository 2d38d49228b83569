"""The writer's candidates: strong hits, else a hit that stands clearly above the rest (BM25
scores grow with the query, so a short requirement never reaches the strong score)."""

from __future__ import annotations

from agentorch.discovery import builtin_module

matching = builtin_module("agents", "_matching")
REQ = {"id": "R-1", "title": "Encryption", "text": "Encrypt all data in transit and at rest."}


def hits(*scores: float) -> list[dict[str, object]]:
    return [{"id": f"AA-{n:03d}", "score": s} for n, s in enumerate(scores, 1)]


def test_strong_hits_come_best_first() -> None:
    assert matching.candidates(REQ, hits(25.0, 30.0, 5.0), {}) == ["AA-002", "AA-001"]


def test_a_dominant_hit_of_a_short_query_is_a_candidate() -> None:
    assert matching.candidates(REQ, hits(22.0, 5.7, 5.6), {}) == ["AA-001"]
    assert matching.candidates(REQ, hits(13.0), {}) == ["AA-001"]


def test_a_weak_or_contested_top_hit_is_not() -> None:
    assert matching.candidates(REQ, hits(11.0, 2.0), {}) == []  # below the weak score
    assert matching.candidates(REQ, hits(20.0, 12.0), {}) == []  # not clearly ahead
    assert matching.candidates(REQ, [], {}) == [] and matching.candidates(REQ, None, {}) == []


def test_a_reviewers_suggestion_wins() -> None:
    assert matching.candidates(REQ, hits(30.0), {"R-1": "AA-040"}) == ["AA-040"]
