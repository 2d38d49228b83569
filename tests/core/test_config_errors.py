"""Wrong arguments to the public constructors are a ``ConfigError`` naming the parameter, at
construction time, never a raw ``TypeError``/``AttributeError`` later in a run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agentorch import Agent, Budget, Supervisor, ToolRegistry, tool
from agentorch.errors import ConfigError
from agentorch.models.types import ModelSettings
from agentorch.orchestrator import Limits
from agentorch.review import EscalationPolicy


class Helper(Agent):
    name = "helper"
    description = "Helps."


def fn() -> int:
    """Return one."""
    return 1


def agent_with(**attributes: Any) -> Callable[[], Any]:
    return lambda: type("Custom", (Agent,), {"name": "custom", "description": "d", **attributes})()


CASES: dict[str, tuple[Callable[[], Any], str]] = {
    "agent not an Agent": (lambda: Supervisor([42]), "agents[0]"),  # type: ignore[list-item]
    "agents a string": (lambda: Supervisor("helper"), "agents"),  # type: ignore[arg-type]
    "budget a string": (lambda: Supervisor([Helper], budget="5"), "budget"),  # type: ignore[arg-type]
    "store a number": (lambda: Supervisor([Helper], store=123), "store"),  # type: ignore[arg-type]
    "approver a string": (lambda: Supervisor([Helper], approver="yes"), "approver"),  # type: ignore[arg-type]
    "tools a number": (lambda: Supervisor([Helper], tools=42), "tools"),  # type: ignore[arg-type]
    "a tool a number": (lambda: Supervisor([Helper], tools=[42]), "tools[0]"),  # type: ignore[list-item]
    "policy a dict": (lambda: Supervisor([Helper], policy={}), "policy"),  # type: ignore[arg-type]
    "plan a string": (lambda: Supervisor([Helper], plan="x"), "plan"),  # type: ignore[arg-type]
    "limits a string": (lambda: Supervisor([Helper], limits="x"), "limits"),  # type: ignore[arg-type]
    "escalation a number": (lambda: Supervisor([Helper], escalation=1), "escalation"),  # type: ignore[arg-type]
    "on_event a number": (lambda: Supervisor([Helper], on_event=42), "on_event"),  # type: ignore[arg-type]
    "model a number": (lambda: Supervisor([Helper], model=42), "model"),  # type: ignore[arg-type]
    "retries a string": (lambda: Supervisor([Helper], retries="3"), "retries"),  # type: ignore[arg-type]
    "retries negative": (lambda: Supervisor([Helper], retries=-1), "retries"),
    "plan_reviewer a number": (lambda: Supervisor([Helper], plan_reviewer=1), "plan_reviewer"),  # type: ignore[arg-type]
    "budget usd a string": (lambda: Budget(usd="5"), "usd"),  # type: ignore[arg-type]
    "limits max_steps a string": (lambda: Limits(max_steps="x"), "max_steps"),  # type: ignore[arg-type]
    "limits max_steps zero": (lambda: Limits(max_steps=0), "max_steps"),
    "escalation unknown option": (
        lambda: EscalationPolicy(confidence_threshold=0.5),  # type: ignore[call-arg]
        "confidence_threshold",
    ),
    "escalation confidence above 1": (lambda: EscalationPolicy(min_confidence=2), "min_confidence"),
    "settings negative timeout": (lambda: ModelSettings(timeout=-1), "timeout"),
    "settings zero max_tokens": (lambda: ModelSettings(max_tokens=0), "max_tokens"),
    "tool negative timeout": (lambda: tool(timeout=-1)(fn), "timeout"),
    "tool timeout a string": (lambda: tool(timeout="5")(fn), "timeout"),  # type: ignore[call-overload]
    "tool name with a space": (lambda: tool(name="look up")(fn), "name"),
    "tool name too long": (lambda: tool(name="x" * 65)(fn), "name"),
    "tool tags a string": (lambda: tool(tags="kb")(fn), "tags"),
    "tool requires_approval a string": (
        lambda: tool(requires_approval="no")(fn),  # type: ignore[call-overload]
        "requires_approval",
    ),
    "tool of a number": (lambda: tool(42), "function"),  # type: ignore[call-overload]
    "registry of a number": (lambda: ToolRegistry([42]), "tools[0]"),  # type: ignore[list-item]
    "registry prefix makes a bad name": (
        lambda: ToolRegistry().register(tool(fn), prefix="my tools"),
        "name",
    ),
    "agent name a number": (agent_with(name=42), "name"),
    "agent model a number": (agent_with(model=42), "model"),
    "agent output_type a number": (agent_with(output_type=42), "output_type"),
    "agent instructions a number": (agent_with(instructions=1), "instructions"),
    "agent settings a dict": (agent_with(settings={"timeout": 5}), "settings"),
    "agent tools of numbers": (agent_with(tools=[1]), "tools[0]"),
    "agent override model": (lambda: Helper(model=42), "model"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_wrong_argument_is_a_config_error_naming_it(case: str) -> None:
    build, parameter = CASES[case]
    with pytest.raises(ConfigError) as info:
        build()
    message = str(info.value)
    assert parameter in message, message
    assert "\n" not in message.split("hint:")[0].strip()


def test_right_arguments_still_build() -> None:
    from agentorch import ApproveAll, Policy

    Supervisor(
        [Helper, Helper(name="other")],
        budget=Budget(usd=1),
        store=":memory:",
        approver=ApproveAll(),
        tools=[fn, tool(name="fn2", timeout=None)(fn)],
        policy=Policy.empty(),
        limits=Limits(max_revisions=0),
        escalation=EscalationPolicy(min_confidence=1),
        on_event=[print],
        retries=0,
    )
    assert agent_with(output_type=list[int], tools=("a", "b"))().name == "custom"
    assert tool(name="lookup-v2_x", timeout=0.5, tags=("kb",))(fn).timeout == 0.5
