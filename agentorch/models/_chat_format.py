"""The OpenAI chat-completions wire format, shared by the OpenAI and LiteLLM adapters.

Requests are built as plain dicts and responses are read from plain dicts (``model_dump()`` of the
SDK objects), so the same code serves the ``openai`` SDK and ``litellm``'s OpenAI-shaped objects.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agentorch.errors import ConfigError
from agentorch.models._common import aclosing_iter, parse_tool_arguments
from agentorch.models._errors import as_dict, malformed_as
from agentorch.models.types import (
    AssistantMessage,
    Message,
    ModelRequest,
    ModelResponse,
    ResponseDone,
    StopReason,
    StreamChunk,
    SystemMessage,
    TextDelta,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)

_FINISH_REASONS: dict[str, StopReason] = {
    "stop": "stop",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "length": "length",
    "content_filter": "content_filter",
}


def tool_call_json(call: ToolCall) -> dict[str, Any]:
    arguments = call.raw_arguments or json.dumps(call.arguments)
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }


def message_json(message: Message) -> dict[str, Any]:
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": message.content}
    if isinstance(message, UserMessage):
        return {"role": "user", "content": message.content}
    if isinstance(message, AssistantMessage):
        data: dict[str, Any] = {"role": "assistant", "content": message.content}
        if message.tool_calls:
            data["tool_calls"] = [tool_call_json(c) for c in message.tool_calls]
        return data
    if isinstance(message, ToolResultMessage):
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    raise TypeError(f"unsupported message type {type(message).__name__}")


def _tool_choice(request: ModelRequest) -> str | dict[str, Any]:
    choice = request.tool_choice
    if choice in ("auto", "required", "none"):
        return choice
    if choice not in {t.name for t in request.tools}:
        raise ConfigError(f"tool_choice names {choice!r}, which is not among the request's tools")
    return {"type": "function", "function": {"name": choice}}


def build_params(
    request: ModelRequest, *, max_tokens_key: str = "max_completion_tokens", stream: bool = False
) -> dict[str, Any]:
    """Keyword arguments for ``chat.completions.create`` (without ``model``)."""
    settings = request.settings
    params: dict[str, Any] = {
        "messages": [message_json(m) for m in request.messages],
        max_tokens_key: settings.max_tokens,
    }
    if request.tools:
        params["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters,
                },
            }
            for t in request.tools
        ]
        params["tool_choice"] = _tool_choice(request)
        if settings.parallel_tool_calls is not None:
            params["parallel_tool_calls"] = settings.parallel_tool_calls
    elif request.tool_choice not in ("auto", "none", "required"):
        raise ConfigError(f"tool_choice names {request.tool_choice!r} but the request has no tools")
    if request.output_schema is not None:
        schema = request.output_schema
        params["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": schema.name,
                "description": schema.description,
                "schema": schema.json_schema,
                "strict": schema.strict,
            },
        }
    for key in ("temperature", "top_p", "seed"):
        value = getattr(settings, key)
        if value is not None:
            params[key] = value
    if settings.stop:
        params["stop"] = list(settings.stop)
    if stream:
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}
    return params


def parse_usage(data: dict[str, Any] | None) -> Usage:
    if not data:
        return Usage(requests=1)
    details = data.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens") or data.get("cache_read_input_tokens") or 0
    return Usage(
        input_tokens=data.get("prompt_tokens") or 0,
        output_tokens=data.get("completion_tokens") or 0,
        cached_input_tokens=cached,
        cache_write_tokens=data.get("cache_creation_input_tokens") or 0,
        requests=1,
    )


def _stop_reason(finish_reason: str | None, has_tool_calls: bool) -> StopReason:
    reason = _FINISH_REASONS.get(finish_reason or "", "other")
    # Some OpenAI-compatible servers report "stop" for a turn that calls tools.
    if has_tool_calls and reason == "stop":
        return "tool_calls"
    return reason


def parse_response(data: dict[str, Any], *, provider: str, model: str) -> ModelResponse:
    """A ``ModelResponse`` from a chat-completion body."""
    choices = data.get("choices") or []
    choice = choices[0] if choices else {}
    message = choice.get("message") or {}
    calls = tuple(
        parse_tool_arguments(
            c.get("id") or f"call_{i}",
            (c.get("function") or {}).get("name") or "",
            (c.get("function") or {}).get("arguments") or "",
        )
        for i, c in enumerate(message.get("tool_calls") or [])
    )
    content = message.get("content")
    finish = choice.get("finish_reason")
    stop_reason = _stop_reason(finish, bool(calls))
    refusal = message.get("refusal")
    if refusal and not content:
        content, stop_reason = refusal, "content_filter"
    return ModelResponse(
        message=AssistantMessage(content=content or None, tool_calls=calls),
        usage=parse_usage(data.get("usage")),
        stop_reason=stop_reason,
        model_name=model,
        provider=provider,
        response_id=data.get("id"),
    )


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class StreamAccumulator:
    """Collects streamed chat-completion chunks into one response."""

    provider: str
    model: str
    text: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    calls: dict[int, _PartialCall] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    response_id: str | None = None

    def add(self, chunk: dict[str, Any]) -> str:
        """Take one chunk; return the text it adds (possibly empty)."""
        self.response_id = self.response_id or chunk.get("id")
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        added = ""
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if delta.get("content"):
                added += delta["content"]
            if delta.get("refusal"):
                self.refusal.append(delta["refusal"])
            for i, call_delta in enumerate(delta.get("tool_calls") or []):
                index = call_delta.get("index")
                partial = self.calls.setdefault(i if index is None else index, _PartialCall())
                partial.id = partial.id or call_delta.get("id") or ""
                function = call_delta.get("function") or {}
                partial.name = partial.name or function.get("name") or ""
                if function.get("arguments"):
                    partial.arguments.append(function["arguments"])
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        if added:
            self.text.append(added)
        return added

    def response(self) -> ModelResponse:
        calls = [
            {
                "id": c.id or f"call_{i}",
                "type": "function",
                "function": {"name": c.name, "arguments": "".join(c.arguments)},
            }
            for i, c in sorted(self.calls.items())
        ]
        message: dict[str, Any] = {"content": "".join(self.text) or None, "tool_calls": calls}
        if self.refusal:
            message["refusal"] = "".join(self.refusal)
        body = {
            "id": self.response_id,
            "choices": [{"message": message, "finish_reason": self.finish_reason}],
            "usage": self.usage,
        }
        return parse_response(body, provider=self.provider, model=self.model)


async def complete(
    create: Callable[[], Awaitable[Any]],
    *,
    provider: str,
    model: str,
    error: Callable[[Exception], Exception],
) -> ModelResponse:
    """One chat-completions call (OpenAI SDK or litellm), its errors mapped by ``error``."""
    try:
        completion = await create()
    except Warning:  # a warning turned into an error (-W error) is not the provider's
        raise
    except Exception as exc:
        raise error(exc) from exc
    with malformed_as(provider, model):
        return parse_response(as_dict(completion), provider=provider, model=model)


async def stream_completion(
    create: Callable[[], Awaitable[Any]],
    *,
    provider: str,
    model: str,
    error: Callable[[Exception], Exception],
) -> AsyncIterator[StreamChunk]:
    """A streamed chat-completions call: text deltas as they come, then the whole response."""
    accumulator = StreamAccumulator(provider=provider, model=model)
    try:
        chunks = await create()
        async with aclosing_iter(chunks):
            async for chunk in chunks:
                text = accumulator.add(as_dict(chunk))
                if text:
                    yield TextDelta(text=text)
    except Warning:  # a warning turned into an error (-W error) is not the provider's
        raise
    except Exception as exc:
        raise error(exc) from exc
    with malformed_as(provider, model):
        response = accumulator.response()
    yield ResponseDone(response=response)
