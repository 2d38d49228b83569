"""A run's trace as a tree (run -> step attempts -> model and tool calls), built from its events.

Data only: ``agentorch show --trace`` renders it; tests and users can walk it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from agentorch.events.types import BaseEvent, parse_event

NodeKind = Literal["run", "step", "model_call", "tool_call"]
NodeStatus = Literal[
    "running", "ok", "error", "skipped", "waiting", "paused", "retrying", "interrupted"
]


@dataclass
class TraceNode:
    """One node of a run's trace. Times are seconds since the epoch, from the events' ``ts``."""

    kind: NodeKind
    id: str
    label: str
    status: NodeStatus | str = "running"
    start: float | None = None
    end: float | None = None
    agent: str | None = None
    model: str | None = None
    tool: str | None = None
    revision: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    replayed: bool = False
    error: str | None = None
    #: Notable moments inside the node (approvals, refusals, reviews, budget warnings, retries).
    notes: list[str] = field(default_factory=list)
    children: list[TraceNode] = field(default_factory=list)

    @property
    def duration(self) -> float | None:
        """Seconds between start and end, when both are known."""
        if self.start is None or self.end is None:
            return None
        return max(0.0, self.end - self.start)

    def walk(self, depth: int = 0) -> Iterator[tuple[int, TraceNode]]:
        """This node and its descendants, depth-first, with their depth."""
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)

    def find(self, kind: NodeKind) -> list[TraceNode]:
        """All descendants (and self) of one kind, in tree order."""
        return [node for _, node in self.walk() if node.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``duration`` included)."""
        data = asdict(self)
        data.pop("children")
        data["duration"] = self.duration
        data["children"] = [c.to_dict() for c in self.children]
        return data


def _ts(e: BaseEvent) -> float | None:
    return e.ts if e.ts > 0 else None


def _totals(usage: dict[str, Any] | None) -> dict[str, Any]:
    """Token and cost totals from a usage dict: flat, or a usage report with a ``total``."""
    usage = usage or {}
    total = usage.get("total")
    return total if isinstance(total, dict) else usage


