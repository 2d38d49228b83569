"""OpenTelemetry sink: a run's events become spans that follow the GenAI semantic conventions.

Span tree (names and ``gen_ai.operation.name`` values from the GenAI conventions)::

    invoke_workflow {workflow}        one per run (or resumed segment of a run)
      invoke_agent {agent}            one per step attempt (revision)
        chat {model}                  one per model call (CLIENT span)
        execute_tool {tool}           one per tool call
      chat {model}                    model calls outside a step (planning, synthesis)

Spans take their start and end times from the events' own ``ts``. Approvals, refusals, reviews and
budget warnings become span events on the step's span (or the run's). Every span also carries
``openinference.span.kind`` (CHAIN, AGENT, LLM, TOOL), the attribute trace viewers built on
OpenInference (Phoenix, Arize) use to type spans. With content capture on, chat spans get
``gen_ai.system_instructions``, ``gen_ai.input.messages`` and ``gen_ai.output.messages`` (plus
OpenInference's ``input.value`` / ``output.value``), tool spans their arguments, and the run's span
the task. opentelemetry is an optional dependency: ``pip install 'agentorch[otel]'``.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agentorch.errors import MissingDependencyError
from agentorch.events.types import BaseEvent, ModelCallStarted, ToolCallStarted

if TYPE_CHECKING:  # pragma: no cover
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer

_INSTALL_HINT = "pip install 'agentorch[otel]'"

# litellm routes "litellm:<provider>/<model>"; map its provider names to GenAI provider names.
_LITELLM_PROVIDERS = {
    "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "bedrock": "aws.bedrock",
    "vertex_ai": "gcp.vertex_ai",
    "gemini": "gcp.gemini",
    "mistral": "mistral_ai",
    "xai": "x_ai",
    "watsonx": "ibm.watsonx.ai",
}
_ANNOTATED_KINDS = frozenset(
    {
        "plan_made",
        "plan_rejected",
        "step_skipped",
        "step_waiting",
        "permission_refused",
        "review_verdict",
        "revision_requested",
        "escalated",
        "approval_requested",
        "approval_decided",
        "budget_warning",
        "budget_exceeded",
        "budget_overrun",
    }
)
_MAX_ATTR_TEXT = 2048
_OPENINFERENCE_KINDS = {
    "invoke_workflow": "CHAIN",
    "invoke_agent": "AGENT",
    "chat": "LLM",
    "execute_tool": "TOOL",
}
_MAX_CONTENT_TEXT = 64 * 1024  # prompts and completions: enough for a viewer, bounded
#: The environment variable OpenTelemetry's GenAI instrumentations read for the same switch.
CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


def _require_otel() -> Any:
    try:
        from opentelemetry import trace
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MissingDependencyError(
            "OpenTelemetry export needs the 'opentelemetry-sdk' package", hint=_INSTALL_HINT
        ) from exc
    return trace


def split_model(model: str) -> tuple[str, str]:
    """``"openai:gpt-4.1"`` -> (``"openai"``, ``"gpt-4.1"``), with GenAI provider names."""
    provider, sep, name = model.partition(":")
    if not sep:
        return "", model
    if provider == "litellm" and "/" in name:
        sub = name.split("/", 1)[0]
        return _LITELLM_PROVIDERS.get(sub, sub), name
    return provider, name


def _ns(ts: float) -> int | None:
    return int(ts * 1_000_000_000) if ts > 0 else None


def _totals(usage: dict[str, Any] | None) -> dict[str, Any]:
    """Token and cost totals from a usage dict: flat, or a usage report with a ``total``."""
    usage = usage or {}
    total = usage.get("total")
    return total if isinstance(total, dict) else usage


def _attr(value: Any) -> Any:
    """A value OpenTelemetry accepts as an attribute (scalars, homogeneous lists, else JSON)."""
    if isinstance(value, str | bool | int | float):
        return value[:_MAX_ATTR_TEXT] if isinstance(value, str) else value
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [v[:_MAX_ATTR_TEXT] for v in value]
    return json.dumps(value, default=str)[:_MAX_ATTR_TEXT]


@dataclass
class _RunSpans:
    span: Span
    steps: dict[str, Span] = field(default_factory=dict)
    calls: dict[tuple[str, str], Span] = field(default_factory=dict)  # ("model"|"tool", key)
    call_steps: dict[tuple[str, str], str | None] = field(default_factory=dict)


class OTelSink:
    """Builds OpenTelemetry spans from agentorch events (subscribe it to a bus).

    Args:
        tracer_provider: Where spans go (default: the global tracer provider).
        capture_content: Also record the task, tool arguments, and every model call's prompts and
            completions (off by default: content can be sensitive, even after redaction).
            ``None`` reads ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (``true``).
    """

    def __init__(
        self, tracer_provider: TracerProvider | None = None, *, capture_content: bool | None = False
    ) -> None:
        trace = _require_otel()
        from agentorch import __version__

        self._trace = trace
        self._provider = tracer_provider
        self.tracer: Tracer = trace.get_tracer(
            "agentorch", __version__, tracer_provider=tracer_provider
        )
        if capture_content is None:
            capture_content = os.environ.get(CAPTURE_ENV, "").strip().lower() in ("true", "1")
        self.capture_content = capture_content
        self._runs: dict[str, _RunSpans] = {}
        self._lock = threading.Lock()

    # --- the subscriber -----------------------------------------------------------------------

    def __call__(self, event: BaseEvent) -> None:
        if event.ephemeral and event.kind != "model_call_content":
            return
        handler = getattr(self, f"_on_{event.kind}", None)
        with self._lock:
            if handler is not None:
                handler(event)
            elif event.kind in _ANNOTATED_KINDS:
                self._annotate(event)

    def close(self) -> None:
        """End spans left open (a run that never finished) and flush the provider."""
        with self._lock:
            for run_id in list(self._runs):
                self._end_run(run_id, None, incomplete=True)
        flush = getattr(self._provider, "force_flush", None)
        if flush is not None:
            flush()

    # --- helpers ------------------------------------------------------------------------------

    def _start(
        self,
        name: str,
        parent: Span | None,
        event: BaseEvent,
        kind: Any = None,
        attributes: dict[str, Any] | None = None,
    ) -> Span:
        trace = self._trace
        context = trace.set_span_in_context(parent) if parent is not None else None
        attributes = dict(attributes or {})
        operation = attributes.get("gen_ai.operation.name")
        attributes.setdefault("openinference.span.kind", _OPENINFERENCE_KINDS.get(str(operation)))
        for key in ("agentorch.task", "gen_ai.tool.call.arguments"):
            if attributes.get(key):  # present only when content is captured
                attributes["input.value"] = attributes[key]
        return self.tracer.start_span(
            name,
            context=context,
            kind=kind if kind is not None else trace.SpanKind.INTERNAL,
            attributes={k: _attr(v) for k, v in attributes.items() if v is not None},
            start_time=_ns(event.ts),
        )

    def _error(self, span: Span, error_type: str, message: str) -> None:
        trace = self._trace
        span.set_attribute("error.type", error_type)
        span.set_status(trace.Status(trace.StatusCode.ERROR, message[:_MAX_ATTR_TEXT]))

    def _run(self, event: BaseEvent) -> _RunSpans:
        """The run's spans; a run first seen mid-way (events of a resumed run) gets a span now."""
        run = self._runs.get(event.run_id)
        if run is None:
            span = self._start(
                "invoke_workflow agentorch",
                None,
                event,
                attributes={
                    "gen_ai.operation.name": "invoke_workflow",
                    "gen_ai.workflow.name": "agentorch",
                    "gen_ai.conversation.id": event.run_id,
                    "agentorch.run_id": event.run_id,
                },
            )
            run = self._runs[event.run_id] = _RunSpans(span)
        return run

    def _parent_for(self, run: _RunSpans, step_id: str | None) -> Span:
        if step_id is not None and step_id in run.steps:
            return run.steps[step_id]
        return run.span

    def _end_run(self, run_id: str, event: BaseEvent | None, *, incomplete: bool = False) -> None:
        run = self._runs.pop(run_id, None)
        if run is None:
            return
        end = _ns(event.ts) if event is not None else None
        for span in [*run.calls.values(), *run.steps.values()]:
            if incomplete:
                span.set_attribute("agentorch.incomplete", True)
            span.end(end_time=end)
        if incomplete:
            run.span.set_attribute("agentorch.incomplete", True)
        run.span.end(end_time=end)

    # --- run ----------------------------------------------------------------------------------

    def _on_run_started(self, e: Any) -> None:
        self._end_run(e.run_id, e)  # a stale span of the same run (a restart without resume)
        workflow = e.workflow or "agentorch"
        attributes = {
            "gen_ai.operation.name": "invoke_workflow",
            "gen_ai.workflow.name": workflow,
            "gen_ai.conversation.id": e.run_id,
            "agentorch.run_id": e.run_id,
            "agentorch.engine": e.engine,
            "agentorch.policy_hash": e.policy_hash,
            "agentorch.agents": list(e.agents),
            "agentorch.files": list(e.files),
        }
        if self.capture_content:
            attributes["agentorch.task"] = e.task
        span = self._start(f"invoke_workflow {workflow}", None, e, attributes=attributes)
        self._runs[e.run_id] = _RunSpans(span)

    def _on_run_resumed(self, e: Any) -> None:
        self._end_run(e.run_id, e)
        run = self._run(e)
        run.span.set_attribute("agentorch.resumed", True)
        run.span.set_attribute("agentorch.completed_steps", list(e.completed_steps))

    def _on_run_paused(self, e: Any) -> None:
        run = self._run(e)
        run.span.set_attribute("agentorch.status", "paused")
        run.span.set_attribute("agentorch.paused_reason", e.reason)
        run.span.add_event(
            "run_paused", {"reason": e.reason, "message": e.message}, timestamp=_ns(e.ts)
        )
        self._end_run(e.run_id, e)

    def _on_run_finished(self, e: Any) -> None:
        run = self._run(e)
        span = run.span
        span.set_attribute("agentorch.status", e.status)
        usage = _totals(e.usage)
        for key, attr in (
            ("input_tokens", "gen_ai.usage.input_tokens"),
            ("output_tokens", "gen_ai.usage.output_tokens"),
            ("cost_usd", "agentorch.cost_usd"),
        ):
            if isinstance(usage.get(key), int | float):
                span.set_attribute(attr, usage[key])
        if e.status != "succeeded":
            self._error(span, e.status, e.error or e.status)
        self._end_run(e.run_id, e)

    # --- steps --------------------------------------------------------------------------------

    def _on_step_started(self, e: Any) -> None:
        run = self._run(e)
        step_id = e.step_id or ""
        previous = run.steps.pop(step_id, None)
        if previous is not None:
            previous.end(end_time=_ns(e.ts))
        agent = e.agent or step_id
        provider, model = split_model(e.model) if e.model else ("", "")
        run.steps[step_id] = self._start(
            f"invoke_agent {agent}",
            run.span,
            e,
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": agent,
                "gen_ai.agent.id": step_id,
                "gen_ai.conversation.id": e.run_id,
                "gen_ai.request.model": model or None,
                "gen_ai.provider.name": provider or None,
                "agentorch.step_id": step_id,
                "agentorch.revision": e.revision,
                "agentorch.context_tokens": e.context_tokens,
            },
        )

    def _end_step(self, e: Any) -> Any:
        run = self._run(e)
        span = run.steps.pop(e.step_id or "", None)
        if span is None:  # finished without a start we saw: a zero-length span keeps the record
            self._on_step_started(e)
            span = run.steps.pop(e.step_id or "")
        return span

    def _on_step_finished(self, e: Any) -> None:
        span = self._end_step(e)
        usage = _totals(e.usage)
        for key, attr in (
            ("input_tokens", "gen_ai.usage.input_tokens"),
            ("output_tokens", "gen_ai.usage.output_tokens"),
            ("cost_usd", "agentorch.cost_usd"),
        ):
            if isinstance(usage.get(key), int | float):
                span.set_attribute(attr, usage[key])
        span.end(end_time=_ns(e.ts))

    def _on_step_failed(self, e: Any) -> None:
        span = self._end_step(e)
        self._error(span, e.error_type, e.message)
        if e.dependants_skipped:
            span.set_attribute("agentorch.dependants_skipped", list(e.dependants_skipped))
        span.end(end_time=_ns(e.ts))

    # --- model and tool calls -----------------------------------------------------------------

    def _on_model_call_started(self, e: Any) -> None:
        run = self._run(e)
        provider, model = split_model(e.model)
        key = ("model", e.call_key)
        run.calls[key] = self._start(
            f"chat {model}",
            self._parent_for(run, e.step_id),
            e,
            kind=self._trace.SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": model,
                "gen_ai.provider.name": provider or None,
                "gen_ai.system": provider or None,  # the pre-1.37 name some backends still read
                "gen_ai.request.max_tokens": e.max_tokens or None,
                "gen_ai.agent.name": e.agent,
                "agentorch.call_key": e.call_key,
                "agentorch.reserved_usd": e.reserved_usd,
            },
        )

    def _model_span(self, e: Any) -> Span:
        run = self._run(e)
        span = run.calls.pop(("model", e.call_key), None)
        if span is None:  # replayed or first seen finished: start it from its latency
            latency = getattr(e, "latency_ms", 0.0) or 0.0
            start = ModelCallStarted.model_construct(
                run_id=e.run_id,
                ts=e.ts - latency / 1000 if e.ts else 0.0,
                step_id=e.step_id,
                agent=e.agent,
                call_key=e.call_key,
                model=e.model,
            )
            self._on_model_call_started(start)
            span = run.calls.pop(("model", e.call_key))
        return span

    def _on_model_call_finished(self, e: Any) -> None:
        span = self._model_span(e)
        span.set_attributes(
            {
                "gen_ai.response.model": split_model(e.model)[1],
                "gen_ai.usage.input_tokens": e.input_tokens,
                "gen_ai.usage.output_tokens": e.output_tokens,
                "gen_ai.usage.cache_read.input_tokens": e.cached_input_tokens,
                "agentorch.cost_usd": e.cost_usd,
                "agentorch.replayed": e.replayed,
            }
        )
        if e.stop_reason:
            span.set_attribute("gen_ai.response.finish_reasons", [e.stop_reason])
        span.end(end_time=_ns(e.ts))

    def _on_model_call_content(self, e: Any) -> None:
        if not self.capture_content:
            return
        span = self._run(e).calls.get(("model", e.call_key))
        if span is None:
            return
        inputs = json.dumps(e.input_messages, default=str)[:_MAX_CONTENT_TEXT]
        outputs = json.dumps(e.output_messages, default=str)[:_MAX_CONTENT_TEXT]
        text = "".join(
            part.get("content", "")
            for message in e.output_messages
            for part in message.get("parts", ())
            if part.get("type") == "text"
        )
        attributes = {
            "gen_ai.input.messages": inputs,
            "gen_ai.output.messages": outputs,
            "input.value": inputs,
            "input.mime_type": "application/json",
            "output.value": (text or outputs)[:_MAX_CONTENT_TEXT],
            "output.mime_type": "text/plain" if text else "application/json",
        }
        if e.system_instructions:
            attributes["gen_ai.system_instructions"] = json.dumps(e.system_instructions)[
                :_MAX_CONTENT_TEXT
            ]
        span.set_attributes(attributes)

    def _on_model_call_failed(self, e: Any) -> None:
        if e.will_retry:  # the same call goes on: note the failed attempt on its span
            run = self._run(e)
            span = run.calls.get(("model", e.call_key))
            target = span if span is not None else self._parent_for(run, e.step_id)
            target.add_event(
                "model_call_failed",
                {
                    "error.type": e.error_type,
                    "message": e.message[:_MAX_ATTR_TEXT],
                    "attempt": e.attempt,
                    "will_retry": True,
                },
                timestamp=_ns(e.ts),
            )
            return
        span = self._model_span(e)
        span.set_attribute("agentorch.attempt", e.attempt)
        self._error(span, e.error_type, e.message)
        span.end(end_time=_ns(e.ts))

    def _on_tool_call_started(self, e: Any) -> None:
        run = self._run(e)
        attributes = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": e.tool,
            "gen_ai.tool.call.id": e.call_id,
            "gen_ai.tool.type": "function",
            "gen_ai.agent.name": e.agent,
            "agentorch.tool.risk": e.risk,
            "agentorch.idempotency_key": e.idempotency_key,
        }
        if self.capture_content:
            attributes["gen_ai.tool.call.arguments"] = json.dumps(e.arguments, default=str)
        run.calls[("tool", e.call_id)] = self._start(
            f"execute_tool {e.tool}", self._parent_for(run, e.step_id), e, attributes=attributes
        )

    def _on_tool_call_finished(self, e: Any) -> None:
        run = self._run(e)
        span = run.calls.pop(("tool", e.call_id), None)
        if span is None:
            start = ToolCallStarted.model_construct(
                run_id=e.run_id,
                ts=e.ts - e.duration_ms / 1000 if e.ts else 0.0,
                step_id=e.step_id,
                agent=e.agent,
                tool=e.tool,
                call_id=e.call_id,
                idempotency_key=e.idempotency_key,
            )
            self._on_tool_call_started(start)
            span = run.calls.pop(("tool", e.call_id))
        span.set_attribute("agentorch.replayed", e.replayed)
        span.set_attribute("agentorch.result_size", e.result_size)
        if e.is_error:
            self._error(span, "tool_error", e.error or "tool call failed")
        span.end(end_time=_ns(e.ts))

    # --- everything else: span events ---------------------------------------------------------

    def _annotate(self, e: BaseEvent) -> None:
        run = self._run(e)
        target = self._parent_for(run, e.step_id)
        data = e.model_dump(mode="json", exclude={"kind", "run_id", "ts"})
        if isinstance(data.get("plan"), dict):  # the plan itself is in the store; count it here
            steps = data.pop("plan").get("steps") or []
            data["steps"] = len(steps)
        if e.kind == "permission_refused" and not self.capture_content:
            data.pop("arguments", None)
        if e.kind in ("approval_requested", "approval_decided") and not self.capture_content:
            data.pop("arguments", None)
        attributes = {k: _attr(v) for k, v in data.items() if v is not None and v != [] and v != {}}
        target.add_event(e.kind, attributes, timestamp=_ns(e.ts))


