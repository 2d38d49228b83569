from __future__ import annotations

import json

import pytest

from agentorch.events import build_trace
from agentorch.events.types import (
    BaseEvent,
    ModelCallFinished,
    ModelCallStarted,
    RunPaused,
    RunResumed,
    RunStarted,
    StepFinished,
    StepSkipped,
    StepStarted,
)

T0 = 1_700_000_000.0


def test_tree_of_the_sample_run(events: list[BaseEvent]) -> None:
    root = build_trace(events)
    assert (root.kind, root.id, root.label) == ("run", "run-1", "run run-1 (rfp)")
    assert root.status == "failed" and root.error == "step s2 failed"
    assert root.duration == pytest.approx(5.0)
    assert (root.input_tokens, root.output_tokens) == (3700, 850)
    assert any(note.startswith("plan: 2 step(s)") for note in root.notes)
    assert any(note.startswith("budget run at 80%") for note in root.notes)

    router, writer, critic = root.children
    assert (router.kind, router.label, router.status) == (
        "model_call",
        "chat openai:gpt-4.1-mini",
        "ok",
    )
    assert router.duration == pytest.approx(0.4)

    assert (writer.kind, writer.id, writer.label, writer.status) == (
        "step",
        "s1",
        "s1 writer",
        "ok",
    )
    assert writer.model == "anthropic:claude-sonnet-4-5"
    assert [c.kind for c in writer.children] == ["model_call", "tool_call", "model_call"]
    assert (writer.input_tokens, writer.output_tokens) == (2800, 700)
    assert writer.cost_usd == pytest.approx(0.0189)
    assert writer.children[2].replayed and not writer.children[0].replayed
    assert writer.children[1].label == "tool search_kb"
    assert writer.children[1].duration == pytest.approx(0.2)
    assert writer.notes == ["approval a1 requested for send_email", "approval a1: approved by ann"]

    assert critic.status == "error" and critic.error == "ModelBehaviorError: bad output"
    chat, tool = critic.children
    assert chat.status == "ok" and chat.notes == ["attempt 1 failed: ProviderError: rate limited"]
    assert tool.status == "error" and tool.error == "terms file missing"
    assert critic.notes == ["refused tool delete_all: not allowed for critic"]


def test_walk_find_and_json(events: list[BaseEvent]) -> None:
    root = build_trace(events)
    depths = [(d, n.kind) for d, n in root.walk()]
    assert depths[0] == (0, "run") and (2, "tool_call") in depths
    assert len(root.find("model_call")) == 4
    data = root.to_dict()
    json.dumps(data)  # JSON-ready
    assert data["children"][1]["children"][0]["duration"] == pytest.approx(0.9)


def test_accepts_json_dicts_and_picks_a_run(events: list[BaseEvent]) -> None:
    other = [RunStarted(run_id="run-2", ts=T0, task="other")]
    mixed = [e.model_dump(mode="json") for e in events] + [o.model_dump() for o in other]
    with pytest.raises(ValueError, match="2 runs"):
        build_trace(mixed)
    assert build_trace(mixed, run_id="run-2").label == "run run-2"
    with pytest.raises(ValueError, match="no events for run 'nope'"):
        build_trace(mixed, run_id="nope")
    with pytest.raises(ValueError, match="no events"):
        build_trace([])


def test_revisions_resume_and_skips() -> None:
    r = {"run_id": "r1"}
    s = {**r, "step_id": "s1", "agent": "writer"}
    events: list[BaseEvent] = [
        RunStarted(**r, ts=T0, task="t"),
        StepStarted(**s, ts=T0 + 1),
        StepFinished(**s, ts=T0 + 2),
        StepStarted(**s, ts=T0 + 3, revision=1),
        ModelCallStarted(**s, ts=T0 + 3.5, call_key="k", model="openai:gpt-4.1"),
        RunPaused(**r, ts=T0 + 4, reason="interrupted"),
        RunResumed(**r, ts=T0 + 10, completed_steps=[]),
        StepStarted(**s, ts=T0 + 11, revision=1),
        ModelCallFinished(
            **s,
            ts=T0 + 12,
            call_key="k",
            model="openai:gpt-4.1",
            input_tokens=10,
            output_tokens=5,
            replayed=True,
        ),
        StepFinished(**s, ts=T0 + 13, revision=1),
        StepSkipped(**{**r, "step_id": "s2", "agent": "critic"}, ts=T0 + 13, reason="not needed"),
    ]
    root = build_trace(events)
    labels = [(c.label, c.status) for c in root.children]
    assert labels == [
        ("s1 writer", "ok"),
        ("s1 writer (revision 1)", "interrupted"),
        ("s1 writer (revision 1)", "ok"),
        ("s2 critic", "skipped"),
    ]
    interrupted, resumed = root.children[1], root.children[2]
    assert interrupted.children[0].status == "interrupted"  # its call never finished there
    assert resumed.children[0].replayed and resumed.children[0].start == pytest.approx(T0 + 12)
    assert root.status == "running" and "resumed" in root.notes[-1]
    assert (root.input_tokens, root.output_tokens) == (10, 5)  # summed from calls
