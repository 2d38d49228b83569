"""Reserve, settle, release and charge: the budget's rules, one at a time."""

from __future__ import annotations

import pytest
from _budget_helpers import nice_budget, request, reserve_nice

from agentorch.budget import AgentCap, Budget, PriceTable
from agentorch.budget.tokens import count_request, with_margin
from agentorch.errors import BudgetExceeded, ConfigError, PriceError
from agentorch.events.types import BudgetExceededEvent, BudgetWarning
from agentorch.models.types import Usage

# openai:nice costs $1 per million input and $8 per million output tokens.
IN, OUT = 1e-6, 8e-6


def test_reservation_is_prompt_plus_max_output() -> None:
    budget = nice_budget(usd=1.0)
    res = reserve_nice(budget, prompt=1000, max_tokens=4096)
    assert res.prompt_tokens == 1000 and res.max_tokens == 4096 and not res.lowered
    assert res.tokens == 5096
    assert res.usd == pytest.approx(1000 * IN + 4096 * OUT)
    assert budget.reserved_usd == pytest.approx(res.usd)
    assert budget.remaining_usd == pytest.approx(1.0 - res.usd)
    assert budget.spent_usd == 0


def test_settling_fewer_tokens_refunds_the_difference() -> None:
    budget = nice_budget(usd=1.0, tokens=100_000)
    res = reserve_nice(budget, prompt=1000, max_tokens=4096)
    usage = budget.settle(res, Usage(input_tokens=1000, output_tokens=100, requests=1))
    assert usage.cost_usd == pytest.approx(1000 * IN + 100 * OUT)
    assert budget.reserved_usd == 0 and budget.reserved_tokens == 0
    assert budget.spent_usd == pytest.approx(usage.cost_usd)
    assert budget.spent_tokens == 1100
    assert budget.remaining_usd == pytest.approx(1.0 - usage.cost_usd)
    assert budget.remaining_tokens == 100_000 - 1100
    assert budget.open_reservations == 0


def test_release_gives_everything_back_and_is_idempotent() -> None:
    budget = nice_budget(usd=1.0)
    res = reserve_nice(budget)
    budget.release(res)
    budget.release(res)
    assert budget.reserved_usd == 0 and budget.spent_usd == 0
    assert budget.remaining_usd == 1.0
    with pytest.raises(RuntimeError, match="already settled or released"):
        budget.settle(res, Usage(input_tokens=1, output_tokens=1))


def test_prompt_is_counted_when_not_given() -> None:
    budget = nice_budget(usd=1.0)
    req = request(100, text="a fairly ordinary sentence " * 50)
    res = budget.reserve(
        agent="a", model_id="openai:nice", price_key="nice", encoding="o200k_base", request=req
    )
    assert res.prompt_tokens == with_margin(count_request(req, "o200k_base"))
    estimated = budget.reserve(
        agent="a", model_id="openai:nice", price_key="nice", encoding=None, request=req
    )
    # Without the model's tokenizer the count is an estimate with a safety margin.
    assert estimated.prompt_tokens > res.prompt_tokens


def test_max_tokens_is_lowered_to_what_fits_in_tokens() -> None:
    budget = nice_budget(tokens=2000)
    res = reserve_nice(budget, prompt=1000, max_tokens=4096)
    assert res.max_tokens == 1000 and res.requested_max_tokens == 4096 and res.lowered
    assert res.tokens == 2000
    assert budget.remaining_tokens == 0


def test_max_tokens_is_lowered_to_what_fits_in_dollars() -> None:
    budget = nice_budget(usd=0.25)
    res = reserve_nice(budget, prompt=1000, max_tokens=40_000)
    # (0.25 - 1000 * $1e-6) / $8e-6 = 31,125 output tokens.
    assert res.max_tokens == 31_125
    assert res.usd <= 0.25


def test_below_min_output_tokens_is_refused_with_an_event() -> None:
    events: list = []
    budget = nice_budget(events, tokens=1200, min_output_tokens=256)
    with pytest.raises(BudgetExceeded) as info:
        reserve_nice(budget, prompt=1000, max_tokens=4096)
    assert info.value.scope == "run"
    assert "5,096 tokens" in str(info.value) and "only 1,200 tokens remain" in str(info.value)
    assert info.value.hint and "resume" in info.value.hint
    assert budget.reserved_tokens == 0 and budget.open_reservations == 0
    [event] = events
    assert isinstance(event, BudgetExceededEvent)
    assert (event.scope, event.agent, event.step_id) == ("run", "writer", "s1")
    assert (event.requested_tokens, event.remaining_tokens) == (5096, 1200)


def test_a_small_call_below_min_output_still_fits_if_whole() -> None:
    budget = nice_budget(tokens=1200, min_output_tokens=256)
    res = reserve_nice(budget, prompt=1000, max_tokens=150)
    assert res.max_tokens == 150