def configure_otlp(
    endpoint: str | None = None,
    service_name: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    set_global: bool = False,
) -> TracerProvider:
    """A tracer provider that batches spans to an OTLP/HTTP endpoint (a collector, Jaeger, ...).

    Args:
        endpoint: The collector's URL. A bare ``http://host:4318`` gets ``/v1/traces`` appended.
            Default: ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, then ``OTEL_EXPORTER_OTLP_ENDPOINT``
            (+ ``/v1/traces``), then ``http://localhost:4318/v1/traces``.
        service_name: ``service.name`` of the spans (default: ``OTEL_SERVICE_NAME`` or
            ``"agentorch"``).
        headers: Extra HTTP headers (e.g. an auth token); ``OTEL_EXPORTER_OTLP_HEADERS`` also works.
        set_global: Also install it as the global tracer provider.

    Call ``provider.shutdown()`` (or ``force_flush()``) before exiting so queued spans are sent.
    """
    trace = _require_otel()
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise MissingDependencyError(
            "OTLP export needs 'opentelemetry-sdk' and 'opentelemetry-exporter-otlp-proto-http'",
            hint=_INSTALL_HINT,
        ) from exc
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.path in ("", "/"):
            endpoint = endpoint.rstrip("/") + "/v1/traces"
    name = service_name or os.environ.get("OTEL_SERVICE_NAME") or "agentorch"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    exporter = OTLPSpanExporter(endpoint=endpoint, headers=headers)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    if set_global:
        trace.set_tracer_provider(provider)
    return provider
