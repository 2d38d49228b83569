"""``search_answers`` and ``get_answer``: the bid team's approved-answer library.

The library comes from ``ToolContext.state["library"]`` (else ``$AGENTORCH_LIBRARY``, else
``./library``); its full-text index is cached under ``state["cache_dir"]`` (else
``$AGENTORCH_CACHE_DIR``, else ``~/.cache/agentorch``) and rebuilt only when the library changes.
"""

from __future__ import annotations

from typing import Any

from agentorch import ToolContext, tool
from agentorch.errors import ModelRetry

from ._answer_index import AnswerIndex, cache_root, get, open_index, search
from ._library import CATEGORIES, resolve_library

MAX_RESULTS = 25


@tool(risk="read")
def search_answers(
    ctx: ToolContext, query: str, category: str | None = None, limit: int = 5
) -> list[dict[str, Any]]:
    """Search the approved-answer library; best matches first.

    Use the returned ids with get_answer to read an answer in full before relying on it.

    Args:
        query: What the requirement asks about, in plain words (e.g. "single sign-on SAML").
        category: Only answers of this category: technical, security, sla, pricing, legal or
            company.
        limit: How many answers to return (1-25).
    """
    wanted = None
    if category is not None and category.strip():
        wanted = category.strip().lower()
        if wanted not in CATEGORIES:
            raise ModelRetry(
                f"unknown category {category!r}; use one of {', '.join(CATEGORIES)} or omit it"
            )
    if not any(ch.isalnum() for ch in query):
        raise ModelRetry("the query has no words to search for; describe the requirement")
    limit = max(1, min(int(limit), MAX_RESULTS))
    return search(_index(ctx), query, category=wanted, limit=limit)


@tool(risk="read")
def get_answer(ctx: ToolContext, answer_id: str) -> dict[str, Any]:
    """Get one approved answer in full: its text, category, tags, owner and approval date.

    The usage_notes field is guidance for the bid team (limits, required sign-offs); never copy
    it into a response.

    Args:
        answer_id: The answer's id as search_answers returned it (e.g. "AA-006").
    """
    answer = get(_index(ctx), answer_id)
    if answer is None:
        raise ModelRetry(
            f"no approved answer with id {answer_id!r}; use search_answers to find valid ids"
        )
    return answer


def _index(ctx: ToolContext | None) -> AnswerIndex:
    state = ctx.state if ctx is not None else {}
    return open_index(resolve_library(state), cache_root(state))
