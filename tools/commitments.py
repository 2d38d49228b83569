"""``check_commitment``: does an answer commit to what a requirement asks?

The check is deterministic (no model): it reads typed constraints from both texts (durations,
response and recovery times, percentages, money, counts, frequencies, unlimited vs capped, fixed
vs escalating prices, ownership, data location, certifications, languages), pairs them by subject,
compares them with units normalised and returns both values side by side. An LLM reviewer and the
offline reviewer call the same tool, so both apply the same rigour and the result is journaled.
"""

from __future__ import annotations

from agentorch import tool
from agentorch.errors import ModelRetry

from ._compare import check, extract
from ._verdict import CommitmentCheck, ConstraintCheck, Verdict

__all__ = ["CommitmentCheck", "ConstraintCheck", "Verdict", "check", "check_commitment", "extract"]

MAX_CHARS = 20_000


@tool(risk="read")
def check_commitment(requirement: str, answer: str) -> CommitmentCheck:
    """Check whether an answer meets the values and terms a requirement asks for.

    Returns a verdict (meets, falls_short, conflicts, not_stated or cannot_tell), whether the
    answer is on the requirement's subject at all, and one check per constraint with the required
    and the offered value side by side. Business days count 5 in 7 calendar days.

    Args:
        requirement: The requirement's full text, as the buyer wrote it.
        answer: The proposed answer's full text.
    """
    if not requirement.strip():
        raise ModelRetry("the requirement is empty; pass the requirement's full text")
    for name, text in (("requirement", requirement), ("answer", answer)):
        if len(text) > MAX_CHARS:
            raise ModelRetry(
                f"the {name} is {len(text)} characters; pass one requirement and one answer "
                f"(at most {MAX_CHARS} characters each)"
            )
    return check(requirement, answer)
