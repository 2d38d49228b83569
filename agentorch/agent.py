"""Specialist agents: a class declares what the agent is; the loop runs it.

A specialist is a subclass of ``Agent`` whose class attributes are its defaults (constructor
arguments override them). The agent loop alternates model calls and tool calls, through the
runtime seam, until the model gives a final answer that validates against ``output_type``.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ValidationError

from agentorch.errors import ConfigError, MaxTurnsExceeded, ModelBehaviorError, ModelRetry
from agentorch.models import infer_model
from agentorch.models.base import Model
from agentorch.models.types import (
    Message,
    ModelRequest,
    ModelSettings,
    OutputSchema,
    SystemMessage,
    Usage,
    UserMessage,
)
from agentorch.plan import Step
from agentorch.runtime import Engine, ModelCall, Runtime, ToolInvocation, default_engine

if TYPE_CHECKING:
    from agentorch.budget import Budget

_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{0,63}$")


@dataclass
class Dependency:
    """A finished (or failed) step whose output the current step may use."""

    step_id: str
    agent: str
    status: str
    output: Any = None
    error: str | None = None


@dataclass
class StepContext:
    """What one step may see: never the whole transcript."""

    run_id: str
    task: str
    step: Step
    dependencies: dict[str, Dependency] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    decisions: list[str] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    revision: int = 0
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def instruction(self) -> str:
        return self.step.instruction

    def outputs_of(self, agent: str) -> list[Any]:
        """Outputs of the finished dependencies done by ``agent``."""
        return [
            d.output for d in self.dependencies.values() if d.agent == agent and d.status == "done"
        ]


@dataclass
class AgentResult:
    output: Any
    usage: Usage
    messages: list[Message]
    turns: int


def render_value(value: Any) -> str:
    """How an output is shown to another step's model: text as is, structured values as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return json.dumps(value, ensure_ascii=False, default=str)


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


#: Output type -> its JSON schema (shared, never mutated).
_SCHEMAS: dict[type[Any], dict[str, Any]] = {}


