"""Events of a whole run: completeness, secrets never written anywhere, failing subscribers."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from agentorch import (
    Agent,
    Budget,
    CallbackApprover,
    Plan,
    ScriptedModel,
    Step,
    Supervisor,
    Verdict,
    tool,
)
from agentorch.approvals import ApprovalDecision
from agentorch.events import JsonlSink, LoggingSink, OTelSink
from agentorch.events.types import BaseEvent
from agentorch.models.testing import json_response, tool_call_response
from agentorch.store import open_store

FAKE_KEY = "sk-test-3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
TOOL_SECRET = "hunter2-very-secret-token-value"


@tool
def lookup(topic: str) -> str:
    """Look a topic up."""
    return f"facts about {topic}"


@tool(risk="external", requires_approval=True, secret_args=["token"])
def publish(text: str, token: str) -> str:
    """Publish text with an access token."""
    return "published"


class Writer(Agent):
    name = "writer"
    tools = ["lookup", "publish"]


class Critic(Agent):
    name = "critic"
    output_type = Verdict


def run_setup(events: list[BaseEvent], **kwargs: object) -> Supervisor:
    writer = ScriptedModel(
        [
            tool_call_response(("lookup", {"topic": "sso"})),
            tool_call_response(("delete_everything", {})),
            tool_call_response(("publish", {"text": "draft", "token": TOOL_SECRET})),
            "draft one",
            "draft two",
        ],
        name="writer",
    )
    critic = ScriptedModel(
        [
            json_response({"verdict": "revise", "reasons": ["add detail"]}),
            json_response({"verdict": "pass", "confidence": 0.9}),
        ],
        name="critic",
    )
    plan = Plan(
        steps=[
            Step(id="draft", agent="writer", instruction="Draft"),
            Step(id="review", agent="critic", instruction="Review", reviews="draft"),
        ],
        final_step="draft",
    )
    return Supervisor(
        [Writer(model=writer), Critic(model=critic)],
        tools=[lookup, publish],
        plan=plan,
        budget=Budget(allow_unpriced=True),
        on_event=events.append,
        approver=CallbackApprover(lambda r: ApprovalDecision(decision="approved", approver="ana")),
        **kwargs,  # type: ignore[arg-type]
    )


def subsequence(needle: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(kind in it for kind in needle)


async def test_event_sequence_of_a_run_with_tools_refusal_approval_and_revision() -> None:
    events: list[BaseEvent] = []
    result = await run_setup(events).run("task")
    assert result.status == "succeeded", result.error
    kinds = [e.kind for e in events]
    expected = [
        "run_started",
        "plan_made",
        "step_started",
        "model_call_started",
        "model_call_finished",
        "tool_call_started",
        "tool_call_finished",
        "model_call_started",
        "model_call_finished",
        "permission_refused",
        "model_call_started",
        "model_call_finished",
        "approval_requested",
        "approval_decided",
        "tool_call_started",
        "tool_call_finished",
        "step_finished",
        "step_started",
        "step_finished",
        "review_verdict",
        "revision_requested",
        "step_started",
        "step_finished",
        "step_started",
        "step_finished",
        "review_verdict",
        "run_finished",
    ]
    assert subsequence(expected, kinds), kinds
    assert all(e.run_id == result.run_id and e.ts > 0 for e in events)


async def test_no_secret_reaches_the_store_logs_or_sinks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    db = tmp_path / "runs.db"
    jsonl = tmp_path / "events.jsonl"
    sink = JsonlSink(jsonl)
    events: list[BaseEvent] = []
    sup = run_setup(events, store=f"sqlite:///{db}")
    sup.subscribe(sink)
    sup.subscribe(LoggingSink())
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    sup.subscribe(OTelSink(provider, capture_content=True))
    with caplog.at_level(logging.DEBUG):
        result = await sup.run(f"task (key {FAKE_KEY})")
    sink.close()
    spans = exporter.get_finished_spans()
    assert spans
    assert result.status == "succeeded"
    store = open_store(f"sqlite:///{db}")
    assert store.verify_audit(result.run_id).ok
    store.close()
    written = [db.read_bytes(), jsonl.read_bytes(), caplog.text.encode()]
    written += [p.read_bytes() for p in tmp_path.glob("runs.db-*")]
    written += [repr(e.model_dump()).encode() for e in events]
    written += [
        json.dumps(
            {
                "name": sp.name,
                "attributes": dict(sp.attributes or {}),
                "events": [(ev.name, dict(ev.attributes or {})) for ev in sp.events],
            },
            default=str,
        ).encode()
        for sp in spans
    ]
    for blob in written:
        assert FAKE_KEY.encode() not in blob
        assert TOOL_SECRET.encode() not in blob
    assert b"[REDACTED]" in jsonl.read_bytes()


async def test_raising_and_blocking_subscribers_do_not_change_the_result() -> None:
    def raising(event: BaseEvent) -> None:
        raise RuntimeError("subscriber bug")

    never = asyncio.Event()

    async def blocking(event: BaseEvent) -> None:
        await never.wait()

    baseline = await run_setup([]).run("task")
    events: list[BaseEvent] = []
    sup = run_setup(events)
    sup.subscribe(raising)
    sup.subscribe(blocking)
    result = await asyncio.wait_for(sup.run("task"), timeout=30)
    assert result.status == baseline.status == "succeeded"
    assert result.output == baseline.output
    assert events[-1].kind == "run_finished"


async def test_streaming_supervisor_emits_text_deltas_that_are_not_persisted(
    tmp_path: Path,
) -> None:
    from agentorch import Plan as P
    from agentorch import Step as S
    from agentorch import Supervisor as Sup

    class Plain(Agent):
        name = "plain"

    events: list[BaseEvent] = []
    sup = Sup(
        [Plain(model=ScriptedModel(["streamed words"]))],
        tools=[],
        stream=True,
        plan=P(steps=[S(id="s", agent="plain", instruction="x")], final_step="s"),
        on_event=events.append,
        store=f"sqlite:///{tmp_path}/r.db",
    )
    result = await sup.run("task")
    deltas = [e for e in events if e.kind == "text_delta"]
    assert "".join(e.text for e in deltas) == "streamed words"  # type: ignore[attr-defined]
    store = open_store(f"sqlite:///{tmp_path}/r.db")
    assert "text_delta" not in {r.kind for r in store.events(result.run_id)}
    store.close()
