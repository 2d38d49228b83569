"""JSONL and Python-logging sinks."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from agentorch.errors import ConfigError
from agentorch.events import EventBus, JsonlSink, LoggingSink, Redactor, format_event, read_jsonl
from agentorch.events.types import BaseEvent, RunFinished, StepStarted, TextDeltaEvent, parse_event


def test_jsonl_roundtrip(tmp_path: Path, events: list[BaseEvent]) -> None:
    path = tmp_path / "logs" / "run.jsonl"
    with JsonlSink(path) as sink:
        for event in events:
            sink(event)
    lines = path.read_text(encoding="utf-8").splitlines()
    persisted = [e for e in events if not e.ephemeral]
    assert len(lines) == len(persisted) == len(events) - 1  # the text delta is not written
    assert [parse_event(json.loads(line)) for line in lines] == persisted
    assert json.loads(lines[0]) == persisted[0].model_dump(mode="json")
    assert list(read_jsonl(path)) == persisted


def test_jsonl_appends_and_flushes_each_line(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    first = JsonlSink(path)
    first(StepStarted(run_id="r1", step_id="s1"))
    assert len(path.read_text().splitlines()) == 1  # visible before close
    first.close()
    first.close()  # idempotent
    first(StepStarted(run_id="r1", step_id="late"))  # after close: ignored, not an error
    with JsonlSink(path, include_ephemeral=True) as second:
        second(TextDeltaEvent(run_id="r1", text="hi"))
    assert [e.kind for e in read_jsonl(path)] == ["step_started", "text_delta"]


def test_jsonl_as_bus_subscriber_writes_redacted_events(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    bus = EventBus(redactor=Redactor(["tok-12345678"], env=False))
    sink = JsonlSink(path)
    bus.subscribe(sink)
    bus.emit(RunFinished(run_id="r1", status="failed", error="bad token tok-12345678"))
    sink.close()
    text = path.read_text()
    assert "tok-12345678" not in text and "[REDACTED]" in text


def test_jsonl_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot open the events file"):
        JsonlSink(blocker / "run.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "run_finished", "status": "ok"}\n\n{"kind": "nope"}\n')
    with pytest.raises(ConfigError, match=r"bad.jsonl:3: not a valid agentorch event"):
        list(read_jsonl(bad))


def test_logging_sink_one_record_per_event(
    caplog: pytest.LogCaptureFixture, events: list[BaseEvent]
) -> None:
    sink = LoggingSink()
    with caplog.at_level(logging.INFO, logger="agentorch"):
        for event in events:
            sink(event)
    records = [r for r in caplog.records if r.name == "agentorch"]
    persisted = [e for e in events if not e.ephemeral]
    assert len(records) == len(persisted)
    for record, event in zip(records, persisted, strict=True):
        assert record.agentorch_event == event.model_dump(mode="json")  # type: ignore[attr-defined]
        assert record.getMessage().startswith(event.kind)
    by_kind: dict[str, logging.LogRecord] = {}
    for r in records:
        by_kind.setdefault(r.agentorch_event["kind"], r)  # type: ignore[attr-defined]
    finished = by_kind["model_call_finished"].getMessage()
    assert "run=run-1" in finished and "in=100 out=50" in finished and "$0.0002" in finished
    assert by_kind["step_started"].levelno == logging.INFO
    assert by_kind["step_failed"].levelno == logging.WARNING
    assert by_kind["model_call_failed"].levelno == logging.INFO  # it will be retried
    assert by_kind["tool_call_finished"].levelno == logging.INFO
    assert by_kind["permission_refused"].levelno == logging.WARNING
    assert by_kind["run_finished"].levelno == logging.WARNING  # the run failed
    assert "status=failed" in by_kind["run_finished"].getMessage()


def test_logging_sink_options(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("myapp.runs")
    sink = LoggingSink(
        logger, level=logging.DEBUG, include_ephemeral=True, formatter=lambda e: f"custom {e.kind}"
    )
    with caplog.at_level(logging.DEBUG, logger="myapp.runs"):
        sink(TextDeltaEvent(run_id="r1", text="hi"))
        sink(RunFinished(run_id="r1", status="succeeded"))
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, "custom text_delta"),
        (logging.DEBUG, "custom run_finished"),
    ]
    sink.close()


def test_logging_sink_skips_work_when_level_disabled(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[BaseEvent] = []

    def formatter(event: BaseEvent) -> str:
        calls.append(event)
        return "x"

    sink = LoggingSink("agentorch.quiet", formatter=formatter)
    with caplog.at_level(logging.ERROR, logger="agentorch.quiet"):
        sink(StepStarted(run_id="r1", step_id="s1"))
    assert calls == [] and caplog.records == []


def test_format_event_covers_every_sample_kind(events: list[BaseEvent]) -> None:
    for event in events:
        line = format_event(event)
        assert line.startswith(event.kind) and "\n" not in line
