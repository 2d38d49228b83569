"""OpenTelemetry sink: span tree and GenAI attributes, checked with the SDK's in-memory exporter."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from agentorch.events import EventBus, OTelSink, Redactor, configure_otlp
from agentorch.events.otel import split_model
from agentorch.events.types import (
    BaseEvent,
    ModelCallFinished,
    RunPaused,
    RunResumed,
    StepStarted,
    ToolCallFinished,
    ToolCallStarted,
)

T0 = 1_700_000_000.0  # the sample run's start (tests/events/conftest.py)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


def spans_by_name(exporter: InMemorySpanExporter) -> dict[str, list[ReadableSpan]]:
    out: dict[str, list[ReadableSpan]] = {}
    for span in exporter.get_finished_spans():
        out.setdefault(span.name, []).append(span)
    return out


def parent_of(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan | None:
    if span.parent is None:
        return None
    return next(s for s in spans if s.context.span_id == span.parent.span_id)


def ns(t: float) -> int:
    return int(t * 1_000_000_000)


def test_span_tree_and_genai_attributes(
    provider: TracerProvider, exporter: InMemorySpanExporter, events: list[BaseEvent]
) -> None:
    sink = OTelSink(provider)
    for event in events:
        sink(event)
    spans = list(exporter.get_finished_spans())
    by = spans_by_name(exporter)
    assert sorted(by) == [
        "chat claude-sonnet-4-5",
        "chat gpt-4.1-mini",
        "execute_tool check_terms",
        "execute_tool search_kb",
        "invoke_agent critic",
        "invoke_agent writer",
        "invoke_workflow rfp",
    ]
    assert len(spans) == 9 and len({s.context.trace_id for s in spans}) == 1

    run = by["invoke_workflow rfp"][0]
    assert run.parent is None
    assert run.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert run.attributes["gen_ai.workflow.name"] == "rfp"
    assert run.attributes["agentorch.run_id"] == "run-1"
    assert "agentorch.task" not in run.attributes  # content is opt-in
    assert run.attributes["gen_ai.usage.input_tokens"] == 3700
    assert run.status.status_code is StatusCode.ERROR
    assert (run.start_time, run.end_time) == (ns(T0), ns(T0 + 5.0))
    budget = [e for e in run.events if e.name == "budget_warning"]
    assert budget and budget[0].attributes["fraction"] == 0.8
    plan = [e for e in run.events if e.name == "plan_made"]
    assert plan[0].attributes["steps"] == 2

    writer = by["invoke_agent writer"][0]
    critic = by["invoke_agent critic"][0]
    for step in (writer, critic):
        assert parent_of(step, spans) is run
        assert step.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert writer.attributes["gen_ai.agent.name"] == "writer"
    assert writer.attributes["agentorch.step_id"] == "s1"
    assert writer.attributes["gen_ai.usage.output_tokens"] == 700
    assert writer.status.status_code is StatusCode.UNSET
    assert (writer.start_time, writer.end_time) == (ns(T0 + 1.0), ns(T0 + 3.1))
    assert [e.name for e in writer.events] == ["approval_requested", "approval_decided"]
    assert "arguments" not in writer.events[0].attributes
    assert critic.status.status_code is StatusCode.ERROR
    assert critic.attributes["error.type"] == "ModelBehaviorError"
    assert [e.name for e in critic.events] == ["permission_refused"]

    router, critic_chat = sorted(by["chat gpt-4.1-mini"], key=lambda s: s.start_time or 0)
    assert parent_of(router, spans) is run  # planning happens outside any step
    assert parent_of(critic_chat, spans) is critic
    assert router.kind is SpanKind.CLIENT
    assert router.attributes["gen_ai.operation.name"] == "chat"
    assert router.attributes["gen_ai.request.model"] == "gpt-4.1-mini"
    assert router.attributes["gen_ai.provider.name"] == "openai"
    assert router.attributes["gen_ai.system"] == "openai"
    assert router.attributes["gen_ai.request.max_tokens"] == 1000
    assert router.attributes["gen_ai.usage.input_tokens"] == 100
    assert router.attributes["gen_ai.usage.output_tokens"] == 50
    assert router.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert (router.start_time, router.end_time) == (ns(T0 + 0.1), ns(T0 + 0.5))
    retry = [e for e in critic_chat.events if e.name == "model_call_failed"]
    assert retry and retry[0].attributes["will_retry"] is True
    assert critic_chat.status.status_code is StatusCode.UNSET  # the retry succeeded

    writer_chats = sorted(by["chat claude-sonnet-4-5"], key=lambda s: s.start_time or 0)
    assert [parent_of(s, spans) for s in writer_chats] == [writer, writer]
    assert writer_chats[0].attributes["gen_ai.provider.name"] == "anthropic"
    assert writer_chats[1].attributes["agentorch.replayed"] is True

    search = by["execute_tool search_kb"][0]
    assert parent_of(search, spans) is writer
    assert search.attributes["gen_ai.operation.name"] == "execute_tool"
    assert search.attributes["gen_ai.tool.name"] == "search_kb"
    assert search.attributes["gen_ai.tool.call.id"] == "c1"
    assert "gen_ai.tool.call.arguments" not in search.attributes
    assert (search.start_time, search.end_time) == (ns(T0 + 2.1), ns(T0 + 2.3))
    failed_tool = by["execute_tool check_terms"][0]
    assert failed_tool.status.status_code is StatusCode.ERROR
    assert failed_tool.status.description == "terms file missing"


def test_capture_content_and_spans_seen_only_at_their_end(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    sink = OTelSink(provider, capture_content=True)
    base: dict[str, Any] = {"run_id": "r9", "step_id": "s1", "agent": "writer"}
    sink(StepStarted(**base, ts=T0))
    sink(
        ToolCallStarted(
            **base, ts=T0 + 1, tool="t", call_id="c1", idempotency_key="k", arguments={"q": "x"}
        )
    )
    sink(ToolCallFinished(**base, ts=T0 + 2, tool="t", call_id="c1", idempotency_key="k"))
    # a replayed call reported only when finished: its span is rebuilt from the latency
    sink(
        ModelCallFinished(
            **base,
            ts=T0 + 3,
            call_key="m1",
            model="litellm:bedrock/claude",
            latency_ms=500,
            replayed=True,
        )
    )
    sink(RunPaused(run_id="r9", ts=T0 + 4, reason="waiting_approval"))
    by = spans_by_name(exporter)
    tool = by["execute_tool t"][0]
    assert tool.attributes["gen_ai.tool.call.arguments"] == '{"q": "x"}'
    chat = by["chat bedrock/claude"][0]
    assert chat.attributes["gen_ai.provider.name"] == "aws.bedrock"
    assert (chat.start_time, chat.end_time) == (ns(T0 + 2.5), ns(T0 + 3))
    run = by["invoke_workflow agentorch"][0]  # a run first seen mid-way still gets a root span
    assert run.attributes["agentorch.paused_reason"] == "waiting_approval"
    assert run.status.status_code is StatusCode.UNSET
    assert by["invoke_agent writer"][0].end_time == ns(T0 + 4)  # closed with the run


def test_resume_starts_a_new_run_span_and_close_ends_open_ones(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    sink = OTelSink(provider)
    sink(RunResumed(run_id="r2", ts=T0, completed_steps=["s1"]))
    sink(StepStarted(run_id="r2", step_id="s2", agent="editor", ts=T0 + 1))
    assert exporter.get_finished_spans() == ()
    sink.close()
    by = spans_by_name(exporter)
    run = by["invoke_workflow agentorch"][0]
    assert run.attributes["agentorch.resumed"] is True
    assert run.attributes["agentorch.incomplete"] is True
    assert by["invoke_agent editor"][0].attributes["agentorch.incomplete"] is True


async def test_sink_on_the_bus_sees_redacted_events(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    bus = EventBus(redactor=Redactor(["p4ssw0rd-123"], env=False))
    bus.subscribe(OTelSink(provider, capture_content=True), name="otel")
    base: dict[str, Any] = {"run_id": "r3", "step_id": "s1", "agent": "a"}
    bus.emit(
        ToolCallStarted(
            **base,
            ts=T0,
            tool="login",
            call_id="c",
            idempotency_key="k",
            arguments={"user": "ann", "pw": "p4ssw0rd-123"},
        )
    )
    bus.emit(ToolCallFinished(**base, ts=T0 + 1, tool="login", call_id="c", idempotency_key="k"))
    await bus.drain()
    span = spans_by_name(exporter)["execute_tool login"][0]
    assert span.attributes["gen_ai.tool.call.arguments"] == '{"user": "ann", "pw": "[REDACTED]"}'


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("openai:gpt-4.1", ("openai", "gpt-4.1")),
        ("anthropic:claude-sonnet-4-5", ("anthropic", "claude-sonnet-4-5")),
        ("litellm:azure/my-deploy", ("azure.ai.openai", "azure/my-deploy")),
        ("litellm:ollama/llama3", ("ollama", "ollama/llama3")),
        ("litellm:gpt-4o", ("litellm", "gpt-4o")),
        ("bare-name", ("", "bare-name")),
    ],
)
def test_split_model(model: str, expected: tuple[str, str]) -> None:
    assert split_model(model) == expected


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    received: list[tuple[str, bytes]] = []
    handler = type("Handler", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()
    thread.join()


def _exported_span_names(received: list[tuple[str, bytes]]) -> list[str]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    names = []
    for _, body in received:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            assert attrs["service.name"] == "rfp-bot"
            for scope in resource_spans.scope_spans:
                names.extend(span.name for span in scope.spans)
    return names


def test_configure_otlp_exports_to_a_collector(
    collector: tuple[str, list[tuple[str, bytes]]], events: list[BaseEvent]
) -> None:
    url, received = collector
    provider = configure_otlp(url, service_name="rfp-bot")  # bare URL: /v1/traces appended
    sink = OTelSink(provider)
    for event in events:
        sink(event)
    provider.shutdown()  # flushes the batch
    assert {path for path, _ in received} == {"/v1/traces"}
    assert "invoke_workflow rfp" in _exported_span_names(received)


def test_configure_otlp_respects_standard_env_vars(
    collector: tuple[str, list[tuple[str, bytes]]],
    events: list[BaseEvent],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, received = collector
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "rfp-bot")
    provider = configure_otlp()
    sink = OTelSink(provider)
    for event in events[:3]:
        sink(event)
    sink.close()
    provider.shutdown()
    assert {path for path, _ in received} == {"/v1/traces"}
    assert _exported_span_names(received) == ["chat gpt-4.1-mini", "invoke_workflow rfp"]


async def test_captured_content_reaches_the_chat_spans_in_genai_shape(
    provider: TracerProvider, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from agentorch import Agent, Supervisor
    from agentorch.models.testing import FunctionModel, text_response

    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    secret = "sk-proj-abcdefghijklmnopqrstuvwx1234"

    def answer(request: Any) -> Any:
        return text_response(f"Paris, as asked (key {secret})")

    model = FunctionModel(answer, name="geo")
    agent = Agent(name="geo", description="Answers.", instructions="Be brief.", model=model)
    sup = Supervisor([agent], model=model)
    sup.subscribe(OTelSink(provider, capture_content=None))  # switched on by the env variable
    from agentorch import Plan, Step

    plan = Plan(steps=[Step(id="ask", agent="geo", instruction="Capital of France?")])
    result = await sup.run("Capital of France?", plan=plan)
    assert result.status == "succeeded"

    spans = spans_by_name(exporter)
    (chat,) = [s for name, group in spans.items() if name.startswith("chat ") for s in group]
    attrs = chat.attributes or {}
    inputs = json.loads(str(attrs["gen_ai.input.messages"]))
    assert inputs[0]["role"] == "user" and "Capital of France?" in inputs[0]["parts"][0]["content"]
    outputs = json.loads(str(attrs["gen_ai.output.messages"]))
    assert outputs[0]["role"] == "assistant" and outputs[0]["finish_reason"] == "stop"
    assert "Be brief." in str(attrs["gen_ai.system_instructions"])
    assert str(attrs["output.value"]).startswith("Paris, as asked")
    assert secret not in str(attrs["output.value"])  # content is redacted like every event
    assert attrs["openinference.span.kind"] == "LLM"
    (root,) = spans["invoke_workflow agentorch"]
    assert root.kind == SpanKind.INTERNAL
    assert (root.attributes or {})["openinference.span.kind"] == "CHAIN"
    assert (root.attributes or {})["input.value"] == "Capital of France?"


async def test_without_capture_no_content_is_emitted_at_all(
    provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    from agentorch import Agent, Plan, Step, Supervisor
    from agentorch.models.testing import FunctionModel, text_response

    kinds: list[str] = []
    model = FunctionModel(lambda request: text_response("ok"), name="m")
    sup = Supervisor([Agent(name="a", description="A.", model=model)], model=model)
    sup.subscribe(OTelSink(provider))
    sup.subscribe(lambda e: kinds.append(e.kind))
    await sup.run("t", plan=Plan(steps=[Step(id="s", agent="a", instruction="do")]))
    assert "model_call_content" not in kinds  # nobody asked: prompts are not even built
    (chat,) = [s for s in exporter.get_finished_spans() if s.name.startswith("chat ")]
    assert "gen_ai.input.messages" not in (chat.attributes or {})
