"""Deciding a waiting run's approvals from another process (``agentorch approve``, ``Supervisor.approve``).

The decision is written to the store and to the run's audit log (who, what, exact arguments,
when); resuming the run then continues from it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from agentorch.errors import UserError
from agentorch.events.types import ApprovalDecided
from agentorch.store.base import ApprovalRecord, RunRecord, Store

_DECISIONS = {"approved", "denied", "edited", "skipped", "run_again", "mark_done"}


def find_pending(
    store: Store, run_id: str, *, request_id: str | None = None, step: str | None = None
) -> ApprovalRecord:
    """The one pending approval that matches; a clear error when none or several do."""
    run = store.get_run(run_id)
    pending = store.approvals(run.run_id, pending_only=True)
    if not pending:
        raise UserError(
            f"run {run.run_id} has no pending approvals", hint=f"agentorch show {run.run_id}"
        )
    matches = pending
    if request_id is not None:
        matches = [
            a for a in pending if a.request_id == request_id or a.request_id.endswith(request_id)
        ]
    if step is not None:
        matches = [a for a in matches if a.step_id == step]
    if len(matches) == 1:
        return matches[0]
    listing = "; ".join(
        f"{a.request_id} (step {a.step_id}, {a.subject} {a.tool or ''})".strip() for a in pending
    )
    if not matches:
        raise UserError(
            f"no pending approval of run {run.run_id} matches", hint=f"pending: {listing}"
        )
    raise UserError(
        f"run {run.run_id} has {len(matches)} pending approvals; say which with --step or the request id",
        hint=f"pending: {listing}",
    )


def decide_pending(
    store: Store,
    run_id: str,
    *,
    request_id: str | None = None,
    step: str | None = None,
    deny: bool = False,
    reason: str = "",
    approver: str = "cli",
    arguments: dict[str, Any] | None = None,
    decision: str | None = None,
    now: float | None = None,
) -> ApprovalRecord:
    """Record a person's decision on a pending approval and audit it."""
    record = find_pending(store, run_id, request_id=request_id, step=step)
    if decision is None:
        decision = "denied" if deny else ("edited" if arguments is not None else "approved")
    if decision not in _DECISIONS:
        raise UserError(
            f"unknown decision {decision!r}", hint=f"one of: {', '.join(sorted(_DECISIONS))}"
        )
    if record.subject == "in_doubt" and decision in ("approved", "edited"):
        raise UserError(
            "this call is in doubt: decide run_again, skipped or mark_done",
            hint="agentorch approve RUN_ID --decision run_again|skipped|mark_done",
        )
    if deny and not reason:
        raise UserError("a denial needs a reason", hint="add --reason '...'")
    when = time.time() if now is None else now
    with store.transaction():
        decided = store.decide_approval(
            record.request_id,
            status=decision,  # type: ignore[arg-type]
            approver=approver,
            decided_arguments=arguments,
            comment=reason,
            decided_at=when,
        )
        event = ApprovalDecided(
            run_id=record.run_id,
            ts=when,
            step_id=record.step_id,
            agent=record.agent,
            request_id=record.request_id,
            decision=decision,  # type: ignore[arg-type]
            approver=approver,
            arguments=arguments if arguments is not None else record.arguments,
            comment=reason,
            decided_at=when,
        )
        store.append_event(record.run_id, event.kind, event.ts, event.model_dump(mode="json"))
    return decided


def escalation_review(
    store: Store, run: RunRecord, approval: ApprovalRecord
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The reviewers' verdicts (with reasons and flags) and points behind an escalation: what ``agentorch approve`` and
    the review inbox show (asked, proposed, values side by side, why).

    The points live in the reviewer steps' outputs (the store keeps them); the approval record
    holds only the reason. Both lists are empty for other subjects.
    """
    verdicts: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    if approval.subject != "escalation":
        return verdicts, points
    plan_steps = (run.plan or {}).get("steps") or []
    outputs = {s.step_id: s.output for s in store.get_steps(run.run_id)}
    for reviewer in (s for s in plan_steps if s.get("reviews") == approval.step_id):
        out = outputs.get(reviewer.get("id"))
        if not isinstance(out, Mapping) or "verdict" not in out:
            continue
        name = reviewer.get("agent")
        verdicts.append(
            {
                "reviewer": name,
                "verdict": out["verdict"],
                "confidence": out.get("confidence", 0),
                "reasons": list(out.get("reasons") or []),
                "flags": list(out.get("flags") or []),
            }
        )
        points += [{"reviewer": name, **p} for p in out.get("points") or []]
    return verdicts, points
