"""What each page of the review inbox shows, read from the store (no HTML here).

The same store the command line uses, whichever engine ran the runs: a page is a plain dict the
templates render, so the inbox and ``agentorch approve`` read escalations through one function
(``escalation_review``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentorch.approvals_store import escalation_review
from agentorch.cli.summary import run_outcome
from agentorch.store.base import ApprovalRecord, AuditRecord, RunRecord, Store

#: Statuses in which a run may hold pending approvals (the inbox looks only at these runs).
OPEN_STATUSES = ("waiting_approval", "running", "in_doubt", "interrupted", "pending")
#: How many runs the pages read at most (newest first).
RUN_LIMIT = 500
#: The buttons each subject offers, as (decision, label); "edit" takes new arguments.
CHOICES: dict[str, list[tuple[str, str]]] = {
    "tool": [("approved", "Approve"), ("edited", "Approve with edits"), ("denied", "Deny")],
    "escalation": [("approved", "Approve"), ("denied", "Deny")],
    "plan": [("approved", "Approve plan"), ("denied", "Cancel run")],
    "in_doubt": [("run_again", "Run again"), ("skipped", "Skip"), ("mark_done", "Mark done")],
}
#: Event kinds the run page lists (the rest, e.g. each state record, are bookkeeping).
SHOWN_EVENTS = frozenset(
    {
        "run_started",
        "plan_made",
        "step_started",
        "step_finished",
        "step_waiting",
        "review_verdict",
        "revision_requested",
        "escalated",
        "approval_requested",
        "approval_decided",
        "permission_refused",
        "run_resumed",
        "run_paused",
        "run_finished",
        "plan_rejected",
        "step_failed",
        "step_skipped",
        "budget_warning",
        "budget_exceeded",
    }
)


def cost(usage: Mapping[str, Any] | None) -> float:
    total = (usage or {}).get("total", usage or {})
    return float(total.get("cost_usd", 0.0) or 0.0) if isinstance(total, Mapping) else 0.0


def tokens(usage: Mapping[str, Any] | None) -> int:
    total = (usage or {}).get("total", usage or {})
    if not isinstance(total, Mapping):
        return 0
    return int(total.get("input_tokens", 0) or 0) + int(total.get("output_tokens", 0) or 0)


def age(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds)}s ago"
    if seconds < 5400:
        return f"{int(seconds // 60)} min ago"
    if seconds < 129600:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} d ago"


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


def waiting_for(approvals: list[ApprovalRecord]) -> str:
    """What a run waits for, in words: 'escalation of write_legal; tool write_file'."""
    return "; ".join(
        f"{a.subject.replace('_', ' ')} of {a.step_id}"
        if not a.tool
        else f"{a.subject.replace('_', ' ')} {a.tool} ({a.step_id})"
        for a in approvals
    )


def runs_page(
    store: Store, *, status: str | None = None, query: str = "", waiting: bool = False
) -> list[dict[str, Any]]:
    """The runs list: status, task, cost, what each waits for; newest first, filtered."""
    now = time.time()
    rows = []
    needle = query.strip().lower()
    for run in store.list_runs(limit=RUN_LIMIT, status=status or None):
        name = Path(run.workflow).name if run.workflow else ""
        if needle and needle not in f"{run.run_id} {run.task} {name}".lower():
            continue
        pending = (
            store.approvals(run.run_id, pending_only=True) if run.status in OPEN_STATUSES else []
        )
        if waiting and not pending:
            continue
        rows.append(
            {
                "run_id": run.run_id,
                "status": run.status,
                "outcome": run_outcome(run.output),
                "task": run.task,
                "workflow": name,
                "cost": cost(run.usage),
                "tokens": tokens(run.usage),
                "waiting_for": waiting_for(pending),
                "pending": len(pending),
                "age": age(now - (run.created_at or now)),
                "created": when(run.created_at),
            }
        )
    return rows


def inbox_items(store: Store, *, run_id: str | None = None) -> list[dict[str, Any]]:
    """Every pending decision (of one run, or of every open run), oldest first, with what a
    person needs to decide it: the reason, the reviewers' verdicts and points, the arguments."""
    runs = (
        [store.get_run(run_id)]
        if run_id
        else [r for s in OPEN_STATUSES for r in store.list_runs(limit=RUN_LIMIT, status=s)]
    )
    items = []
    for run in runs:
        for approval in store.approvals(run.run_id, pending_only=True):
            items.append(approval_item(store, run, approval))
    items.sort(key=lambda i: i["created_at"])
    return items


