"""Tools that misbehave: SystemExit and other BaseExceptions, results that cannot be serialised,
oversized arguments and results; and a price error mid-run. Each is contained as a tool error
or a clean run outcome, the effect happens exactly once and is journaled."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from agentorch import (
    Agent,
    ApproveAll,
    Budget,
    Plan,
    ScriptedModel,
    Step,
    Supervisor,
    tool,
)
from agentorch.events.types import BaseEvent
from agentorch.models.testing import tool_call_response
from agentorch.models.types import ToolResultMessage
from agentorch.orchestrator import Limits

CALLS: list[str] = []


class NoStr:
    def __str__(self) -> str:
        raise RuntimeError("no str for you")

    def __repr__(self) -> str:
        return "<NoStr>"


class Holder(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    thing: object


RESULTS: dict[str, Any] = {
    "lone surrogate": "caf\ud800e",
    "str raises": NoStr(),
    "model with an arbitrary field": Holder(thing=NoStr()),
    "dict holding an object": {"a": NoStr()},
}


@tool(risk="write")
def effect(kind: str) -> Any:
    """Do something with a side effect."""
    CALLS.append(kind)
    if kind == "exit":
        raise SystemExit(3)
    if kind == "base":
        raise BaseException("a bare BaseException")
    if kind == "generator exit":
        raise GeneratorExit
    if kind == "big":
        return "x" * 5000
    return RESULTS[kind]


@tool(risk="write")
async def async_effect(kind: str) -> str:
    """The same, async."""
    CALLS.append(kind)
    raise SystemExit(4)


class Worker(Agent):
    name = "worker"
    description = "Works."
    tools = ["effect", "async_effect"]


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()


def make(model: ScriptedModel, events: list[BaseEvent] | None = None, **kwargs: Any) -> Supervisor:
    kwargs.setdefault("budget", Budget(allow_unpriced=True))
    return Supervisor(
        [Worker(model=model)],
        tools=[effect, async_effect],
        plan=Plan(steps=[Step(id="s", agent="worker", instruction="go")], final_step="s"),
        approver=ApproveAll(),
        store=":memory:",
        on_event=(events if events is not None else []).append,
        **kwargs,
    )


def last_result(model: ScriptedModel, index: int = 1) -> ToolResultMessage:
    return [m for m in model.requests[index].messages if isinstance(m, ToolResultMessage)][-1]


@pytest.mark.parametrize(
    ("tool_name", "kind"),
    [("effect", "exit"), ("effect", "base"), ("effect", "generator exit"), ("async_effect", "x")],
)
async def test_system_exit_and_base_exceptions_from_a_tool_are_tool_errors(
    tool_name: str, kind: str
) -> None:
    model = ScriptedModel([tool_call_response((tool_name, {"kind": kind})), "recovered"])
    supervisor = make(model)
    result = await supervisor.run("go")
    assert result.status == "succeeded", result.error
    assert result.output == "recovered"
    reply = last_result(model)
    assert reply.is_error and "failed" in reply.content
    assert [kind] == CALLS
    journal = supervisor.store.journal(result.run_id, kind="tool")  # type: ignore[union-attr]
    assert [e.status for e in journal] == ["failed"]


@pytest.mark.parametrize("kind", list(RESULTS))
async def test_an_unserialisable_result_is_journaled_once_as_its_repr(kind: str) -> None:
    model = ScriptedModel([tool_call_response(("effect", {"kind": kind})), "done"])
    supervisor = make(model)
    result = await supervisor.run("go")
    assert result.status == "succeeded", result.error
    assert [kind] == CALLS
    reply = last_result(model)
    assert not reply.is_error
    journal = supervisor.store.journal(result.run_id, kind="tool")  # type: ignore[union-attr]
    assert [e.status for e in journal] == ["completed"]
    assert journal[0].result is not None
    assert journal[0].result["content"] == reply.content
    reply.content.encode("utf-8")  # storable text
    if kind != "lone surrogate":
        assert "not JSON-serialisable" in reply.content


async def test_oversized_arguments_are_refused_before_the_tool_runs() -> None:
    events: list[BaseEvent] = []
    model = ScriptedModel([tool_call_response(("effect", {"kind": "k" * 3000})), "done"])
    supervisor = make(model, events, limits=Limits(max_tool_argument_bytes=2000))
    result = await supervisor.run("go")
    assert result.status == "succeeded", result.error
    assert CALLS == []
    reply = last_result(model)
    assert reply.is_error and "2000" in reply.content and "arguments" in reply.content
    assert not any(e.kind == "tool_call_started" for e in events)


async def test_oversized_results_are_cut_to_the_limit_with_a_note() -> None:
    model = ScriptedModel([tool_call_response(("effect", {"kind": "big"})), "done"])
    supervisor = make(model, limits=Limits(max_tool_result_bytes=1000))
    result = await supervisor.run("go")
    assert result.status == "succeeded", result.error
    assert CALLS == ["big"]
    reply = last_result(model)
    assert len(reply.content.encode()) < 1300
    assert "5000 bytes" in reply.content and "1000" in reply.content


async def test_the_default_size_limits_are_a_megabyte() -> None:
    assert Limits().max_tool_argument_bytes == 1_000_000
    assert Limits().max_tool_result_bytes == 1_000_000


async def test_a_price_error_under_a_dollar_limit_is_a_failed_run_with_its_event() -> None:
    class Unpriced(ScriptedModel):
        provider = "acme"  # not a free test double: a dollar limit needs its price

    events: list[BaseEvent] = []
    model = Unpriced(["never sent"], name="no-such-priced-model")
    supervisor = make(model, events, budget=Budget(usd=1.0))
    result = await supervisor.run("go")
    assert result.status == "failed"
    assert result.error is not None and result.error.startswith("PriceError:")
    finished = [e for e in events if e.kind == "run_finished"]
    assert len(finished) == 1 and finished[0].status == "failed"  # type: ignore[attr-defined]
    record = supervisor.store.get_run(result.run_id)  # type: ignore[union-attr]
    assert record.status == "failed" and (record.error or "").startswith("PriceError:")
    kinds = [r.payload.get("kind") for r in supervisor.store.events(result.run_id)]  # type: ignore[union-attr]
    assert kinds[-2:] == [
        "run_finished",
        "rows_recorded",
    ]  # the audit record closes the transaction
