"""Plain line-by-line progress for pipes and CI: one line per thing that happened, no redraws."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.text import Text

from agentorch.cli.state import RunState, fmt_elapsed, fmt_usd
from agentorch.events.types import BaseEvent


class PlainProgress:
    """Prints a line for each meaningful event (streamed text and call starts are skipped).

    Args:
        console: where the lines go (a non-terminal console prints no colour codes).
        state: shared run state (for the elapsed time and totals).
    """

    #: Longest line printed; the rest is in ``agentorch show`` and the audit log.
    max_line = 300

    def __init__(self, console: Console | None = None, *, state: RunState | None = None) -> None:
        self.console = console if console is not None else Console()
        self.state = state if state is not None else RunState()
        self._risks: dict[str, str] = {}

    def __call__(self, event: BaseEvent) -> None:
        self.state.apply(event)
        line = self.line(event)
        if line is not None:
            line = _short(line, self.max_line)
            stamp = Text(f"[{fmt_elapsed(self.state.elapsed)}] ", style="dim")
            self.console.print(stamp + Text(line), soft_wrap=True, highlight=False)

    def line(self, event: BaseEvent) -> str | None:
        """The text for one event, or ``None`` to skip it."""
        handler: Callable[[Any], str | None] | None = getattr(self, f"_{event.kind}", None)
        return handler(event) if handler is not None else None

    @staticmethod
    def _who(e: Any) -> str:
        return f"{e.step_id} ({e.agent})" if e.agent else str(e.step_id)

    def _run_started(self, e: Any) -> str:
        where = e.workflow or repr(_short(e.task, 80))
        return f"run {e.run_id} started: {where} [{e.engine} engine]"

    def _run_resumed(self, e: Any) -> str:
        return f"run {e.run_id} resumed ({len(e.completed_steps)} step(s) already done)"

    def _run_paused(self, e: Any) -> str:
        return f"run paused: {e.reason}" + (f" - {e.message}" if e.message else "")

    def _run_finished(self, e: Any) -> str:
        total = (e.usage or {}).get("total") or {}
        cost = fmt_usd(float(total.get("cost_usd", 0.0)))
        return f"run finished: {e.status}, spent {cost}" + (f" - {e.error}" if e.error else "")

    def _plan_made(self, e: Any) -> str:
        steps = e.plan.get("steps") or []
        listing = ", ".join(f"{s['id']} ({s['agent']})" for s in steps)
        count = f"{len(steps)} step{'' if len(steps) == 1 else 's'}"
        return f"plan ({e.source}, {count}): {listing}"

    def _plan_rejected(self, e: Any) -> str:
        return f"plan attempt {e.attempt} rejected: {'; '.join(e.errors)}"

    def _step_started(self, e: Any) -> str:
        rev = f" revision {e.revision}" if e.revision else ""
        model = f" on {e.model}" if e.model else ""
        return f"step {self._who(e)} started{rev}{model}"

    def _step_finished(self, e: Any) -> str:
        step = self.state.steps.get(e.step_id or "")
        cost = f", {fmt_usd(step.cost_usd)}, {step.tokens:,} tokens" if step else ""
        return f"step {self._who(e)} done{cost}"

    def _step_failed(self, e: Any) -> str:
        skipped = f" (skipping {', '.join(e.dependants_skipped)})" if e.dependants_skipped else ""
        return f"step {self._who(e)} FAILED: {e.error_type}: {e.message}{skipped}"

    def _step_skipped(self, e: Any) -> str:
        return f"step {e.step_id} skipped: {e.reason}"

    def _step_waiting(self, e: Any) -> str:
        return f"step {self._who(e)} waits for approval {e.request_id}"

    def _tool_call_started(self, e: Any) -> None:
        self._risks[e.call_id] = e.risk

    def _tool_progress(self, e: Any) -> str:
        of = f" of {e.total:,}" if e.total else ""
        return f"  tool {e.tool} by {e.agent}: {e.done:,}{of} {e.message}".rstrip()

    def _tool_call_finished(self, e: Any) -> str | None:
        if self._risks.pop(e.call_id, "read") == "read" and not e.is_error:
            return None  # reads are many and harmless: only writes and failures get a line
        status = "error" if e.is_error else "ok"
        replay = ", replayed" if e.replayed else ""
        why = f" - {_short(e.error.removeprefix('Error: '), 200)}" if e.is_error and e.error else ""
        return f"  tool {e.tool} by {e.agent}: {status}{replay}{why}"

    def _permission_refused(self, e: Any) -> str:
        return f"  refused tool {e.tool} for {e.agent}: {e.reason}"

    def _model_call_failed(self, e: Any) -> str:
        retry = " (retrying)" if e.will_retry else ""
        return f"  model {e.model} failed{retry}: {e.error_type}: {e.message}"

    def _review_verdict(self, e: Any) -> str:
        reasons = f": {'; '.join(e.reasons)}" if e.reasons else ""
        return f"  review of {e.target_step} by {e.step_id}: {e.verdict}{reasons}"

    def _escalated(self, e: Any) -> str:
        return f"  escalated {e.step_id}: {'; '.join(e.reasons)}"

    def _approval_requested(self, e: Any) -> str:
        what = f"tool {e.tool} ({e.risk})" if e.tool else e.subject
        return f"approval needed [{e.request_id}]: step {e.step_id}, {what}" + (
            f" - {e.reason}" if e.reason else ""
        )

    def _approval_decided(self, e: Any) -> str:
        who = f" by {e.approver}" if e.approver else ""
        return f"approval [{e.request_id}]: {e.decision}{who}"

    def _budget_warning(self, e: Any) -> str:
        return f"budget warning ({e.scope}): {e.fraction:.0%} used"

    def _budget_exceeded(self, e: Any) -> str:
        return f"budget exceeded ({e.scope}): {e.message}"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = ["PlainProgress"]