def approval_item(store: Store, run: RunRecord, approval: ApprovalRecord) -> dict[str, Any]:
    verdicts, points = escalation_review(store, run, approval)
    return {
        "approval": approval,
        "run": run,
        "workflow": Path(run.workflow).name if run.workflow else "",
        "verdicts": verdicts,
        "points": points,
        "choices": CHOICES.get(approval.subject, CHOICES["tool"]),
        "created_at": approval.created_at,
        "created": when(approval.created_at),
        "dom_id": "req-" + "".join(c if c.isalnum() else "-" for c in approval.request_id),
    }


def run_page(store: Store, run_id: str, *, workdir: Path | None = None) -> dict[str, Any]:
    """One run: facts, the plan as a timeline, usage by agent and model, its pending and decided
    approvals, the documents it wrote, the audit log's verdict and its latest events."""
    run = store.get_run(run_id)
    steps = {s.step_id: s for s in store.get_steps(run.run_id)}
    plan_steps = (run.plan or {}).get("steps") or [
        {"id": sid, "agent": s.agent} for sid, s in steps.items()
    ]
    starts = [s.started_at for s in steps.values() if s.started_at]
    first = min(starts) if starts else run.created_at
    ends = [s.finished_at or s.started_at for s in steps.values() if s.started_at]
    last = max([*ends, first + 1e-6]) if ends else first + 1e-6
    span = max(last - first, 1e-6)
    timeline = []
    for raw in plan_steps:
        sid = raw.get("id", "")
        step = steps.get(sid)
        start = step.started_at if step and step.started_at else None
        end = (step.finished_at or time.time()) if step and start else None
        timeline.append(
            {
                "id": sid,
                "agent": raw.get("agent", step.agent if step else ""),
                "depends_on": raw.get("depends_on") or [],
                "reviews": raw.get("reviews"),
                "status": step.status if step else "pending",
                "revision": step.revision if step else 0,
                "cost": cost(step.usage) if step else 0.0,
                "tokens": tokens(step.usage) if step else 0,
                "left": 100 * ((start or first) - first) / span if start else 0.0,
                "width": max(0.6, 100 * ((end or start or first) - (start or first)) / span)
                if start
                else 0.0,
                "seconds": (end - start) if start and end else None,
                "error": step.error if step else None,
            }
        )
    approvals = store.approvals(run.run_id)
    usage = run.usage or {}
    return {
        "run": run,
        "workflow": Path(run.workflow).name if run.workflow else "",
        "cost": cost(usage),
        "tokens": tokens(usage),
        "limit": (run.budget or {}).get("usd"),
        "created": when(run.created_at),
        "timeline": timeline,
        "by_agent": _usage_rows(usage.get("by_agent")),
        "by_model": _usage_rows(usage.get("by_model")),
        "pending": [a for a in approvals if a.status == "pending"],
        "decided": [a for a in approvals if a.status != "pending"],
        "outcome": _relative_outcome(run_outcome(run.output), workdir or Path.cwd()),
        "documents": documents(run, workdir or Path.cwd()),
        "audit": store.verify_audit(run.run_id),
        "events": [event_row(e) for e in recent_events(store, run.run_id)],
        "last_seq": last_seq(store, run.run_id),
    }


def _relative_outcome(outcome: dict[str, Any] | None, workdir: Path) -> dict[str, Any] | None:
    """The outcome with paths inside the server's folder written relative to it."""
    if outcome is None:
        return None
    prefix = str(workdir.resolve()) + "/"
    return {**outcome, "details": [d.replace(prefix, "") for d in outcome["details"]]}