class Agent:
    """Base class of every specialist. Subclass it and set the class attributes.

    Hooks to override for the uncommon cases: ``build_messages`` (what the model is shown),
    ``parse_output`` (how the final answer becomes the typed output), ``offline_model`` (a
    deterministic model for runs without a provider key) and ``execute`` (replace the loop).
    """

    name: str = ""
    description: str = ""
    instructions: str = "You are a helpful specialist."
    model: str | Model | None = None
    tools: list[str] | None = None
    output_type: type[Any] = str
    max_turns: int = 12
    max_output_retries: int = 2
    settings: ModelSettings = ModelSettings()

    _OVERRIDABLE: ClassVar[tuple[str, ...]] = (
        "name",
        "description",
        "instructions",
        "model",
        "tools",
        "output_type",
        "max_turns",
        "max_output_retries",
        "settings",
    )

    def __init__(self, **overrides: Any) -> None:
        unknown = set(overrides) - set(self._OVERRIDABLE)
        if unknown:
            raise ConfigError(
                f"{type(self).__name__}: unknown option(s) {sorted(unknown)}; "
                f"accepted: {', '.join(self._OVERRIDABLE)}"
            )
        for key, value in overrides.items():
            setattr(self, key, value)
        from agentorch._checks import check_agent_attributes

        check_agent_attributes(self)
        if not self.name:
            raise ConfigError(f"{type(self).__name__} has no name; set the class attribute `name`")
        if not _NAME.match(self.name):
            raise ConfigError(f"agent name {self.name!r} must be letters, digits, '_' or '-'")
        if self.max_turns < 1:
            raise ConfigError(f"agent {self.name!r}: max_turns must be at least 1")
        if self.tools is not None and isinstance(self.tools, str):
            raise ConfigError(
                f"agent {self.name!r}: tools must be a list of tool names, not a string"
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # --- what the model is shown ---------------------------------------------------------------

    @property
    def structured(self) -> bool:
        return isinstance(self.output_type, type) and issubclass(self.output_type, BaseModel)

    def output_schema(self) -> OutputSchema | None:
        if not self.structured:
            return None
        schema = _SCHEMAS.get(self.output_type)
        if schema is None:  # generating a schema costs milliseconds: once per type
            schema = _SCHEMAS[self.output_type] = self.output_type.model_json_schema()
        return OutputSchema(
            name="final_result",
            description=f"Return the final {self.output_type.__name__}.",
            json_schema=schema,
        )

    def system_prompt(self, context: StepContext) -> str:
        parts = [self.instructions.strip()]
        if self.structured:
            parts.append(
                "When you are done, answer with a single JSON object that matches the required "
                "output schema, and nothing else."
            )
        return "\n\n".join(parts)

    def user_prompt(self, context: StepContext) -> str:
        """The step's own context rendered as text: task, instruction, inputs, dependencies."""
        sections = [f"## Task\n{context.task}", f"## Your step\n{context.instruction}"]
        if context.step.params:
            sections.append("## Parameters\n" + json.dumps(context.step.params, ensure_ascii=False))
        for name, text in context.inputs.items():
            sections.append(f"## Input: {name}\n{text}")
        for dep in context.dependencies.values():
            if dep.status == "done":
                sections.append(
                    f"## Output of step {dep.step_id} ({dep.agent})\n{render_value(dep.output)}"
                )
            else:
                sections.append(
                    f"## Step {dep.step_id} ({dep.agent}) did not finish: {dep.error or dep.status}"
                )
        if context.decisions:
            sections.append(
                "## Decisions recorded so far\n" + "\n".join(f"- {d}" for d in context.decisions)
            )
        if context.feedback:
            sections.append(
                f"## Revision {context.revision}: reviewers asked for changes\n"
                + "\n".join(f"- {r}" for r in context.feedback)
            )
        return "\n\n".join(sections)

    def build_messages(self, context: StepContext) -> list[Message]:
        """The opening messages of a step. Override to shape the prompt from the context."""
        return [
            SystemMessage(content=self.system_prompt(context)),
            UserMessage(content=self.user_prompt(context)),
        ]

    # --- what the model answers ----------------------------------------------------------------

    def parse_output(self, text: str) -> Any:
        """Turn the final answer into the typed output; raise ``ValidationError``/``ModelRetry``."""
        if not self.structured:
            if self.output_type is str:
                return text
            from pydantic import TypeAdapter

            return TypeAdapter(self.output_type).validate_json(_strip_fence(text))
        return self.output_type.model_validate_json(_strip_fence(text))

    def offline_model(self) -> Model | None:
        """A deterministic model that does this agent's job without an LLM, if it has one."""
        return None

    def resolve_model(self, override: str | Model | None = None) -> Model:
        spec = override or self.model
        if spec is None:
            raise ConfigError(
                f"agent {self.name!r} has no model",
                hint="set `model = 'openai:gpt-4.1-mini'` on the class or pass model=... to the supervisor",
            )
        return infer_model(spec)

    # --- running -------------------------------------------------------------------------------

    async def execute(self, context: StepContext, runtime: Runtime, model: Model) -> AgentResult:
        """Run this agent on one step. The default is the model <-> tools loop."""
        return await run_loop(self, context, runtime, model)

    async def run(
        self,
        prompt: str,
        *,
        model: str | Model | None = None,
        budget: Budget | None = None,
        tools: Any = None,
        approver: Any = None,
        policy: Any = None,
        state: dict[str, Any] | None = None,
        engine: Engine | None = None,
    ) -> AgentResult:
        """Run this specialist on its own, outside a supervisor (same budget, tools and rules).

        ``engine`` is where it runs (default: ``agentorch.runtime.default_engine()``).
        """
        return await (engine or default_engine()).run_agent(
            self,
            prompt,
            model=model,
            budget=budget,
            tools=tools,
            approver=approver,
            policy=policy,
            state=state,
        )

    def run_sync(self, prompt: str, **kwargs: Any) -> AgentResult:
        from agentorch._loop import run_sync

        return run_sync(self.run(prompt, **kwargs))


def _strip_fence(text: str) -> str:
    match = _FENCE.match(text)
    return match.group(1) if match else text.strip()


def _validation_feedback(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
            for e in exc.errors()[:10]
        )
        return f"Your answer did not match the required output schema: {problems}. Answer again."
    return f"Your answer was not accepted: {exc}. Answer again."


async def run_loop(
    agent: Agent, context: StepContext, runtime: Runtime, model: Model
) -> AgentResult:
    """The agent loop: model -> tools -> model ... until a validated final answer."""
    messages: list[Message] = list(agent.build_messages(context))
    tools = tuple(runtime.visible_tools(agent))
    output_schema = agent.output_schema()
    usage = Usage()
    retries = 0
    prefix = f"{context.step.id}/r{context.revision}"
    allowed = tuple(agent.tools) if agent.tools is not None else None
    for turn in range(agent.max_turns):
        request = ModelRequest(
            messages=tuple(messages),
            tools=tools,
            output_schema=output_schema,
            settings=agent.settings,
        )
        response = await runtime.call_model(
            ModelCall(
                key=f"{prefix}/m{turn}",
                agent=agent.name,
                step_id=context.step.id,
                model=model,
                request=request,
            )
        )
        usage = usage + response.usage
        messages.append(response.message)
        if response.tool_calls:
            invocations = [
                ToolInvocation(
                    key=f"{prefix}/t{turn}.{i}",
                    agent=agent.name,
                    step_id=context.step.id,
                    call=call,
                    allowed=allowed,
                    state=context.state,
                )
                for i, call in enumerate(response.tool_calls)
            ]
            if len(invocations) == 1:
                results = [await runtime.call_tool(invocations[0])]
            else:
                results = list(
                    await asyncio.gather(*(runtime.call_tool(inv) for inv in invocations))
                )
            messages.extend(results)
            continue
        if response.stop_reason == "length" and agent.structured:
            feedback = "Your answer was cut off at the output limit. Answer again, more briefly."
        else:
            try:
                output = agent.parse_output(response.text)
            except (ValidationError, ValueError, ModelRetry) as exc:
                feedback = _validation_feedback(exc)
            else:
                return AgentResult(output=output, usage=usage, messages=messages, turns=turn + 1)
        retries += 1
        if retries > agent.max_output_retries:
            raise ModelBehaviorError(
                f"agent {agent.name!r} gave no valid answer after {retries} attempts: {feedback}"
            )
        messages.append(UserMessage(content=feedback))
    raise MaxTurnsExceeded(
        f"agent {agent.name!r} reached max_turns={agent.max_turns} without a final answer"
    )
