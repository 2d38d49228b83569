"""Model calls as messages in the OpenTelemetry GenAI conventions' shape (for content capture).

``gen_ai.input.messages`` / ``gen_ai.output.messages`` hold a list of ``{"role", "parts"}`` objects;
a part is ``text``, ``tool_call`` or ``tool_call_response``. System prompts go to
``gen_ai.system_instructions`` instead of the message list.
"""

from __future__ import annotations

from typing import Any

from agentorch.events.types import ModelCallContent
from agentorch.models.types import (
    AssistantMessage,
    ModelRequest,
    ModelResponse,
    SystemMessage,
    ToolResultMessage,
    UserMessage,
)


def _assistant(message: AssistantMessage) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if message.content:
        parts.append({"type": "text", "content": message.content})
    parts += [
        {"type": "tool_call", "id": c.id, "name": c.name, "arguments": c.arguments}
        for c in message.tool_calls
    ]
    return {"role": "assistant", "parts": parts}


def content_event(
    call_key: str, model: str, request: ModelRequest, response: ModelResponse
) -> ModelCallContent:
    """The content of one finished model call as an (ephemeral) event."""
    system: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for m in request.messages:
        if isinstance(m, SystemMessage):
            system.append({"type": "text", "content": m.content})
        elif isinstance(m, UserMessage):
            messages.append({"role": "user", "parts": [{"type": "text", "content": m.content}]})
        elif isinstance(m, AssistantMessage):
            messages.append(_assistant(m))
        elif isinstance(m, ToolResultMessage):
            part = {"type": "tool_call_response", "id": m.tool_call_id, "response": m.content}
            messages.append({"role": "tool", "parts": [part]})
    output = _assistant(response.message)
    output["finish_reason"] = response.stop_reason
    return ModelCallContent(
        call_key=call_key,
        model=model,
        system_instructions=system,
        input_messages=messages,
        output_messages=[output],
    )