def _usage_rows(groups: Any) -> list[dict[str, Any]]:
    if not isinstance(groups, Mapping):
        return []
    rows = [
        {
            "name": name,
            "requests": int(u.get("requests", 0) or 0),
            "input": int(u.get("input_tokens", 0) or 0),
            "output": int(u.get("output_tokens", 0) or 0),
            "cost": float(u.get("cost_usd", 0.0) or 0.0),
        }
        for name, u in groups.items()
        if isinstance(u, Mapping)
    ]
    return sorted(rows, key=lambda r: (-r["cost"], -(r["input"] + r["output"])))


#: The documents a workflow writes that the run page renders (the RFP workflow's two).
DOCUMENTS = ("response.md", "bid-review.md")
_DOCUMENT_LIMIT = 2_000_000


def documents(run: RunRecord, workdir: Path) -> list[dict[str, str]]:
    """The run's written documents (its output folder's ``response.md`` and ``bid-review.md``,
    or the file its output names), as markdown text. A relative folder is the run's working
    folder's, which the server shares (it resumes runs there)."""
    state = (run.spec or {}).get("state") or {}
    folder = state.get("output_dir")
    candidates: list[Path] = []
    if isinstance(folder, str) and folder:
        candidates += [workdir / folder / name for name in DOCUMENTS]
    out = run.output
    path = out.get("path") if isinstance(out, Mapping) else None
    if isinstance(path, str) and path.endswith(".md"):
        candidates.append(workdir / path)
    found, seen = [], set()
    for candidate in candidates:
        try:
            resolved = candidate.resolve()
            if resolved in seen or not resolved.is_file():
                continue
            seen.add(resolved)
            text = resolved.read_text(encoding="utf-8", errors="replace")[:_DOCUMENT_LIMIT]
        except OSError:
            continue
        found.append({"name": resolved.name, "markdown": text})
    return found


def recent_events(
    store: Store, run_id: str, *, after: int = 0, limit: int = 200
) -> list[AuditRecord]:
    """The run's shown events after sequence number ``after`` (the last ``limit`` of them)."""
    shown = [e for e in store.events(run_id) if e.seq > after and e.kind in SHOWN_EVENTS]
    return shown[-limit:]


def last_seq(store: Store, run_id: str) -> int:
    seq = 0
    for record in store.events(run_id):
        seq = record.seq
    return seq


def event_row(record: AuditRecord) -> dict[str, Any]:
    """One event in words, for the run page's live list."""
    p = record.payload
    step = p.get("step_id") or ""
    text = {
        "run_started": lambda: f"run started on the {p.get('engine', '')} engine",
        "plan_made": lambda: f"plan made: {len((p.get('plan') or {}).get('steps') or [])} steps",
        "step_started": lambda: f"{step} ({p.get('agent') or ''}) started",
        "step_finished": lambda: f"{step} done",
        "step_failed": lambda: f"{step} failed: {p.get('error') or ''}",
        "step_skipped": lambda: f"{step} skipped",
        "run_resumed": lambda: "run resumed",
        "step_waiting": lambda: f"{step} waits for a decision",
        "review_verdict": lambda: (
            f"{p.get('agent') or ''} on {p.get('target_step') or step}: {p.get('verdict', '')}"
        ),
        "revision_requested": lambda: f"{step}: revision requested",
        "escalated": lambda: f"{step} escalated to a person",
        "approval_requested": lambda: (
            f"approval requested: {p.get('subject', '')} {p.get('tool') or ''} ({step})"
        ),
        "approval_decided": lambda: (
            f"{p.get('decision', '')} by {p.get('approver', '')}"
            + (f": {p['comment']}" if p.get("comment") else "")
        ),
        "permission_refused": lambda: f"tool {p.get('tool', '')} refused to {p.get('agent', '')}",
        "run_paused": lambda: f"run paused: {p.get('reason', '')}",
        "run_finished": lambda: f"run ended: {p.get('status', '')}",
    }.get(record.kind, lambda: str(p.get("message") or ""))()
    return {"seq": record.seq, "kind": record.kind, "time": when(record.ts), "text": text}