def test_per_agent_cap_stops_one_agent_while_others_continue() -> None:
    events: list = []
    budget = nice_budget(
        events, usd=1.0, per_agent={"writer": 0.01, "critic": AgentCap(tokens=900)}
    )
    res = reserve_nice(budget, agent="writer", prompt=1000, max_tokens=1000)  # $0.009
    budget.settle(res, Usage(input_tokens=1000, output_tokens=1000))
    with pytest.raises(BudgetExceeded) as info:
        reserve_nice(budget, agent="writer", prompt=1000, max_tokens=1000)
    assert info.value.scope == "agent:writer"
    assert "agent 'writer'" in str(info.value)
    with pytest.raises(BudgetExceeded) as info:
        reserve_nice(budget, agent="critic", prompt=1000, max_tokens=300)
    assert info.value.scope == "agent:critic"
    other = reserve_nice(budget, agent="editor", prompt=1000, max_tokens=4096)
    assert other.max_tokens == 4096
    assert [e.scope for e in events if isinstance(e, BudgetExceededEvent)] == [
        "agent:writer",
        "agent:critic",
    ]


def test_agent_cap_lowers_max_tokens_too() -> None:
    budget = nice_budget(per_agent={"writer": AgentCap(tokens=1500)})
    assert reserve_nice(budget, agent="writer", prompt=1000, max_tokens=4096).max_tokens == 500


def test_openai_cached_tokens_use_the_cached_rate() -> None:
    budget = Budget(usd=1.0)
    res = budget.reserve(
        agent="a",
        model_id="openai:gpt-4.1-mini",
        price_key="gpt-4.1-mini",
        encoding="o200k_base",
        request=request(1000),
        prompt_tokens=10_000,
    )
    usage = budget.settle(
        res, Usage(input_tokens=10_000, cached_input_tokens=8_000, output_tokens=1_000)
    )
    # 2,000 at $0.40/M + 8,000 cached at $0.10/M + 1,000 out at $1.60/M
    assert usage.cost_usd == pytest.approx(0.0008 + 0.0008 + 0.0016)


def test_anthropic_cache_read_and_write_rates() -> None:
    budget = Budget(usd=1.0)
    res = budget.reserve(
        agent="a",
        model_id="anthropic:claude-sonnet-4-5",
        price_key="claude-sonnet-4-5",
        encoding=None,
        request=request(1000),
        prompt_tokens=10_000,
    )
    # Worst case: every prompt token could be a cache write ($3.75/M), output at $15/M.
    assert res.usd == pytest.approx(10_000 * 3.75e-6 + 1000 * 1.5e-5)
    usage = budget.settle(
        res,
        Usage(
            input_tokens=10_000,
            cached_input_tokens=6_000,
            cache_write_tokens=2_000,
            output_tokens=1_000,
        ),
    )
    expected = 2_000 * 3e-6 + 6_000 * 3e-7 + 2_000 * 3.75e-6 + 1_000 * 1.5e-5
    assert usage.cost_usd == pytest.approx(expected)
    assert budget.report().by_model["anthropic:claude-sonnet-4-5"].cache_write_tokens == 2_000


def test_unknown_model_is_a_price_error() -> None:
    budget = Budget(usd=1.0)
    with pytest.raises(PriceError, match="openai:gpt-99") as info:
        budget.reserve(
            agent="a",
            model_id="openai:gpt-99",
            price_key="gpt-99",
            encoding="o200k_base",
            request=request(),
            prompt_tokens=10,
        )
    assert info.value.hint and "allow_unpriced=True" in info.value.hint
    assert "prices=" in info.value.hint


def test_unknown_fallback_candidate_is_a_price_error_too() -> None:
    budget = Budget(usd=1.0)
    with pytest.raises(PriceError, match="litellm:ollama/mystery"):
        budget.reserve(
            agent="a",
            model_id="openai:gpt-4.1-mini",
            price_key="gpt-4.1-mini",
            encoding="o200k_base",
            request=request(),
            prompt_tokens=10,
            candidates=[("litellm:ollama/mystery", "ollama/mystery")],
        )


def test_allow_unpriced_counts_tokens_only() -> None:
    budget = Budget(usd=1.0, tokens=10_000, allow_unpriced=True)
    res = budget.reserve(
        agent="a",
        model_id="litellm:ollama/mystery",
        price_key="ollama/mystery",
        encoding=None,
        request=request(1000),
        prompt_tokens=500,
    )
    assert res.unpriced and res.usd == 0 and res.price is None and res.tokens == 1500
    usage = budget.settle(res, Usage(input_tokens=500, output_tokens=200))
    assert usage.unpriced and usage.cost_usd == 0
    report = budget.report()
    assert report.unpriced_models == ["litellm:ollama/mystery"]
    assert report.total.unpriced and budget.spent_tokens == 700


