"""Python ``logging`` sink: one log record per event, the event itself attached as ``extra``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from agentorch.events.types import BaseEvent

#: Events that report something going wrong are logged at ``error_level``.
_FAILURE_KINDS = frozenset(
    {
        "step_failed",
        "model_call_failed",
        "permission_refused",
        "budget_exceeded",
        "budget_overrun",
        "plan_rejected",
    }
)


def _fmt_usd(value: Any) -> str:
    return f"${value:.4f}" if isinstance(value, int | float) else "$?"


def _describe(e: Any) -> str:
    """The kind-specific part of a record's message."""
    k = e.kind
    if k == "run_started":
        return f"task={_short(e.task)!r} engine={e.engine}"
    if k == "run_finished":
        return f"status={e.status}" + (f" error={_short(e.error)!r}" if e.error else "")
    if k == "run_paused":
        return f"reason={e.reason}" + (f" {_short(e.message)!r}" if e.message else "")
    if k == "plan_made":
        return f"steps={len(e.plan.get('steps', []))} attempt={e.attempt} source={e.source}"
    if k == "plan_rejected":
        return f"attempt={e.attempt} errors={'; '.join(e.errors)!r}"
    if k == "step_started":
        return f"model={e.model} revision={e.revision} context_tokens={e.context_tokens}"
    if k == "step_failed":
        return f"{e.error_type}: {_short(e.message)}"
    if k in ("step_skipped", "step_waiting"):
        return f"reason={_short(e.reason)!r}"
    if k == "model_call_started":
        return f"model={e.model} reserved={_fmt_usd(e.reserved_usd)} max_tokens={e.max_tokens}"
    if k == "model_call_finished":
        return (
            f"model={e.model} in={e.input_tokens} out={e.output_tokens} "
            f"cost={_fmt_usd(e.cost_usd)} latency_ms={e.latency_ms:.0f} stop={e.stop_reason}"
            + (" replayed" if e.replayed else "")
        )
    if k == "model_call_failed":
        retry = " will_retry" if e.will_retry else ""
        return f"model={e.model} attempt={e.attempt} {e.error_type}: {_short(e.message)}{retry}"
    if k == "tool_call_started":
        return f"tool={e.tool} call_id={e.call_id} risk={e.risk}"
    if k == "tool_call_finished":
        status = f"error={_short(e.error)!r}" if e.is_error else "ok"
        return f"tool={e.tool} call_id={e.call_id} {status} duration_ms={e.duration_ms:.0f}" + (
            " replayed" if e.replayed else ""
        )
    if k == "permission_refused":
        return f"tool={e.tool} reason={_short(e.reason)!r}"
    if k == "review_verdict":
        return f"target={e.target_step} verdict={e.verdict}"
    if k == "revision_requested":
        return f"reviewer={e.reviewer_step} revision={e.revision}"
    if k == "escalated":
        return f"reasons={'; '.join(e.reasons)!r}"
    if k == "approval_requested":
        return f"request={e.request_id} subject={e.subject}" + (f" tool={e.tool}" if e.tool else "")
    if k == "approval_decided":
        return f"request={e.request_id} decision={e.decision} approver={e.approver!r}"
    if k == "budget_warning":
        return f"scope={e.scope} spent={_fmt_usd(e.spent_usd)} fraction={e.fraction:.0%}"
    if k == "budget_exceeded":
        return f"scope={e.scope} {_short(e.message)}"
    if k == "budget_overrun":
        return f"stopped={e.stopped} {_short(e.message)}"
    return ""


def _short(text: Any, limit: int = 120) -> str:
    text = "" if text is None else str(text).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_event(event: BaseEvent) -> str:
    """A one-line, human-readable summary of an event (what the log message says)."""
    where = f"run={event.run_id}" if event.run_id else ""
    if event.step_id:
        where += f" step={event.step_id}"
    if event.agent:
        where += f" agent={event.agent}"
    detail = _describe(event)
    return " ".join(p for p in (event.kind, where.strip(), detail) if p)


class LoggingSink:
    """Logs each event through Python ``logging``.

    The message is a concise summary; ``record.agentorch_event`` holds the whole event as JSON data.
    Failures (failed steps and calls, refused tools, exceeded budgets) use ``error_level``.

    Args:
        logger: A logger or a logger name.
        level: Level of ordinary events.
        error_level: Level of events that report a failure.
        include_ephemeral: Also log ephemeral events (every streamed text chunk).
        formatter: Replace the message summary (``format_event``).
    """

    def __init__(
        self,
        logger: str | logging.Logger = "agentorch",
        level: int = logging.INFO,
        *,
        error_level: int = logging.WARNING,
        include_ephemeral: bool = False,
        formatter: Callable[[BaseEvent], str] = format_event,
    ) -> None:
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.level = level
        self.error_level = error_level
        self.include_ephemeral = include_ephemeral
        self.formatter = formatter

    def level_for(self, event: BaseEvent) -> int:
        """The level an event is logged at."""
        if event.kind in _FAILURE_KINDS:
            if event.kind == "model_call_failed" and getattr(event, "will_retry", False):
                return self.level
            return self.error_level
        if event.kind == "run_finished" and getattr(event, "status", "") != "succeeded":
            return self.error_level
        if event.kind == "tool_call_finished" and getattr(event, "is_error", False):
            return self.error_level
        return self.level

    def __call__(self, event: BaseEvent) -> None:
        if event.ephemeral and not self.include_ephemeral:
            return
        level = self.level_for(event)
        if not self.logger.isEnabledFor(level):
            return  # don't pay for formatting nobody reads
        self.logger.log(
            level,
            "%s",
            self.formatter(event),
            extra={"agentorch_event": event.model_dump(mode="json")},
        )

    def close(self) -> None:
        """Nothing to release; here so every sink has ``close()``."""