class _Builder:
    def __init__(self, run_id: str) -> None:
        self.root = TraceNode(kind="run", id=run_id, label=f"run {run_id}")
        self.steps: dict[str, TraceNode] = {}  # step_id -> latest attempt
        self.calls: dict[tuple[str, str], TraceNode] = {}

    def parent(self, e: BaseEvent) -> TraceNode:
        if e.step_id is not None and e.step_id in self.steps:
            return self.steps[e.step_id]
        return self.root

    def step(self, e: Any) -> TraceNode:
        node = self.steps.get(e.step_id or "")
        if node is None:  # a step we did not see start (a resumed run's earlier segment)
            node = self._new_step(e, revision=getattr(e, "revision", 0))
        return node

    def _new_step(self, e: Any, revision: int) -> TraceNode:
        step_id = e.step_id or ""
        agent = e.agent or "?"
        label = f"{step_id} {agent}" + (f" (revision {revision})" if revision else "")
        node = TraceNode(
            kind="step",
            id=step_id,
            label=label,
            start=_ts(e),
            agent=e.agent,
            revision=revision,
        )
        self._enclosing(step_id).children.append(node)
        self.steps[step_id] = node
        return node

    def _enclosing(self, step_id: str) -> TraceNode:
        """A nested supervisor's step (``ops.book``) goes under the step that ran it (``ops``)."""
        head = step_id
        while "." in head:
            head = head.rsplit(".", 1)[0]
            if head in self.steps:
                return self.steps[head]
        return self.root

    def call(self, e: Any, kind: NodeKind, key: str) -> TraceNode:
        node = self.calls.get((kind, key))
        if node is None:
            if kind == "model_call":
                node = TraceNode(
                    kind=kind, id=key, label=f"chat {e.model}", model=e.model, agent=e.agent
                )
            else:
                node = TraceNode(
                    kind=kind, id=key, label=f"tool {e.tool}", tool=e.tool, agent=e.agent
                )
            self.parent(e).children.append(node)
            self.calls[(kind, key)] = node
        return node

    def add(self, e: Any) -> None:
        k = e.kind
        root = self.root
        if k == "run_started":
            root.start = root.start or _ts(e)
            root.label = f"run {e.run_id}" + (f" ({e.workflow})" if e.workflow else "")
            root.status = "running"
        elif k == "run_resumed":
            root.status = "running"
            for node in [*self.steps.values(), *self.calls.values()]:
                if node.status in ("running", "retrying"):
                    node.status = "interrupted"
            self.calls.clear()  # the same call keys come again, under the new step attempts
            root.notes.append(f"resumed ({len(e.completed_steps)} step(s) already done)")
        elif k == "run_paused":
            root.status = "paused"
            root.end = _ts(e)
            root.notes.append(f"paused: {e.reason}" + (f" - {e.message}" if e.message else ""))
        elif k == "run_finished":
            root.status = "ok" if e.status == "succeeded" else e.status
            root.end = _ts(e)
            root.error = e.error
            usage = _totals(e.usage)
            if isinstance(usage.get("cost_usd"), int | float):
                root.cost_usd = float(usage["cost_usd"])
            if isinstance(usage.get("input_tokens"), int):
                root.input_tokens = usage["input_tokens"]
            if isinstance(usage.get("output_tokens"), int):
                root.output_tokens = usage["output_tokens"]
        elif k == "plan_made":
            steps = e.plan.get("steps") or []
            root.notes.append(f"plan: {len(steps)} step(s) (attempt {e.attempt}, {e.source})")
        elif k == "plan_rejected":
            root.notes.append(f"plan rejected (attempt {e.attempt}): {'; '.join(e.errors)}")
        elif k == "step_started":
            node = self._new_step(e, e.revision)
            node.model = e.model or None
        elif k == "step_finished":
            node = self.step(e)
            node.status, node.end = "ok", _ts(e)
        elif k == "step_failed":
            node = self.step(e)
            node.status, node.end = "error", _ts(e)
            node.error = f"{e.error_type}: {e.message}"
        elif k == "step_skipped":
            node = self._new_step(e, 0)
            node.status, node.end = "skipped", _ts(e)
            node.notes.append(f"skipped: {e.reason}")
        elif k == "step_waiting":
            node = self.step(e)
            node.status = "waiting"
            node.notes.append(f"waiting for approval {e.request_id}")
        elif k == "model_call_started":
            node = self.call(e, "model_call", e.call_key)
            node.start = _ts(e)
        elif k == "model_call_finished":
            node = self.call(e, "model_call", e.call_key)
            if node.start is None and e.ts:
                node.start = e.ts - e.latency_ms / 1000
            node.end = _ts(e)
            node.status = "ok"
            node.input_tokens, node.output_tokens = e.input_tokens, e.output_tokens
            node.cost_usd = e.cost_usd
            node.replayed = e.replayed
        elif k == "model_call_failed":
            node = self.call(e, "model_call", e.call_key)
            if e.will_retry:
                node.status = "retrying"
                node.notes.append(f"attempt {e.attempt} failed: {e.error_type}: {e.message}")
            else:
                node.status, node.end = "error", _ts(e)
                node.error = f"{e.error_type}: {e.message}"
        elif k == "tool_call_started":
            node = self.call(e, "tool_call", e.call_id)
            node.start = _ts(e)
        elif k == "tool_call_finished":
            node = self.call(e, "tool_call", e.call_id)
            if node.start is None and e.ts:
                node.start = e.ts - e.duration_ms / 1000
            node.end = _ts(e)
            node.status = "error" if e.is_error else "ok"
            node.error = e.error if e.is_error else None
            node.replayed = e.replayed
        elif k == "permission_refused":
            refused = self.calls.get(("tool_call", e.call_id)) if e.call_id else None
            if refused is not None:
                refused.status = "error"
                refused.error = f"refused: {e.reason}"
            self.parent(e).notes.append(f"refused tool {e.tool}: {e.reason}")
        elif k == "review_verdict":
            self.parent(e).notes.append(f"review of {e.target_step}: {e.verdict}")
        elif k == "revision_requested":
            self.parent(e).notes.append(f"revision {e.revision} requested by {e.reviewer_step}")
        elif k == "escalated":
            self.parent(e).notes.append("escalated: " + "; ".join(e.reasons))
        elif k == "approval_requested":
            what = e.tool or e.subject
            self.parent(e).notes.append(f"approval {e.request_id} requested for {what}")
        elif k == "approval_decided":
            who = f" by {e.approver}" if e.approver else ""
            self.parent(e).notes.append(f"approval {e.request_id}: {e.decision}{who}")
        elif k == "budget_warning":
            self.parent(e).notes.append(f"budget {e.scope} at {e.fraction:.0%}")
        elif k == "budget_exceeded":
            self.parent(e).notes.append(f"budget {e.scope} exceeded: {e.message}")

    def finish(self) -> TraceNode:
        for _, node in self.root.walk():
            if node.kind == "step":
                calls = [c for c in node.children if c.kind == "model_call"]
                node.input_tokens = sum(c.input_tokens for c in calls)
                node.output_tokens = sum(c.output_tokens for c in calls)
                node.cost_usd = sum(c.cost_usd for c in calls)
        root = self.root
        if not (root.input_tokens or root.output_tokens or root.cost_usd):
            model_calls = root.find("model_call")
            root.input_tokens = sum(c.input_tokens for c in model_calls)
            root.output_tokens = sum(c.output_tokens for c in model_calls)
            root.cost_usd = sum(c.cost_usd for c in model_calls)
        if root.start is None:
            starts = [n.start for _, n in root.walk() if n.start is not None]
            root.start = min(starts) if starts else None
        return root


def build_trace(
    events: Iterable[BaseEvent | dict[str, Any]], run_id: str | None = None
) -> TraceNode:
    """The trace tree of one run from its events (typed, or their JSON form), in emitted order.

    Args:
        events: The run's events (from the store, a JSONL file, or a subscriber).
        run_id: Which run, when ``events`` holds several; otherwise the only run in them.

    Raises:
        ValueError: no events for the run, or several runs and no ``run_id``.
    """
    typed = [parse_event(e) if isinstance(e, dict) else e for e in events]
    if run_id is None:
        run_ids = list(dict.fromkeys(e.run_id for e in typed))
        if len(run_ids) > 1:
            raise ValueError(f"events of {len(run_ids)} runs ({', '.join(run_ids)}); pass run_id")
        if not run_ids:
            raise ValueError("no events to build a trace from")
        run_id = run_ids[0]
    builder = _Builder(run_id)
    found = False
    for event in typed:
        if event.run_id == run_id and not event.ephemeral:
            builder.add(event)
            found = True
    if not found:
        raise ValueError(f"no events for run {run_id!r}")
    return builder.finish()