def test_unlimited_budget_accounts_unknown_models_as_unpriced() -> None:
    budget = Budget()
    assert budget.unlimited
    res = budget.reserve(
        agent="a",
        model_id="litellm:ollama/mystery",
        price_key="ollama/mystery",
        encoding=None,
        request=request(),
        prompt_tokens=5,
    )
    assert budget.settle(res, Usage(input_tokens=5, output_tokens=5)).unpriced


def test_candidates_reserve_at_the_most_expensive() -> None:
    budget = Budget(usd=1.0)
    res = budget.reserve(
        agent="a",
        model_id="openai:gpt-4.1-mini",
        price_key="gpt-4.1-mini",
        encoding="o200k_base",
        request=request(1000),
        prompt_tokens=1000,
        candidates=[("anthropic:claude-sonnet-4-5", "claude-sonnet-4-5")],
    )
    assert res.usd == pytest.approx(1000 * 3.75e-6 + 1000 * 1.5e-5)
    assert res.price is not None and res.price.output == 1.5e-5
    # The primary answered: it is charged at its own (cheaper) rate.
    usage = budget.settle(res, Usage(input_tokens=1000, output_tokens=1000))
    assert usage.cost_usd == pytest.approx(1000 * 4e-7 + 1000 * 1.6e-6)


def test_settle_as_the_fallback_that_answered() -> None:
    budget = Budget(usd=1.0)
    res = budget.reserve(
        agent="a",
        model_id="openai:gpt-4.1-mini",
        price_key="gpt-4.1-mini",
        encoding="o200k_base",
        request=request(1000),
        prompt_tokens=1000,
        candidates=[("anthropic:claude-sonnet-4-5", "claude-sonnet-4-5")],
    )
    usage = budget.settle(
        res,
        Usage(input_tokens=1000, output_tokens=1000),
        model_id="anthropic:claude-sonnet-4-5",
        price_key="claude-sonnet-4-5",
    )
    assert usage.cost_usd == pytest.approx(1000 * 3e-6 + 1000 * 1.5e-5)
    assert set(budget.report().by_model) == {"anthropic:claude-sonnet-4-5"}


def test_reported_usage_above_the_reservation_is_recorded_anyway() -> None:
    budget = nice_budget(tokens=2000)
    res = reserve_nice(budget, prompt=1000, max_tokens=1000)
    budget.settle(res, Usage(input_tokens=1500, output_tokens=1000))
    assert budget.spent_tokens == 2500
    assert budget.remaining_tokens == 0


def test_warning_once_per_scope_at_warn_at() -> None:
    events: list = []
    budget = nice_budget(events, usd=1.0, warn_at=0.8, per_agent={"writer": 0.5})
    budget.charge(
        agent="writer",
        model_id="openai:nice",
        step_id="s1",
        usage=Usage(input_tokens=10, output_tokens=10, cost_usd=0.39),
    )
    assert events == []
    budget.charge(
        agent="writer",
        model_id="openai:nice",
        step_id="s2",
        usage=Usage(input_tokens=10, output_tokens=10, cost_usd=0.02),
    )
    [agent_warning] = events
    assert isinstance(agent_warning, BudgetWarning)
    assert agent_warning.scope == "agent:writer" and agent_warning.step_id == "s2"
    assert agent_warning.limit_usd == 0.5 and agent_warning.fraction >= 0.8
    res = reserve_nice(budget, agent="critic", prompt=1000, max_tokens=1000)
    assert len(events) == 1  # reservations alone never warn: the warning counts settled spend
    # Spend $0.40 more for critic: the run crosses 80% (0.81 of $1).
    budget.settle(res, Usage(input_tokens=1000, output_tokens=1000))
    budget.charge(agent="critic", model_id="openai:nice", step_id=None, usage=Usage(cost_usd=0.391))
    assert [e.scope for e in events] == ["agent:writer", "run"]
    budget.charge(agent="critic", model_id="openai:nice", step_id=None, usage=Usage(cost_usd=0.1))
    budget.charge(agent="writer", model_id="openai:nice", step_id=None, usage=Usage(cost_usd=0.01))
    assert [e.scope for e in events] == ["agent:writer", "run"]


def test_charge_restores_spend_and_can_pass_the_limit() -> None:
    budget = nice_budget(usd=0.1)
    budget.charge(
        agent="w",
        model_id="openai:nice",
        step_id="s1",
        usage=Usage(input_tokens=5, output_tokens=5, cost_usd=0.12, requests=1),
    )
    assert budget.spent_usd == pytest.approx(0.12)
    assert budget.remaining_usd == 0
    with pytest.raises(BudgetExceeded):
        reserve_nice(budget, prompt=1, max_tokens=300)


