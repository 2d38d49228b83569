"""How the offline specialists use the approved-answer library: queries, thresholds, hints.

``search_answers`` ranks with BM25 (higher is better). A requirement whose best hit scores at
least ``STRONG_MATCH`` is answered from it. BM25 adds up per query word, so a short requirement
("3.1 Encryption. Encrypt all data in transit and at rest.") cannot reach that score: for it, the
writer also tries a hit that stands clearly above the rest, then hits whose title names the
requirement's subject (a shared word, or an acronym the requirement spells out). The compliance
reviewer looks again, within the requirement's library category, for a weaker hit whose title
shares a key word with the requirement's title; it suggests that answer to the writer
(``[suggest R-4.1=AA-025]``), who then uses it as a partial answer. Suggestions are made once, so
a section converges in one revision.
"""

from __future__ import annotations

import re
from typing import Any

from ._acronyms import acronyms, spelled_out
from ._specific import stem

STRONG_MATCH = 24.0
WEAK_MATCH = 12.0
#: For a short requirement, a hit above ``WEAK_MATCH`` scoring this many times the next one is
#: a match too.
DOMINANT_RATIO = 2.0
#: A query of at most this many distinct words is short: ``STRONG_MATCH`` is out of its reach.
SHORT_QUERY = 12
#: For a short requirement, a hit whose title names its subject needs only this score.
TITLE_MATCH = WEAK_MATCH / 2
QUERY_CHARS = 400

#: Requirement category -> the library's category (the library files company facts as "company").
LIBRARY_CATEGORY = {
    "technical": "technical",
    "security": "security",
    "sla": "sla",
    "pricing": "pricing",
    "legal": "legal",
    "other": "company",
}

_SUGGEST = re.compile(r"\[suggest (?P<req>[^\s=\]]+)=(?P<answer>[^\s\]]+)\]")
_STOP = frozenset({"and", "the", "for", "with", "from", "into", "over", "under", "this", "that"})
# Words a search ignores or that every clause has: not counted in a query's length.
_FILLER = _STOP | {"shall", "must", "will", "should", "can", "are", "has", "have", "its", "all"}


def query_for(requirement: dict[str, Any]) -> str:
    """The search query for a requirement: its title and the start of its text."""
    text = str(requirement.get("text", ""))[:QUERY_CHARS]
    title = str(requirement.get("title", ""))
    return f"{title} {text}".strip() if title and not text.startswith(title) else text


def best_hit(results: Any, threshold: float = STRONG_MATCH) -> dict[str, Any] | None:
    """The top search result if it scores at least ``threshold``."""
    if not isinstance(results, list) or not results:
        return None
    top = max(results, key=lambda hit: float(hit.get("score", 0.0)))
    return top if float(top.get("score", 0.0)) >= threshold else None


def candidates(req: dict[str, Any], searched: Any, suggested: dict[str, str]) -> list[str]:
    """Approved answers to try for a requirement, best first: a reviewer's suggestion, else the
    strong search hits."""
    if req["id"] in suggested:
        return [suggested[req["id"]]]
    if not isinstance(searched, list):
        return []
    ranked = sorted(searched, key=lambda h: -float(h.get("score", 0.0)))
    strong = [h for h in ranked if float(h.get("score", 0.0)) >= STRONG_MATCH]
    if not strong and ranked and is_short(query_for(req)):
        strong = ranked[:1] if dominant(ranked) else []
        wanted = str(req.get("title") or "") or str(req.get("text", ""))[:80]
        named = [
            (shared, -n, h)
            for n, h in enumerate(ranked)
            if float(h.get("score", 0.0)) >= TITLE_MATCH
            and h not in strong
            and (shared := names_subject(str(h.get("title", "")), wanted, str(req.get("text", ""))))
        ]
        strong += [h for _, _, h in sorted(named, key=lambda x: (x[0], x[1]), reverse=True)]
    return [str(h["id"]) for h in strong]


def names_subject(answer_title: str, title: str, text: str) -> int:
    """How many ways an answer's title names the requirement's subject (0: it does not): content
    words shared with the requirement's title (crudely stemmed: "Backups" / "Backup and disaster
    recovery"), and acronyms of the answer's title that the requirement uses or spells out
    ("Integration APIs ..." / "an API"; "Access control, MFA ..." / "multi-factor
    authentication")."""
    shared = len(_title_stems(answer_title) & _title_stems(title))
    said = f"{title} {text}"
    used = acronyms(said)
    return shared + sum(1 for a in acronyms(answer_title) if a in used or spelled_out(a, said))


def _title_stems(text: str) -> set[str]:
    return {stem(w) for w in key_words(text)}


def is_short(query: str) -> bool:
    """At most ``SHORT_QUERY`` distinct words of three letters or more, clause filler aside."""
    words = {w.lower() for w in re.findall(r"[A-Za-z0-9]{3,}", query)} - _FILLER
    return len(words) <= SHORT_QUERY


def dominant(ranked: list[dict[str, Any]]) -> bool:
    """Whether the top hit stands clearly above the rest. BM25 scores add up per query word, so
    a short requirement ("encrypt all data in transit and at rest") never reaches
    ``STRONG_MATCH`` even when one answer is plainly about it: there, a hit above ``WEAK_MATCH``
    that scores ``DOMINANT_RATIO`` times the next one is the answer. Long requirements keep
    ``STRONG_MATCH``, the score it was set for."""
    top = float(ranked[0].get("score", 0.0))
    runner_up = float(ranked[1].get("score", 0.0)) if len(ranked) > 1 else 0.0
    return top >= WEAK_MATCH and top >= DOMINANT_RATIO * runner_up


def key_words(text: str) -> set[str]:
    """Content words of a title, lower-cased and crudely singularised."""
    words = {w.lower().rstrip("s") for w in re.findall(r"[A-Za-z][A-Za-z-]{2,}", text)}
    return {w for w in words if w not in _STOP and len(w) > 3}


def related_hit(
    requirement: dict[str, Any], results: Any, exclude: set[str]
) -> dict[str, Any] | None:
    """A weaker hit the writer missed: scored above ``WEAK_MATCH`` and sharing a title word."""
    if not isinstance(results, list):
        return None
    wanted = key_words(str(requirement.get("title") or requirement.get("text", "")[:80]))
    for hit in sorted(results, key=lambda h: -float(h.get("score", 0.0))):
        if hit.get("id") in exclude or float(hit.get("score", 0.0)) < WEAK_MATCH:
            continue
        if wanted & key_words(str(hit.get("title", ""))):
            return hit
    return None


def suggestion(requirement_id: str, answer_id: str, title: str) -> str:
    """A compliance reason that points the writer at an approved answer it did not use."""
    return (
        f"{requirement_id}: no answer was drafted, but approved answer {answer_id} ({title}) "
        f"addresses it; use it and say where it falls short [suggest {requirement_id}={answer_id}]"
    )


def suggestions(feedback: list[str]) -> dict[str, str]:
    """requirement id -> suggested answer id, from reviewers' reasons."""
    found: dict[str, str] = {}
    for line in feedback:
        for match in _SUGGEST.finditer(line):
            found[match.group("req")] = match.group("answer")
    return found


def clean_text(text: str) -> str:
    """An approved answer's text as one paragraph per blank-line block, whitespace collapsed."""
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]
    return "\n\n".join(b for b in blocks if b)
