"""Typed events, the event bus, secret redaction and the sinks (JSONL, logging, OpenTelemetry).

The OpenTelemetry sink needs the ``otel`` extra and is imported only when asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from agentorch.events.bus import EventBus, EventStream, Subscription
from agentorch.events.jsonl import JsonlSink, read_jsonl
from agentorch.events.logging import LoggingSink, format_event
from agentorch.events.redact import DEFAULT_PATTERNS, REDACTED, Redactor, SecretPattern
from agentorch.events.trace import TraceNode, build_trace
from agentorch.events.types import (
    EVENT_ADAPTER,
    ApprovalDecided,
    ApprovalRequested,
    BaseEvent,
    BudgetExceededEvent,
    BudgetOverrun,
    BudgetWarning,
    Escalated,
    Event,
    ModelCallFailed,
    ModelCallFinished,
    ModelCallStarted,
    PermissionRefused,
    PlanMade,
    PlanRejected,
    RecordedRow,
    ReviewVerdictEvent,
    RevisionRequested,
    RowsRecorded,
    RunFinished,
    RunPaused,
    RunResumed,
    RunStarted,
    StateRecorded,
    StepFailed,
    StepFinished,
    StepSkipped,
    StepStarted,
    StepWaiting,
    TextDeltaEvent,
    ToolCallFinished,
    ToolCallStarted,
    ToolProgress,
    parse_event,
)

_LAZY = {"OTelSink": "agentorch.events.otel", "configure_otlp": "agentorch.events.otel"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agentorch.events' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:  # pragma: no cover
    from agentorch.events.otel import OTelSink, configure_otlp

__all__ = [
    "DEFAULT_PATTERNS",
    "EVENT_ADAPTER",
    "REDACTED",
    "ApprovalDecided",
    "ApprovalRequested",
    "BaseEvent",
    "BudgetExceededEvent",
    "BudgetOverrun",
    "BudgetWarning",
    "Escalated",
    "Event",
    "EventBus",
    "EventStream",
    "JsonlSink",
    "LoggingSink",
    "ModelCallFailed",
    "ModelCallFinished",
    "ModelCallStarted",
    "OTelSink",
    "PermissionRefused",
    "PlanMade",
    "PlanRejected",
    "RecordedRow",
    "Redactor",
    "ReviewVerdictEvent",
    "RevisionRequested",
    "RowsRecorded",
    "RunFinished",
    "RunPaused",
    "RunResumed",
    "RunStarted",
    "SecretPattern",
    "StateRecorded",
    "StepFailed",
    "StepFinished",
    "StepSkipped",
    "StepStarted",
    "StepWaiting",
    "Subscription",
    "TextDeltaEvent",
    "ToolCallFinished",
    "ToolCallStarted",
    "ToolProgress",
    "TraceNode",
    "build_trace",
    "configure_otlp",
    "format_event",
    "parse_event",
    "read_jsonl",
]
