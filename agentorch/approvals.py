"""Human review gates: the ``Approver`` interface and the built-in approvers.

An approver answers an ``ApprovalRequest`` (a tool call, an escalated result, a plan, or a tool
call whose outcome is in doubt after a crash) with an ``ApprovalDecision``, or with ``None`` to
defer: the run then saves itself as ``waiting_approval`` and a person decides later, from another
process (``agentorch approve``) or from Python (``Supervisor.approve``).
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Subject = Literal["tool", "escalation", "plan", "in_doubt"]
Decision = Literal["approved", "denied", "edited", "skipped", "run_again", "mark_done"]


class ApprovalRequest(BaseModel):
    """What a person is asked to decide, with the exact arguments that would run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str
    run_id: str
    subject: Subject = "tool"
    step_id: str | None = None
    agent: str | None = None
    tool: str | None = None
    arguments: dict[str, Any] = Field(default_factory=dict)
    risk: str | None = None
    reason: str = ""
    #: For escalations: the result under review (a preview), and reviewers' verdicts.
    details: dict[str, Any] = Field(default_factory=dict)


class ApprovalDecision(BaseModel):
    """A person's (or a rule's) answer. ``arguments`` replaces the request's when edited."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: Decision
    approver: str = "unknown"
    comment: str = ""
    arguments: dict[str, Any] | None = None
    #: Made by a rule (``ApproveAll``, auto-approval), not by a person looking at the request.
    automatic: bool = False

    @property
    def approved(self) -> bool:
        return self.decision in ("approved", "edited", "run_again", "mark_done")


#: How rule-made decisions' comments start: a decision read back from the store with such a
#: comment is automatic again (a person's comment that starts so only makes it count for less).
AUTOMATIC_COMMENTS = ("automatic", "auto-approved")


def decided_automatically(comment: str) -> bool:
    """Whether a recorded decision's comment says a rule, not a person, made it."""
    return comment.strip().lower().startswith(AUTOMATIC_COMMENTS)


def approve(approver: str = "auto", comment: str = "") -> ApprovalDecision:
    return ApprovalDecision(decision="approved", approver=approver, comment=comment)


def deny(reason: str, approver: str = "auto") -> ApprovalDecision:
    return ApprovalDecision(decision="denied", approver=approver, comment=reason)


class Approver(ABC):
    """Decides approval requests. Return ``None`` to defer the decision to the store."""

    @abstractmethod
    async def decide(self, request: ApprovalRequest) -> ApprovalDecision | None: ...

    def withdraw(self, request: ApprovalRequest) -> None:
        """The request was decided elsewhere (``agentorch approve``) while this approver was
        asking: stop asking. The first decision wins; the run continues with it."""
        return None  # an approver with nothing on screen has nothing to withdraw


class CallbackApprover(Approver):
    """A Python function (sync or async) decides: it returns a decision, a bool, or ``None``."""

    def __init__(
        self,
        callback: Callable[[ApprovalRequest], Any | Awaitable[Any]],
        *,
        name: str = "callback",
    ) -> None:
        self.callback = callback
        self.name = name

    async def decide(self, request: ApprovalRequest) -> ApprovalDecision | None:
        result = self.callback(request)
        if inspect.isawaitable(result):
            result = await result
        if result is None or isinstance(result, ApprovalDecision):
            return result
        if result is True:
            return approve(self.name)
        if result is False:
            return deny("denied by callback", self.name)
        raise TypeError(
            f"approval callback returned {type(result).__name__}; expected ApprovalDecision, bool or None"
        )


class AutoApprover(Approver):
    """Approves requests up to a risk level (e.g. ``read``) and hands the rest to ``fallback``.

    Without a fallback, anything above the level is denied: never silently approved.
    """

    def __init__(self, up_to: str = "read", *, fallback: Approver | None = None) -> None:
        from agentorch.tools.base import RISK_LEVELS

        if up_to not in RISK_LEVELS:
            raise ValueError(f"up_to must be one of {RISK_LEVELS}")
        self.up_to = up_to
        self.fallback = fallback

    async def decide(self, request: ApprovalRequest) -> ApprovalDecision | None:
        from agentorch.tools.base import risk_rank

        if (
            request.subject == "tool"
            and request.risk
            and risk_rank(request.risk) <= risk_rank(self.up_to)
        ):
            return ApprovalDecision(
                decision="approved",
                approver="policy:auto",
                comment=f"auto-approved: risk {request.risk} <= {self.up_to}",
                automatic=True,
            )
        if self.fallback is not None:
            return await self.fallback.decide(request)
        return deny(f"no approver for {request.subject} above risk {self.up_to}", "policy:auto")


class DeferredApprover(Approver):
    """Every request waits in the store for a decision from another process or later."""

    async def decide(self, request: ApprovalRequest) -> ApprovalDecision | None:
        return None


class ApproveAll(Approver):
    """Approves everything. For tests and trusted, fully sandboxed runs only.

    Its decisions are ``automatic``: a tool that needs a person's word (e.g. to accept open
    mandatory gaps at submission) does not take them as one.
    """

    def __init__(self, name: str = "approve-all") -> None:
        self.name = name

    async def decide(self, request: ApprovalRequest) -> ApprovalDecision | None:
        return ApprovalDecision(
            decision="approved",
            approver=self.name,
            comment="automatic: approve-all",
            automatic=True,
        )


__all__ = [
    "ApprovalDecision",
    "ApprovalRequest",
    "ApproveAll",
    "Approver",
    "AutoApprover",
    "CallbackApprover",
    "DeferredApprover",
    "approve",
    "deny",
]
