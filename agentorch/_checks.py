"""Construction-time checks of public arguments: a wrong type or value is a ``ConfigError`` that
names the parameter, raised where the mistake is made rather than as a raw ``TypeError`` deep
inside a run."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

from agentorch.errors import ConfigError

#: What OpenAI and Anthropic accept as a tool (function) name.
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _show(value: Any) -> str:
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def fail(owner: str, param: str, expected: str, value: Any, hint: str | None = None) -> NoReturn:
    raise ConfigError(f"{owner}: {param} must be {expected}, not {_show(value)}", hint=hint)


def config_error(owner: str, exc: Any) -> ConfigError:
    """A pydantic ``ValidationError`` as a ``ConfigError`` naming the parameters."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(arguments)'}: {e['msg']}"
        for e in exc.errors()[:5]
    )
    return ConfigError(f"{owner}: {problems}")


def check_bool(owner: str, param: str, value: Any) -> None:
    if not isinstance(value, bool):
        fail(owner, param, "True or False", value)


def check_str(owner: str, param: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        fail(owner, param, "a string" + (" or None" if optional else ""), value)


def check_int(owner: str, param: str, value: Any, *, minimum: int = 0) -> None:
    """An ``int`` (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        fail(owner, param, f"an integer >= {minimum}", value)
    if value < minimum:
        fail(owner, param, f"an integer >= {minimum}", value)


def check_number(owner: str, param: str, value: Any, *, minimum: float = 0.0) -> None:
    """A finite number (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(owner, param, f"a number >= {minimum:g}", value)
    if not math.isfinite(value) or value < minimum:
        fail(owner, param, f"a finite number >= {minimum:g}", value)


def check_timeout(owner: str, param: str, value: Any) -> None:
    """``None`` (no limit) or a finite number of seconds above zero."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(owner, param, "a number of seconds > 0 or None", value)
    if not math.isfinite(value) or value <= 0:
        fail(owner, param, "a number of seconds > 0 or None", value)


def check_callable(owner: str, param: str, value: Any, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not callable(value):
        fail(owner, param, "a function" + (" or None" if optional else ""), value)


def check_tool_name(owner: str, name: Any) -> None:
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        fail(
            owner,
            "name",
            "1-64 letters, digits, '_' or '-' (what model providers accept)",
            name,
            hint="rename it with @tool(name=...)",
        )


def check_supervisor_args(args: Mapping[str, Any]) -> None:
    """Every argument of ``Supervisor(...)``, by type, before anything is built from them."""
    from agentorch.agent import Agent
    from agentorch.approvals import Approver
    from agentorch.budget import Budget
    from agentorch.models.base import Model
    from agentorch.orchestrator import Limits
    from agentorch.plan import Plan
    from agentorch.policy import Policy
    from agentorch.review import EscalationPolicy
    from agentorch.store.base import Store
    from agentorch.tools.base import Tool
    from agentorch.tools.registry import ToolRegistry

    owner = "Supervisor"
    agents = args["agents"]
    if isinstance(agents, str | bytes | Mapping) or not isinstance(agents, Iterable):
        fail(owner, "agents", "a list of Agent classes or instances", agents)
    for i, item in enumerate(agents):
        if not (isinstance(item, Agent) or (isinstance(item, type) and issubclass(item, Agent))):
            fail(owner, f"agents[{i}]", "an Agent subclass or instance", item)
    for name in ("model", "router_model"):
        value = args[name]
        if value is not None and not isinstance(value, str | Model):
            fail(owner, name, "a model id like 'openai:gpt-4.1-mini', a Model, or None", value)
    _check_instance(owner, "budget", args["budget"], Budget, "a Budget or None", "Budget(usd=5)")
    store = args["store"]
    if store is not None and not isinstance(store, str | os.PathLike | Store):
        fail(owner, "store", "a store URL or path, a Store, or None", store)
    _check_instance(
        owner, "approver", args["approver"], Approver, "an Approver or None", "ApproveAll()"
    )
    tools = args["tools"]
    if tools is not None and not isinstance(tools, ToolRegistry):
        if isinstance(tools, str | bytes | Mapping) or not isinstance(tools, Iterable):
            fail(owner, "tools", "a list of tools (or a ToolRegistry)", tools)
        for i, item in enumerate(tools):
            if not isinstance(item, Tool) and not callable(item):
                fail(owner, f"tools[{i}]", "a tool (@tool function) or a function", item)
    policy = args["policy"]
    if policy is not None and not isinstance(policy, Policy | str | os.PathLike):
        hint = "use Policy.from_dict(...)" if isinstance(policy, Mapping) else None
        fail(owner, "policy", "a Policy, a policy file path, or None", policy, hint)
    _check_instance(owner, "plan", args["plan"], Plan, "a Plan or None")
    _check_instance(owner, "limits", args["limits"], Limits, "a Limits or None")
    _check_instance(
        owner, "escalation", args["escalation"], EscalationPolicy, "an EscalationPolicy or None"
    )
    on_event = args["on_event"]
    if on_event is not None and not callable(on_event):
        if isinstance(on_event, str | bytes) or not isinstance(on_event, Iterable):
            fail(owner, "on_event", "a function, a list of functions, or None", on_event)
        for i, item in enumerate(on_event):
            check_callable(owner, f"on_event[{i}]", item, optional=False)
    check_callable(owner, "plan_reviewer", args["plan_reviewer"])
    check_int(owner, "retries", args["retries"])
    check_bool(owner, "stream", args["stream"])
    check_str(owner, "name", args["name"])
    check_str(owner, "description", args["description"])


def _check_instance(
    owner: str, param: str, value: Any, kind: type, expected: str, example: str | None = None
) -> None:
    if value is not None and not isinstance(value, kind):
        fail(owner, param, expected, value, f"e.g. {param}={example}" if example else None)


def check_agent_attributes(agent: Any) -> None:
    """An agent's class attributes (or overrides), by type."""
    from agentorch.models.base import Model
    from agentorch.models.types import ModelSettings

    owner = f"agent {type(agent).__name__}"
    check_str(owner, "name", agent.name)
    check_str(owner, "description", agent.description)
    check_str(owner, "instructions", agent.instructions)
    if agent.model is not None and not isinstance(agent.model, str | Model):
        fail(owner, "model", "a model id like 'openai:gpt-4.1-mini', a Model, or None", agent.model)
    tools = agent.tools
    if tools is not None:
        if isinstance(tools, str | bytes) or not isinstance(tools, Iterable):
            fail(owner, "tools", "a list of tool names", tools)
        for i, item in enumerate(tools):
            check_str(owner, f"tools[{i}]", item)
    output_type = agent.output_type
    if not isinstance(output_type, type) and not _is_type_form(output_type):
        fail(owner, "output_type", "a type such as str or a pydantic model", output_type)
    check_int(owner, "max_turns", agent.max_turns, minimum=1)
    check_int(owner, "max_output_retries", agent.max_output_retries)
    if not isinstance(agent.settings, ModelSettings):
        fail(owner, "settings", "a ModelSettings", agent.settings, "settings=ModelSettings(...)")


def _is_type_form(value: Any) -> bool:
    """``list[int]``, ``Literal[...]``, ``A | B``: generic aliases a pydantic adapter accepts."""
    return hasattr(value, "__origin__") or type(value).__name__ in (
        "UnionType",
        "_LiteralGenericAlias",
    )


def check_tool_options(name: str, function: Any, options: Mapping[str, Any]) -> None:
    """``@tool(...)`` options, by type and value."""
    owner = f"tool {name!r}"
    check_tool_name(owner, name)
    check_timeout(owner, "timeout", options["timeout"])
    check_bool(owner, "requires_approval", options["requires_approval"])
    if options["idempotent"] is not None:
        check_bool(owner, "idempotent", options["idempotent"])
    for param in ("tags", "secret_args"):
        value = options[param]
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            fail(owner, param, "a list of strings", value)
        for i, item in enumerate(value):
            check_str(owner, f"{param}[{i}]", item)
    check_str(owner, "description", options["description"], optional=True)
    check_callable(owner, "check", options["check"])


def check_function(owner: str, function: Any) -> Callable[..., Any]:
    if not callable(function):
        fail(owner, "function", "a function", function)
    return function
