"""Anthropic's Messages API through the official ``anthropic`` SDK.

Structured output uses a forced tool: the output schema becomes a tool the model must call, and
that call's input is returned as the answer's JSON text.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from agentorch.errors import ConfigError, MissingCredentialsError
from agentorch.models._common import (
    LoopBoundClient,
    aclosing_iter,
    env_key,
    parse_tool_arguments,
    require_package,
)
from agentorch.models._errors import as_dict, malformed_as, to_provider_error
from agentorch.models.base import Model
from agentorch.models.types import (
    AssistantMessage,
    ModelRequest,
    ModelResponse,
    OutputSchema,
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

KEY_ENV = "ANTHROPIC_API_KEY"
_STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}
#: Key the output is wrapped under when the output schema is not a JSON object.
_WRAP_KEY = "result"


def _output_input_schema(schema: OutputSchema) -> tuple[dict[str, Any], bool]:
    """The tool input schema for ``schema``, and whether the value had to be wrapped."""
    if schema.json_schema.get("type") == "object":
        return schema.json_schema, False
    wrapped = {"type": "object", "properties": {_WRAP_KEY: schema.json_schema}}
    wrapped["required"] = [_WRAP_KEY]
    return wrapped, True


def _messages(request: ModelRequest) -> list[dict[str, Any]]:
    """Anthropic turns: tool results and user text merged into alternating user turns."""
    turns: list[tuple[str, list[dict[str, Any]]]] = []
    for message in request.messages:
        if isinstance(message, SystemMessage):
            continue
        role = "user"
        blocks: list[dict[str, Any]] = []
        if isinstance(message, UserMessage):
            blocks = [{"type": "text", "text": message.content}]
        elif isinstance(message, ToolResultMessage):
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content,
            }
            if message.is_error:
                block["is_error"] = True
            blocks = [block]
        elif isinstance(message, AssistantMessage):
            role = "assistant"
            if message.content:
                blocks.append({"type": "text", "text": message.content})
            blocks.extend(
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                for c in message.tool_calls
            )
            if not blocks:
                continue
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, blocks))
    result: list[dict[str, Any]] = []
    for role, blocks in turns:
        if len(blocks) == 1 and blocks[0]["type"] == "text":
            result.append({"role": role, "content": blocks[0]["text"]})
        else:
            result.append({"role": role, "content": blocks})
    return result


def build_params(request: ModelRequest, model: str) -> dict[str, Any]:
    """Keyword arguments for ``messages.create``."""
    settings = request.settings
    params: dict[str, Any] = {
        "model": model,
        "max_tokens": settings.max_tokens,
        "messages": _messages(request),
    }
    if request.system:
        params["system"] = request.system
    tools = [
        {"name": t.name, "description": t.description, "input_schema": t.parameters}
        for t in request.tools
    ]
    names = {t.name for t in request.tools}
    choice: dict[str, Any]
    if request.tool_choice == "auto":
        choice = {"type": "auto"}
    elif request.tool_choice == "required":
        choice = {"type": "any"}
    elif request.tool_choice == "none":
        choice = {"type": "none"}
    elif request.tool_choice in names:
        choice = {"type": "tool", "name": request.tool_choice}
    else:
        raise ConfigError(f"tool_choice names {request.tool_choice!r}, which is not a tool here")
    if request.output_schema is not None:
        schema = request.output_schema
        if schema.name in names:
            raise ConfigError(f"output schema name {schema.name!r} clashes with a tool's name")
        input_schema, _ = _output_input_schema(schema)
        tools.append(
            {"name": schema.name, "description": schema.description, "input_schema": input_schema}
        )
        if not names or request.tool_choice == "none":
            choice = {"type": "tool", "name": schema.name}
        elif choice["type"] in ("auto", "none"):
            # Other tools are on offer: the model must call one of them or the output tool.
            choice = {"type": "any"}
    if tools:
        params["tools"] = tools
        if settings.parallel_tool_calls is False and choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
        params["tool_choice"] = choice
    if settings.stop:
        params["stop_sequences"] = list(settings.stop)
    # Not in the current SDK's signature but still accepted by the API for models that take them.
    extra = {k: getattr(settings, k) for k in ("temperature", "top_p")}
    extra = {k: v for k, v in extra.items() if v is not None}
    if extra:
        params["extra_body"] = extra
    if settings.timeout is not None:
        params["timeout"] = settings.timeout
    return params


def parse_usage(data: dict[str, Any] | None) -> Usage:
    data = data or {}
    uncached = data.get("input_tokens") or 0
    read = data.get("cache_read_input_tokens") or 0
    write = data.get("cache_creation_input_tokens") or 0
    return Usage(
        input_tokens=uncached + read + write,
        output_tokens=data.get("output_tokens") or 0,
        cached_input_tokens=read,
        cache_write_tokens=write,
        requests=1,
    )


def parse_message(
    data: dict[str, Any], *, model: str, output_schema: OutputSchema | None, calls: list[ToolCall]
) -> ModelResponse:
    """A ``ModelResponse`` from a message body whose tool calls were already parsed."""
    text = "".join(b.get("text") or "" for b in data.get("content") or [] if b["type"] == "text")
    stop_reason = _STOP_REASONS.get(data.get("stop_reason") or "", "other")
    if output_schema is not None:
        output = [c for c in calls if c.name == output_schema.name]
        others = [c for c in calls if c.name != output_schema.name]
        if output and not others:
            value: Any = output[0].arguments
            if _output_input_schema(output_schema)[1]:
                value = value.get(_WRAP_KEY)
            text = output[0].raw_arguments if output[0].arguments_error else json.dumps(value)
            stop_reason = "stop"
        calls = others
    return ModelResponse(
        message=AssistantMessage(content=text or None, tool_calls=tuple(calls)),
        usage=parse_usage(data.get("usage")),
        stop_reason=stop_reason,
        model_name=model,
        provider="anthropic",
        response_id=data.get("id"),
    )


def _block_calls(content: list[dict[str, Any]]) -> list[ToolCall]:
    calls = []
    for block in content:
        if block.get("type") == "tool_use":
            arguments = block.get("input")
            raw = json.dumps(arguments if arguments is not None else {})
            calls.append(parse_tool_arguments(block["id"], block["name"], raw))
    return calls


@dataclass
class _StreamState:
    """Collects raw stream events into a message body."""

    message: dict[str, Any] = field(default_factory=dict)
    blocks: dict[int, dict[str, Any]] = field(default_factory=dict)
    json_parts: dict[int, list[str]] = field(default_factory=dict)

    def add(self, event: dict[str, Any]) -> str:
        kind = event.get("type")
        if kind == "message_start":
            self.message = dict(event.get("message") or {})
        elif kind == "content_block_start":
            self.blocks[event["index"]] = dict(event.get("content_block") or {})
        elif kind == "content_block_delta":
            delta = event.get("delta") or {}
            block = self.blocks.setdefault(event["index"], {"type": "text", "text": ""})
            if delta.get("type") == "text_delta":
                block["text"] = (block.get("text") or "") + delta["text"]
                return str(delta["text"])
            if delta.get("type") == "input_json_delta":
                self.json_parts.setdefault(event["index"], []).append(delta["partial_json"])
        elif kind == "message_delta":
            self.message.update({k: v for k, v in (event.get("delta") or {}).items() if v})
            usage = dict(self.message.get("usage") or {})
            usage.update({k: v for k, v in (event.get("usage") or {}).items() if v is not None})
            self.message["usage"] = usage
        return ""

    def result(self) -> tuple[dict[str, Any], list[ToolCall]]:
        content = [self.blocks[i] for i in sorted(self.blocks)]
        calls = [
            parse_tool_arguments(
                self.blocks[i]["id"], self.blocks[i]["name"], "".join(self.json_parts.get(i, []))
            )
            for i in sorted(self.blocks)
            if self.blocks[i].get("type") == "tool_use"
        ]
        return {**self.message, "content": content}, calls


class AnthropicModel(Model):
    """A Claude model through Anthropic's Messages API.

    Args:
        name: The model name, e.g. ``"claude-sonnet-4-5"``.
        api_key: Defaults to ``ANTHROPIC_API_KEY``.
        base_url: Another endpoint speaking the Messages API (a gateway or proxy).
        client: A ready ``anthropic.AsyncAnthropic`` to use instead of building one.
        max_retries: The SDK's own retries; keep 0 and wrap the model in ``RetryModel`` instead.
        http_client: An ``httpx2.AsyncClient`` for the SDK (proxies, tests).
    """

    provider = "anthropic"

    def __init__(
        self,
        name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        client: Any = None,
        max_retries: int = 0,
        http_client: Any = None,
    ) -> None:
        require_package("anthropic", self.provider)
        self.name = name
        self.base_url = base_url
        self.max_retries = max_retries
        self._api_key = api_key
        self._http_client = http_client
        self._client = client
        self._clients: LoopBoundClient[Any] = LoopBoundClient(self._new_client)

    def __repr__(self) -> str:  # never show the key
        return f"<AnthropicModel {self.id}>"

    def check_credentials(self) -> None:
        if self._client is None:  # a client given ready needs no key from here
            self._resolved_key()

    def _resolved_key(self) -> str:
        key = env_key(self._api_key, KEY_ENV)
        if not key:
            raise MissingCredentialsError(
                f"no API key for anthropic: set {KEY_ENV} (model {self.name!r})",
                hint=f"set {KEY_ENV} or pass api_key=...",
            )
        return key

    def _new_client(self) -> Any:
        key = self._resolved_key()
        import anthropic

        return anthropic.AsyncAnthropic(
            api_key=key,
            base_url=self.base_url,
            max_retries=self.max_retries,
            http_client=self._http_client,
        )

    def _get_client(self) -> Any:
        if self._client is None and self._http_client is not None:
            self._client = self._new_client()
        return self._client if self._client is not None else self._clients.get()

    def _error(self, exc: BaseException) -> Exception:
        return to_provider_error(
            exc, provider=self.provider, model=self.name, key_env=KEY_ENV, secrets=(self._api_key,)
        )

    async def request(self, request: ModelRequest) -> ModelResponse:
        params = build_params(request, self.name)
        client = self._get_client()
        try:
            message = await client.messages.create(**params)
        except Warning:  # a warning turned into an error (-W error) is not the provider's
            raise
        except Exception as exc:
            raise self._error(exc) from exc
        with malformed_as(self.provider, self.name):
            data = as_dict(message)
            calls = _block_calls(data.get("content") or [])
            return parse_message(
                data, model=self.name, output_schema=request.output_schema, calls=calls
            )

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamChunk]:
        params = build_params(request, self.name)
        client = self._get_client()
        state = _StreamState()
        streamed: list[str] = []
        try:
            events = await client.messages.create(**params, stream=True)
            async with aclosing_iter(events):
                async for event in events:
                    text = state.add(as_dict(event))
                    if text:
                        streamed.append(text)
                        yield TextDelta(text=text)
        except Warning:  # a warning turned into an error (-W error) is not the provider's
            raise
        except Exception as exc:
            raise self._error(exc) from exc
        with malformed_as(self.provider, self.name):
            data, calls = state.result()
            response = parse_message(
                data, model=self.name, output_schema=request.output_schema, calls=calls
            )
        if response.text and response.text != "".join(streamed):
            # Structured output arrives as one tool input, not as text deltas.
            yield TextDelta(text=response.text)
        yield ResponseDone(response=response)

    async def aclose(self) -> None:
        """Close the SDK client this model opened for the running event loop."""
        client = self._clients.pop_current()
        if client is not None:
            await client.close()
