"""How the offline specialists use the approved-answer library: queries, thresholds, hints.

``search_answers`` ranks with BM25 (higher is better). A requirement whose best hit scores at
least ``STRONG_MATCH`` is answered from it. The compliance reviewer looks again, within the
requirement's library category, for a weaker hit whose title shares a key word with the
requirement's title; it suggests that answer to the writer (``[suggest R-4.1=AA-025]``), who then
uses it as a partial answer. Suggestions are made once, so a section converges in one revision.
"""

from __future__ import annotations

import re
from typing import Any

STRONG_MATCH = 24.0
WEAK_MATCH = 12.0
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
