"""What the terminal shows about a run, folded from its events (shared by the live and plain views)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentorch.events.types import BaseEvent

#: Step states as the views name them.
WAITING, RUNNING, DONE, FAILED, SKIPPED, APPROVAL = (
    "waiting",
    "running",
    "done",
    "failed",
    "skipped",
    "waiting for approval",
)

_STREAM_KEEP = 4000  # characters of streamed text kept per step


@dataclass
class StepView:
    """One plan step as the terminal shows it."""

    id: str
    agent: str
    instruction: str = ""
    depends_on: list[str] = field(default_factory=list)
    reviews: str | None = None
    risk: str = "low"
    state: str = WAITING
    model: str = ""
    revision: int = 0
    cost_usd: float = 0.0
    tokens: int = 0
    note: str = ""
    started: float | None = None
    finished: float | None = None
    #: The state to go back to when a pending approval is decided: ``running`` for a tool call
    #: inside the step, ``done`` for an escalation of its finished result.
    before_approval: str = RUNNING


@dataclass
class Spend:
    cost_usd: float = 0.0
    tokens: int = 0
    calls: int = 0


class RunState:
    """A run's progress, updated by ``apply(event)``; safe to read from a render thread."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.started = clock()
        self.run_id = ""
        self.task = ""
        self.workflow: str | None = None
        self.engine = ""
        self.limit_usd: float | None = None
        self.limit_tokens: int | None = None
        self.steps: dict[str, StepView] = {}
        self.plan_source = ""
        self.final_step: str | None = None
        self.by_agent: dict[str, Spend] = {}
        self.total = Spend()
        self.status = "starting"
        self.error: str | None = None
        self.streams: dict[str, str] = {}
        self.streaming_step: str | None = None
        self.pending: dict[str, str] = {}  # request id -> what waits for approval
        self.notes: list[str] = []
        self.credential_errors: list[str] = []
        self.finished_at: float | None = None

    # --- reading -------------------------------------------------------------------------------

    @property
    def elapsed(self) -> float:
        end = self.finished_at if self.finished_at is not None else self.clock()
        return max(0.0, end - self.started)

    def ordered_steps(self) -> list[StepView]:
        """Steps in dependency order (a step after the steps it needs), ties by plan order."""
        with self.lock:
            steps = list(self.steps.values())
        placed: dict[str, StepView] = {}
        remaining = steps
        while remaining:
            ready = [
                s for s in remaining if all(d in placed or d not in self.steps for d in _deps(s))
            ]
            if not ready:  # a cycle (the plan is rejected anyway): keep plan order
                ready = remaining
            for s in ready:
                placed[s.id] = s
            remaining = [s for s in remaining if s.id not in placed]
        return list(placed.values())

    def counts(self) -> dict[str, int]:
        with self.lock:
            out: dict[str, int] = {}
            for step in self.steps.values():
                out[step.state] = out.get(step.state, 0) + 1
            return out

    # --- folding events ------------------------------------------------------------------------

    def set_plan(self, plan: dict[str, Any], source: str = "") -> None:
        with self.lock:
            old = self.steps
            self.steps = {}
            for raw in plan.get("steps") or []:
                step = old.get(raw["id"]) or StepView(id=raw["id"], agent=raw.get("agent", "?"))
                step.agent = raw.get("agent", step.agent)
                step.instruction = raw.get("instruction", "")
                step.depends_on = list(raw.get("depends_on") or [])
                step.reviews = raw.get("reviews")
                step.risk = raw.get("risk", "low")
                if raw.get("model"):
                    step.model = raw["model"]
                self.steps[step.id] = step
            self.final_step = plan.get("final_step")
            self.plan_source = source

    def _step(self, event: BaseEvent) -> StepView | None:
        sid = event.step_id
        if sid is None:
            return None
        step = self.steps.get(sid)
        if step is None:  # a nested supervisor's step, or one seen before the plan
            step = StepView(id=sid, agent=event.agent or "?")
            self.steps[sid] = step
        return step

    def apply(self, event: BaseEvent) -> None:
        """Fold one event into the state."""
        with self.lock:
            handler = getattr(self, f"_on_{event.kind}", None)
            if handler is not None:
                handler(event)

    def _on_run_started(self, e: Any) -> None:
        self.run_id = e.run_id
        self.task = e.task
        self.workflow = e.workflow
        self.engine = e.engine
        self.limit_usd = e.budget.get("usd")
        self.limit_tokens = e.budget.get("tokens")
        self.status = "running"

    def _on_run_resumed(self, e: Any) -> None:
        self.run_id = e.run_id or self.run_id
        self.limit_usd = e.budget.get("usd", self.limit_usd)
        self.limit_tokens = e.budget.get("tokens", self.limit_tokens)
        self.status = "running"
        for sid in e.completed_steps:
            if sid in self.steps:
                self.steps[sid].state = DONE

    def _on_run_paused(self, e: Any) -> None:
        self.status = e.reason
        if e.message:
            self.notes.append(f"paused ({e.reason}): {e.message}")

    def _on_run_finished(self, e: Any) -> None:
        self.status = e.status
        self.error = e.error
        self.finished_at = self.clock()
        total = (e.usage or {}).get("total") or {}
        if total:
            self.total.cost_usd = float(total.get("cost_usd", self.total.cost_usd))
            self.total.tokens = (
                int(total.get("input_tokens", 0) + total.get("output_tokens", 0))
                or self.total.tokens
            )

    def _on_plan_made(self, e: Any) -> None:
        self.set_plan(e.plan, e.source)

    def _on_plan_rejected(self, e: Any) -> None:
        self.notes.append(f"plan attempt {e.attempt} rejected: {'; '.join(e.errors)}")

    def _on_step_started(self, e: Any) -> None:
        step = self._step(e)
        if step is not None:
            step.state = RUNNING
            step.model = e.model or step.model
            step.revision = e.revision
            step.started = self.clock()
            step.note = f"revision {e.revision}" if e.revision else ""

    def _on_step_finished(self, e: Any) -> None:
        step = self._step(e)
        if step is not None:
            step.state = DONE
            step.finished = self.clock()
            step.note = ""

    def _on_step_failed(self, e: Any) -> None:
        step = self._step(e)
        if step is not None:
            step.state = FAILED
            step.finished = self.clock()
            step.note = f"{e.error_type}: {e.message}"
        for sid in e.dependants_skipped:
            if sid in self.steps:
                self.steps[sid].state = SKIPPED

    def _on_step_skipped(self, e: Any) -> None:
        step = self._step(e)
        if step is not None:
            step.state = SKIPPED
            step.note = e.reason

    def _on_step_waiting(self, e: Any) -> None:
        step = self._step(e)
        if step is not None:
            step.state = APPROVAL
            step.note = e.reason or step.note

    def _on_model_call_started(self, e: Any) -> None:
        step = self._step(e)
        if step is not None and not step.model:
            step.model = e.model

    def _on_model_call_finished(self, e: Any) -> None:
        tokens = e.input_tokens + e.output_tokens
        agent = self.by_agent.setdefault(e.agent or "supervisor", Spend())
        agent.cost_usd += e.cost_usd
        agent.tokens += tokens
        agent.calls += 1
        self.total.cost_usd += e.cost_usd
        self.total.tokens += tokens
        self.total.calls += 1
        step = self._step(e)
        if step is not None:
            step.cost_usd += e.cost_usd
            step.tokens += tokens

    def _on_model_call_failed(self, e: Any) -> None:
        if not e.will_retry and ("HTTP 401" in e.message or "HTTP 403" in e.message):
            self.credential_errors.append(f"{e.model}: {e.message}")

    def _on_text_delta(self, e: Any) -> None:
        sid = e.step_id or "supervisor"
        text = self.streams.get(sid, "") + e.text
        self.streams[sid] = text[-_STREAM_KEEP:]
        self.streaming_step = sid

    def _on_approval_requested(self, e: Any) -> None:
        what = e.tool or e.subject
        self.pending[e.request_id] = f"{e.subject} {what}" if e.tool else e.subject
        step = self._step(e)
        if step is not None:
            if step.state != APPROVAL:
                step.before_approval = step.state
            step.state = APPROVAL
            step.note = f"{e.subject}: {e.tool}" if e.tool else e.subject

    def _on_tool_progress(self, e: Any) -> None:
        step = self._step(e)
        if step is not None:
            of = f"/{e.total:,}" if e.total else ""
            step.note = f"{e.tool}: {e.done:,}{of} {e.message}".rstrip()

    def _on_approval_decided(self, e: Any) -> None:
        self.pending.pop(e.request_id, None)
        step = self._step(e)
        if step is not None and step.state == APPROVAL:
            step.state = step.before_approval
            step.note = f"{e.decision} by {e.approver}" if e.approver else e.decision

    def _on_escalated(self, e: Any) -> None:
        step = self._step(e)
        if step is not None:
            step.note = "escalated: " + "; ".join(e.reasons)

    def _on_revision_requested(self, e: Any) -> None:
        step = self._step(e)
        if step is not None:
            step.note = f"revision {e.revision} requested by {e.reviewer_step}"

    def _on_budget_warning(self, e: Any) -> None:
        self.notes.append(f"budget ({e.scope}) at {e.fraction:.0%}")

    def _on_budget_exceeded(self, e: Any) -> None:
        self.notes.append(f"budget ({e.scope}) exceeded: {e.message}")


def _deps(step: StepView) -> list[str]:
    deps = list(step.depends_on)
    if step.reviews and step.reviews not in deps:
        deps.append(step.reviews)
    return deps


def fmt_usd(value: float) -> str:
    """Dollars with enough digits for cheap calls."""
    if value == 0:
        return "$0.00"
    if value < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def fmt_elapsed(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def fmt_age(seconds: float) -> str:
    """A rough age: ``42s``, ``5m``, ``3h``, ``2d``."""
    seconds = max(0, int(seconds))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
