"""The Agent class and its loop on their own."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from agentorch import Agent, Budget, ScriptedModel, tool
from agentorch.errors import BudgetExceeded, ConfigError, MaxTurnsExceeded, ModelBehaviorError
from agentorch.models.testing import json_response, tool_call_response
from agentorch.models.types import ToolResultMessage, UserMessage


class Answer(BaseModel):
    value: int


@tool
def double(x: int) -> int:
    """Double a number."""
    return 2 * x


class Doubler(Agent):
    name = "doubler"
    description = "Doubles numbers."
    tools = ["double"]
    output_type = Answer
    max_turns = 3


def test_constructor_arguments_override_class_defaults() -> None:
    agent = Doubler(model="openai:gpt-4.1-mini", max_turns=5)
    assert agent.max_turns == 5 and Doubler.max_turns == 3
    assert agent.model == "openai:gpt-4.1-mini"
    with pytest.raises(ConfigError, match="unknown option"):
        Doubler(colour="blue")
    with pytest.raises(ConfigError, match="no name"):
        type("Nameless", (Agent,), {})()


async def test_standalone_run_with_tools_and_typed_output() -> None:
    model = ScriptedModel([tool_call_response(("double", {"x": 21})), json_response({"value": 42})])
    result = await Doubler(model=model).run(
        "double 21", tools=[double], budget=Budget(allow_unpriced=True)
    )
    assert result.output == Answer(value=42)
    results = [m for m in model.requests[1].messages if isinstance(m, ToolResultMessage)]
    assert results[0].content == "42"
    assert result.usage.requests == 2


async def test_invalid_output_is_retried_with_the_errors_then_fails_clearly() -> None:
    model = ScriptedModel(['{"value": "many"}', "not json at all", '{"wrong": 1}'])
    with pytest.raises(ModelBehaviorError, match="no valid answer"):
        await Doubler(model=model, max_turns=10).run("x", tools=[double])
    feedback = [m.content for m in model.requests[1].messages if isinstance(m, UserMessage)][-1]
    assert "value" in feedback and "schema" in feedback


async def test_invalid_then_valid_output_recovers() -> None:
    model = ScriptedModel(['{"value": "many"}', json_response({"value": 7})])
    result = await Doubler(model=model).run("x", tools=[double])
    assert result.output.value == 7


async def test_max_turns_ends_a_loop_that_does_not_converge() -> None:
    model = ScriptedModel([tool_call_response(("double", {"x": i})) for i in range(3)])
    with pytest.raises(MaxTurnsExceeded):
        await Doubler(model=model).run("x", tools=[double])


async def test_budget_refuses_a_call_that_does_not_fit() -> None:
    model = ScriptedModel(["never sent"])
    budget = Budget(usd=0.001, prices={"scripted:scripted": {"input": 0.01, "output": 0.01}})
    with pytest.raises(BudgetExceeded):
        await Doubler(model=model).run("x", tools=[double], budget=budget)
    assert model.requests == []
