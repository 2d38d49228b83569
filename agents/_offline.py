"""Helpers for the offline engine: data blocks in prompts and a view of a conversation so far.

An offline model is a ``FunctionModel``: it sees only the request's messages, like a real model.
The specialists put what their offline model needs in the prompt as JSON data blocks (readable by
an LLM too), and the model reads tool results back from the messages the runtime appended.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentorch.models import (
    AssistantMessage,
    ModelRequest,
    ModelResponse,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from agentorch.models.testing import FunctionModel

_BLOCK = re.compile(r"^## Data: (?P<name>[\w.-]+)\n```json\n(?P<body>.*?)\n```$", re.M | re.S)


def data_block(name: str, value: Any) -> str:
    """A named JSON block for a prompt: ``## Data: <name>`` and a fenced JSON body."""
    body = json.dumps(value, ensure_ascii=False, indent=1, default=str)
    return f"## Data: {name}\n```json\n{body}\n```"


def read_data(text: str, name: str) -> Any:
    """The value of the data block ``name`` in ``text``; ``None`` when there is none."""
    for match in _BLOCK.finditer(text):
        if match.group("name") == name:
            return json.loads(match.group("body"))
    return None


@dataclass
class ToolOutcome:
    """One tool call the model made and what came back."""

    name: str
    arguments: dict[str, Any]
    content: str | None
    is_error: bool

    def json(self) -> Any:
        """The result parsed as JSON (``None`` for errors or non-JSON text)."""
        if self.content is None or self.is_error:
            return None
        try:
            return json.loads(self.content)
        except ValueError:
            return None


@dataclass
class Conversation:
    """What an offline model can see: the step's prompt and the tool calls made so far."""

    prompt: str
    outcomes: list[ToolOutcome] = field(default_factory=list)
    turn: int = 0

    def data(self, name: str, default: Any = None) -> Any:
        value = read_data(self.prompt, name)
        return default if value is None else value

    def of(self, tool: str) -> list[ToolOutcome]:
        return [o for o in self.outcomes if o.name == tool]

    def called(self, tool: str) -> bool:
        return any(o.name == tool for o in self.outcomes)


def conversation(request: ModelRequest) -> Conversation:
    """Read a request's messages into a ``Conversation``."""
    prompt = next((m.content for m in request.messages if isinstance(m, UserMessage)), "")
    calls: dict[str, ToolCall] = {}
    order: list[str] = []
    results: dict[str, ToolResultMessage] = {}
    turns = 0
    for message in request.messages:
        if isinstance(message, AssistantMessage):
            turns += 1
            for call in message.tool_calls:
                calls[call.id] = call
                order.append(call.id)
        elif isinstance(message, ToolResultMessage):
            results[message.tool_call_id] = message
    outcomes = []
    for call_id in order:
        call = calls[call_id]
        result = results.get(call_id)
        outcomes.append(
            ToolOutcome(
                name=call.name,
                arguments=dict(call.arguments),
                content=result.content if result is not None else None,
                is_error=result.is_error if result is not None else False,
            )
        )
    return Conversation(prompt=prompt, outcomes=outcomes, turn=turns)


def offline_model(name: str, step: Callable[[Conversation], ModelResponse]) -> FunctionModel:
    """A ``FunctionModel`` named ``offline:<name>`` that plays a specialist by rules."""

    def play(request: ModelRequest) -> ModelResponse:
        return step(conversation(request))

    return FunctionModel(play, name=f"offline-{name}")


__all__ = [
    "Conversation",
    "ToolOutcome",
    "conversation",
    "data_block",
    "offline_model",
    "read_data",
]
