"""Helpers for the workflow tests: the example workflow and an approver that records requests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentorch import CallbackApprover
from agentorch.approvals import ApprovalDecision, ApprovalRequest
from agentorch.workflow import Workflow, load_workflow

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "rfp"
DATA = REPO / "tests" / "data"


def rfp_workflow() -> Workflow:
    return load_workflow(EXAMPLE)


class Recorder:
    """Approves (or answers with ``rule``) every request and records it, with a snapshot."""

    def __init__(
        self,
        rule: Callable[[ApprovalRequest], bool] | None = None,
        snapshot: Callable[[ApprovalRequest], Any] | None = None,
    ) -> None:
        self.requests: list[ApprovalRequest] = []
        self.snapshots: list[Any] = []
        self.rule = rule
        self.snapshot = snapshot
        self.approver = CallbackApprover(self.decide, name="tester")

    def decide(self, request: ApprovalRequest) -> ApprovalDecision | bool:
        self.requests.append(request)
        self.snapshots.append(self.snapshot(request) if self.snapshot else None)
        if self.rule is not None and not self.rule(request):
            return ApprovalDecision(decision="denied", approver="tester", comment="not this time")
        return True

    def of(self, subject: str, tool: str | None = None) -> list[ApprovalRequest]:
        return [
            r for r in self.requests if r.subject == subject and (tool is None or r.tool == tool)
        ]