def test_report_breaks_spend_down_by_agent_model_and_step() -> None:
    budget = nice_budget(usd=1.0, per_agent={"writer": 0.5})
    for agent, step, out in (("writer", "s1", 100), ("writer", "s2", 300), ("critic", "s3", 50)):
        res = reserve_nice(budget, agent=agent, step_id=step, prompt=1000, max_tokens=1000)
        budget.settle(res, Usage(input_tokens=1000, output_tokens=out, requests=1))
    report = budget.report()
    assert report.total.requests == 3 and report.total.output_tokens == 450
    assert report.by_agent["writer"].output_tokens == 400
    assert set(report.by_step) == {"s1", "s2", "s3"}
    assert report.by_model["openai:nice"].cost_usd == pytest.approx(report.total.cost_usd)
    rows = report.table()
    assert [(r["group"], r["name"]) for r in rows] == [
        ("agent", "writer"),
        ("agent", "critic"),
        ("model", "openai:nice"),
        ("total", "total"),
    ]
    assert rows[0]["limit_usd"] == 0.5 and rows[-1]["limit_usd"] == 1.0
    assert sum(r["share"] for r in rows if r["group"] == "agent") == pytest.approx(1.0)
    dumped = report.model_dump()
    assert dumped["by_agent"]["critic"]["output_tokens"] == 50
    assert dumped["limits"]["per_agent"] == {"writer": {"usd": 0.5, "tokens": None}}
    assert [r["group"] for r in report.table(groups=("step",))] == ["step"] * 3 + ["total"]


def test_to_dict_from_dict_and_with_limits() -> None:
    budget = Budget(
        usd=2.0,
        tokens=400_000,
        per_agent={"writer": 0.5},
        warn_at=0.9,
        prices={"acme:m": {"input_per_mtok": 1, "output_per_mtok": 2}},
        min_output_tokens=64,
    )
    data = budget.to_dict()
    again = Budget.from_dict(data)
    assert again.to_dict() == data
    assert again.prices.lookup("acme:m", "m") is not None
    budget.charge(
        agent="writer",
        model_id="acme:m",
        step_id="s1",
        usage=Usage(input_tokens=100, output_tokens=100, cost_usd=1.5),
    )
    raised = budget.with_limits(usd=5.0)
    assert raised.limit_usd == 5.0 and raised.limit_tokens == 400_000
    assert raised.spent_usd == pytest.approx(1.5)
    assert raised.report().by_agent["writer"].cost_usd == pytest.approx(1.5)
    assert budget.with_limits(usd=None).limit_usd is None
    assert budget.fresh().spent_usd == 0
    with pytest.raises(ConfigError, match="bad budget configuration"):
        Budget.from_dict({"usd": "lots", "colour": 1})


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"usd": -1}, "usd must be"),
        ({"usd": float("nan")}, "usd must be"),
        ({"tokens": 1.5}, "tokens must be an int"),
        ({"warn_at": 0}, "warn_at"),
        ({"warn_at": 1.5}, "warn_at"),
        ({"min_output_tokens": 0}, "min_output_tokens"),
        ({"per_agent": {"w": "lots"}}, "per_agent['w']"),
        ({"per_agent": {"w": {"dollars": 1}}}, "unknown key"),
        ({"per_agent": {"w": AgentCap(tokens=-5)}}, "per_agent['w'].tokens"),
        ({"prices": 42}, "prices must be"),
    ],
)
def test_bad_configuration_is_a_config_error(kwargs: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        Budget(**kwargs)
    assert needle in str(info.value)


def test_constructor_does_no_price_io() -> None:
    table = PriceTable({"openai:nice": {"input": 1e-6, "output": 1e-6}}, use_litellm=False)
    budget = Budget(usd=1.0, prices=table)
    assert budget.prices is table
    assert repr(budget).startswith("<Budget usd=1.0")


def test_unpriced_fallback_with_allow_unpriced_marks_only_the_reservation() -> None:
    budget = Budget(usd=1.0, allow_unpriced=True)
    res = budget.reserve(
        agent="a",
        model_id="openai:gpt-4.1-mini",
        price_key="gpt-4.1-mini",
        encoding="o200k_base",
        request=request(100),
        prompt_tokens=100,
        candidates=[("litellm:ollama/mystery", "ollama/mystery")],
    )
    assert res.unpriced and res.usd > 0
    assert not budget.settle(res, Usage(input_tokens=100, output_tokens=10)).unpriced
    assert budget.report().unpriced_models == []


def test_warning_fires_at_exactly_warn_at() -> None:
    events: list = []
    budget = nice_budget(events, usd=1.0, warn_at=0.5)
    budget.charge(agent="a", model_id="openai:nice", step_id=None, usage=Usage(cost_usd=0.5))
    [warning] = events
    assert warning.scope == "run" and warning.fraction == 0.5 and warning.spent_usd == 0.5
