"""The verdicts of a commitment check and how they read."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field

from ._constraints import Constraint
from ._standards import cert_label

Verdict = Literal["meets", "falls_short", "conflicts", "not_stated", "cannot_tell"]
Direction = Literal["max", "min", "exact", "presence"]
#: Worst first: the whole answer is as bad as its worst check.
SEVERITY: dict[str, int] = {
    "conflicts": 4,
    "falls_short": 3,
    "cannot_tell": 2,
    "not_stated": 1,
    "meets": 0,
}
_WORDS = {
    "meets": "meets",
    "falls_short": "falls short",
    "conflicts": "conflicts",
    "not_stated": "not stated",
    "cannot_tell": "cannot tell",
}


class ConstraintCheck(BaseModel):
    """One constraint of the requirement, the answer's value for it, and the verdict."""

    kind: str = Field(description="duration, response_time, recovery_time, percentage, money, ...")
    subject: str = Field(description='What the value is about, e.g. "notification", "RTO"')
    direction: Direction
    required: str
    offered: str | None
    verdict: Verdict
    detail: str

    def line(self) -> str:
        offered = self.offered if self.offered is not None else "not stated"
        return (
            f"{self.subject}: required {self.required}, answer {offered} → {_WORDS[self.verdict]}"
        )


class CommitmentCheck(BaseModel):
    """Whether an answer commits to what a requirement asks, with both values side by side."""

    verdict: Verdict
    relevant: bool
    relevance: float
    checks: list[ConstraintCheck]
    summary: str


# ---------------------------------------------------------------- shared display helpers -------

_SIGN = {"max": "≤ ", "min": "≥ ", "exact": "", "presence": ""}


def required_text(rc: Constraint) -> str:
    if rc.kind == "certification":
        text = " or ".join(cert_label(o) for o in rc.options)
        return text + (" (or equivalent)" if rc.term == "or equivalent" else "")
    if rc.kind in (
        "duration",
        "response_time",
        "recovery_time",
        "percentage",
        "money",
        "count",
        "frequency",
    ):
        return _SIGN[rc.direction] + rc.text
    return rc.text


def finite(value: float | None) -> float:
    return math.inf if value is None else value
