"""What the two runtimes behind the seam share, written once.

The embedded runtime (``agentorch.engine``) and the Temporal one (``agentorch.temporal.runtime``)
differ in where a call runs and how its state is kept, not in how a model call's budget is capped,
priced and reported, how tool arguments are hashed and redacted for the journal, which tools an
agent is shown, or how a side-effecting call whose outcome is unknown is put to a person.
"""

from __future__ import annotations

import hashlib
import json
from abc import abstractmethod
from typing import TYPE_CHECKING, Any

from agentorch.approvals import ApprovalRequest, Approver
from agentorch.errors import ApprovalPending, InDoubtError
from agentorch.events.types import (
    ModelCallFailed,
    ModelCallFinished,
    ModelCallStarted,
)
from agentorch.models.types import ModelRequest, ModelResponse, ToolSchema, Usage
from agentorch.runtime import ModelCall, Runtime, ToolInvocation

if TYPE_CHECKING:
    from agentorch.agent import Agent
    from agentorch.budget._ledger import Reservation
    from agentorch.models.base import Model
    from agentorch.tools.base import Tool
    from agentorch.tools.registry import ToolRegistry


def request_hash(payload: Any) -> str:
    """A short digest of a tool call's arguments (the journal tells a changed retry by it)."""
    data = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def redacted_args(tool: Tool, arguments: dict[str, Any]) -> dict[str, Any]:
    """Arguments as the journal and a person see them: secret ones redacted, all JSON."""
    out = {}
    for name, value in arguments.items():
        if name in tool.secret_args:
            out[name] = "[REDACTED]"
        else:
            try:
                json.dumps(value)
                out[name] = value
            except (TypeError, ValueError):
                out[name] = str(value)
    return out


def capped(request: ModelRequest, reservation: Reservation) -> ModelRequest:
    """``request`` asking for no more output than its reservation covers."""
    if reservation.max_tokens >= request.settings.max_tokens:
        return request
    settings = request.settings.model_copy(update={"max_tokens": reservation.max_tokens})
    return request.model_copy(update={"settings": settings})


def call_started(call: ModelCall, reservation: Reservation) -> ModelCallStarted:
    """The event reporting a model call about to be sent, with what it reserved."""
    return ModelCallStarted(
        agent=call.agent,
        step_id=call.step_id,
        call_key=call.key,
        model=call.model.id,
        reserved_usd=reservation.usd,
        reserved_tokens=reservation.tokens,
        max_tokens=reservation.max_tokens,
    )


def call_failed(call: ModelCall, error: BaseException) -> ModelCallFailed:
    """The event reporting a model call that failed (its reservation released)."""
    return ModelCallFailed(
        agent=call.agent,
        step_id=call.step_id,
        call_key=call.key,
        model=call.model.id,
        error_type=type(error).__name__,
        message=str(error),
    )


def call_finished(
    call: ModelCall, model: Model, response: ModelResponse, *, latency_ms: float, replayed: bool
) -> ModelCallFinished:
    """The event reporting a finished (or replayed) model call, from its priced response."""
    usage = response.usage
    return ModelCallFinished(
        agent=call.agent,
        step_id=call.step_id,
        call_key=call.key,
        model=model.id,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        cost_usd=usage.cost_usd,
        latency_ms=latency_ms,
        stop_reason=response.stop_reason,
        replayed=replayed,
        usage_estimated=usage.estimated,
    )


def usage_or_estimate(response: ModelResponse, prompt_tokens: int, encoding: str | None) -> Usage:
    """The provider's usage, with what it left out counted from the text and flagged.

    A call always has input, so no input tokens means the provider sent no usage: the prompt is
    taken at its reservation (counted with the model's tokenizer plus the margin), the output is
    counted from the response's text and tool calls.
    """
    from agentorch.budget.tokens import count_text, output_text

    usage = response.usage
    fix: dict[str, Any] = {}
    if usage.input_tokens <= 0:
        fix["input_tokens"] = prompt_tokens
    if usage.output_tokens <= 0:
        out = output_text(response.text, response.tool_calls)
        if out:
            fix["output_tokens"] = count_text(out, encoding)
    if not fix:
        return usage
    return usage.model_copy(update={**fix, "estimated": True, "requests": usage.requests or 1})


def answering_model(model: Model, response: ModelResponse) -> Model:
    """The model of a fallback chain that actually answered (priced at its own rates)."""
    for candidate in getattr(model, "candidates", ()) or ():
        if candidate.provider == response.provider and candidate.name == response.model_name:
            return candidate
    return model


class BaseRuntime(Runtime):
    """The part of a runtime that is the same on every engine (it provides ``registry``).

    Tool calls reach a runtime's ``execute_journaled`` (the contract is ``ToolHost``'s, in
    ``agentorch.tools.registry``); a side-effecting call found in doubt goes to
    ``resolve_in_doubt``.
    """

    registry: ToolRegistry
    #: Why a call's outcome is unknown, as the person deciding reads it after the tool's name.
    in_doubt_cause = "started before the run stopped"

    def visible_tools(self, agent: Agent) -> list[ToolSchema]:
        allowed = tuple(agent.tools) if agent.tools is not None else None
        return self.registry.schemas_for(agent.name, allowed)

    def count_tokens(self, model: Model, text: str) -> int:
        from agentorch.budget.tokens import count_text

        return count_text(text, model.encoding)

    @abstractmethod
    def add_secret(self, value: str) -> None:
        """Redact ``value`` from everything the run writes from now on."""

    def learn_secrets(self, response: ModelResponse) -> None:
        """Values the model put in secret tool arguments are redacted from here on, journal included."""
        for call in response.tool_calls:
            tool = self.registry.find(call.name)
            if tool is None:
                continue
            for name in tool.secret_args:
                value = call.arguments.get(name)
                if isinstance(value, str) and value:
                    self.add_secret(value)

    async def resolve_in_doubt(
        self,
        invocation: ToolInvocation,
        tool: Tool,
        arguments: dict[str, Any],
        approver: Approver | None = None,
    ) -> str | None:
        """A side-effecting call started with no recorded outcome: a person decides.

        ``None``: run it again; otherwise the result the call is given (skipped, marked done).
        ``arguments`` are already redacted.
        """
        request = ApprovalRequest(
            request_id=f"{self.run_id}:{invocation.key}:in_doubt",
            run_id=self.run_id,
            subject="in_doubt",
            step_id=invocation.step_id,
            agent=invocation.agent,
            tool=tool.name,
            arguments=arguments,
            risk=tool.risk,
            reason=(
                f"{tool.name!r} {self.in_doubt_cause} and its outcome is unknown: "
                "run it again, skip it, or mark it done"
            ),
        )
        try:
            decision = await self.request_approval(request, approver=approver)
        except ApprovalPending as exc:
            raise InDoubtError(
                f"tool call {tool.name!r} ({invocation.key}) is in doubt and waits for a decision",
                key=invocation.key,
            ) from exc
        if decision.decision == "run_again":
            return None
        if decision.decision == "mark_done":
            return f"(a person marked this call as done: {decision.comment or 'no comment'})"
        return f"(a person chose to skip this call: {decision.comment or 'no comment'})"
