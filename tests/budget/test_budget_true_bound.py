"""The budget as a true bound: a call charged more than its reservation stops the run and is
recorded; a response without usage is counted from its text and flagged (bundled scripted models)."""

from __future__ import annotations

from pathlib import Path

from agentorch import Agent, Budget, Plan, ScriptedModel, Step, Supervisor
from agentorch.budget.tokens import PROMPT_MARGIN, count_request, with_margin
from agentorch.models.testing import text_response
from agentorch.models.types import ModelRequest, UserMessage
from agentorch.store import open_store

PRICES = {"scripted:scripted": {"input": 1e-6, "output": 2e-6}}


class First(Agent):
    name = "first"


class Second(Agent):
    name = "second"


def two_steps() -> Plan:
    return Plan(
        steps=[
            Step(id="one", agent="first", instruction="Do one"),
            Step(id="two", agent="second", instruction="Do two", depends_on=["one"]),
        ],
        final_step="two",
    )


def over_reported(text: str, tokens: int) -> object:
    from agentorch.models.types import Usage

    return text_response(text).model_copy(
        update={"usage": Usage(input_tokens=tokens, output_tokens=tokens, requests=1)}
    )


async def test_a_call_charged_beyond_its_reservation_stops_the_run_and_is_recorded(
    tmp_path: Path,
) -> None:
    # the provider reports 50,000 + 50,000 tokens for a call reserved at a few thousand: well
    # within the $1 limit, but the reservation no longer bounds the spend, so the run stops
    model = ScriptedModel([over_reported("one done", 50_000), "two done"])
    store = f"sqlite:///{tmp_path}/runs.db"
    sup = Supervisor(
        [First(model=model), Second(model=model)],
        plan=two_steps(),
        budget=Budget(usd=1.0, prices=PRICES),
        store=store,
    )
    result = await sup.run("Do both")
    assert result.status == "budget_exceeded", result.error
    assert "but reserved only" in (result.error or "")
    assert len(model.requests) == 1  # no further call started
    # charged in full, as reported: the record says what happened
    assert result.usage.total.input_tokens == 50_000
    assert result.usage.total.cost_usd == 50_000 * 1e-6 + 50_000 * 2e-6
    opened = open_store(store)
    try:
        overruns = [e.payload for e in opened.events(result.run_id) if e.kind == "budget_overrun"]
        assert opened.get_run(result.run_id).status == "budget_exceeded"
    finally:
        opened.close()
    assert len(overruns) == 1
    event = overruns[0]
    assert event["stopped"] is True and event["agent"] == "first" and event["step_id"] == "one"
    assert event["charged_tokens"] == 100_000 > event["reserved_tokens"]
    assert event["charged_usd"] > event["reserved_usd"]


async def test_an_overrun_without_a_limit_is_recorded_but_does_not_stop() -> None:
    model = ScriptedModel([over_reported("one done", 50_000), "two done"])
    seen: list[object] = []
    sup = Supervisor(
        [First(model=model), Second(model=model)],
        plan=two_steps(),
        budget=Budget(prices=PRICES),
        on_event=seen.append,
    )
    result = await sup.run("Do both")
    assert result.status == "succeeded", result.error
    kinds = [getattr(e, "kind", "") for e in seen]
    assert kinds.count("budget_overrun") == 1
    assert next(e for e in seen if getattr(e, "kind", "") == "budget_overrun").stopped is False  # type: ignore[attr-defined]


async def test_missing_usage_is_counted_from_the_text_and_flagged() -> None:
    from agentorch.models.types import Usage

    text = "a reasonably long answer " * 40
    silent = text_response(text).model_copy(update={"usage": Usage(requests=1)})
    model = ScriptedModel([silent, "two done"])
    seen: list[object] = []
    sup = Supervisor(
        [First(model=model), Second(model=model)],
        plan=two_steps(),
        budget=Budget(usd=1.0, prices=PRICES),
        on_event=seen.append,
    )
    result = await sup.run("Do both")
    assert result.status == "succeeded", result.error
    first = result.usage.by_step["one"]
    assert first.estimated is True
    assert first.input_tokens == with_margin(count_request(model.requests[0], "cl100k_base"))
    assert first.output_tokens >= 40 * 4
    assert first.cost_usd > 0
    assert result.usage.total.estimated is True
    assert result.usage.by_step["two"].estimated is False
    finished = [e for e in seen if getattr(e, "kind", "") == "model_call_finished"]
    assert [e.usage_estimated for e in finished] == [True, False]  # type: ignore[attr-defined]


def test_reservations_carry_the_stated_margin() -> None:
    budget = Budget(usd=1.0, prices=PRICES)
    request = ModelRequest(messages=(UserMessage(content="word " * 300),))
    reservation = budget.reserve(
        agent="a",
        model_id="scripted:scripted",
        price_key="scripted",
        encoding="cl100k_base",
        request=request,
    )
    counted = count_request(request, "cl100k_base")
    assert reservation.prompt_tokens == with_margin(counted) >= counted * (1 + PROMPT_MARGIN)
