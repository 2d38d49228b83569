"""AnthropicModel at the HTTP boundary: request JSON, forced-tool output, usage, errors, SSE."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from _models_helpers import MockHTTP, ask, named_sse

from agentorch.errors import ConfigError, MissingCredentialsError, ProviderError
from agentorch.models.anthropic import AnthropicModel
from agentorch.models.types import (
    AssistantMessage,
    ModelRequest,
    ModelSettings,
    OutputSchema,
    ResponseDone,
    SystemMessage,
    TextDelta,
    ToolCall,
    ToolResultMessage,
    ToolSchema,
    UserMessage,
)

WEATHER = ToolSchema(
    name="get_weather",
    description="Weather for a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)
ANSWER = OutputSchema(
    name="final_result",
    description="Return the final result.",
    json_schema={
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
    },
)


def message(
    content: list[dict[str, Any]], stop_reason: str = "end_turn", **usage: int
) -> dict[str, Any]:
    """A Messages API response body as documented by Anthropic."""
    return {
        "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5, **usage},
    }


def model(http: MockHTTP) -> AnthropicModel:
    return AnthropicModel(
        "claude-sonnet-4-6", api_key="sk-ant-test-123456789", http_client=http.client
    )


async def test_request_json_merges_tool_results_and_parses_usage(mock_http: MockHTTP) -> None:
    body = message(
        [{"type": "text", "text": "Paris is sunny, Oslo rainy."}],
        input_tokens=100,
        output_tokens=20,
        cache_read_input_tokens=1000,
        cache_creation_input_tokens=50,
    )
    mock_http.add(httpx2.Response(200, json=body))
    calls = (
        ToolCall(id="toolu_1", name="get_weather", arguments={"city": "Paris"}),
        ToolCall(id="toolu_2", name="get_weather", arguments={"city": "Oslo"}),
    )
    request = ModelRequest(
        messages=(
            SystemMessage(content="Be brief."),
            UserMessage(content="Weather in Paris and Oslo?"),
            AssistantMessage(content="Checking.", tool_calls=calls),
            ToolResultMessage(tool_call_id="toolu_1", name="get_weather", content="sunny"),
            ToolResultMessage(
                tool_call_id="toolu_2", name="get_weather", content="no data", is_error=True
            ),
        ),
        tools=(WEATHER,),
        settings=ModelSettings(max_tokens=256, stop=("END",), parallel_tool_calls=False),
    )
    response = await model(mock_http).request(request)

    sent = mock_http.requests[0]
    assert str(sent.url) == "https://api.anthropic.com/v1/messages"
    assert sent.headers["authorization"] == "Bearer sk-ant-test-123456789"
    assert "anthropic-version" in sent.headers
    assert mock_http.bodies[0] == {
        "model": "claude-sonnet-4-6",
        "max_tokens": 256,
        "system": "Be brief.",
        "messages": [
            {"role": "user", "content": "Weather in Paris and Oslo?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    },
                    {
                        "type": "tool_use",
                        "id": "toolu_2",
                        "name": "get_weather",
                        "input": {"city": "Oslo"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_2",
                        "content": "no data",
                        "is_error": True,
                    },
                ],
            },
        ],
        "tools": [
            {
                "name": "get_weather",
                "description": "Weather for a city.",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            }
        ],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
        "stop_sequences": ["END"],
    }
    assert response.text == "Paris is sunny, Oslo rainy."
    assert response.stop_reason == "stop"
    assert response.provider == "anthropic" and response.model_name == "claude-sonnet-4-6"
    usage = response.usage
    assert (usage.input_tokens, usage.cached_input_tokens, usage.cache_write_tokens) == (
        1150,
        1000,
        50,
    )
    assert usage.output_tokens == 20 and usage.requests == 1


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        ("none", {"type": "none"}),
        ("get_weather", {"type": "tool", "name": "get_weather"}),
    ],
)
async def test_tool_choice(mock_http: MockHTTP, choice: str, expected: Any) -> None:
    mock_http.add(httpx2.Response(200, json=message([{"type": "text", "text": "ok"}])))
    await model(mock_http).request(ask(tools=(WEATHER,), tool_choice=choice))
    assert mock_http.bodies[0]["tool_choice"] == expected


async def test_tool_use_response_with_parallel_calls(mock_http: MockHTTP) -> None:
    content = [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Rome"}},
        {"type": "tool_use", "id": "toolu_b", "name": "get_weather", "input": {"city": "Bern"}},
    ]
    mock_http.add(httpx2.Response(200, json=message(content, "tool_use")))
    response = await model(mock_http).request(ask(tools=(WEATHER,)))
    assert response.stop_reason == "tool_calls"
    assert response.text == "Let me check."
    assert [(c.id, c.arguments) for c in response.tool_calls] == [
        ("toolu_a", {"city": "Rome"}),
        ("toolu_b", {"city": "Bern"}),
    ]


async def test_structured_output_is_a_forced_tool(mock_http: MockHTTP) -> None:
    content = [
        {"type": "tool_use", "id": "toolu_o", "name": "final_result", "input": {"answer": "42"}}
    ]
    mock_http.add(httpx2.Response(200, json=message(content, "tool_use")))
    response = await model(mock_http).request(ask(output_schema=ANSWER))
    body = mock_http.bodies[0]
    assert body["tools"] == [
        {
            "name": "final_result",
            "description": "Return the final result.",
            "input_schema": ANSWER.json_schema,
        }
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "final_result"}
    assert json.loads(response.text) == {"answer": "42"}
    assert response.tool_calls == () and response.stop_reason == "stop"


async def test_structured_output_with_other_tools_requires_some_tool(mock_http: MockHTTP) -> None:
    content = [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Oslo"}}]
    mock_http.add(httpx2.Response(200, json=message(content, "tool_use")))
    response = await model(mock_http).request(ask(tools=(WEATHER,), output_schema=ANSWER))
    body = mock_http.bodies[0]
    assert [t["name"] for t in body["tools"]] == ["get_weather", "final_result"]
    assert body["tool_choice"] == {"type": "any"}
    assert [c.name for c in response.tool_calls] == ["get_weather"]
    assert response.stop_reason == "tool_calls"


async def test_non_object_output_schema_is_wrapped(mock_http: MockHTTP) -> None:
    schema = OutputSchema(json_schema={"type": "array", "items": {"type": "integer"}})
    content = [{"type": "tool_use", "id": "t", "name": "final_result", "input": {"result": [1, 2]}}]
    mock_http.add(httpx2.Response(200, json=message(content, "tool_use")))
    response = await model(mock_http).request(ask(output_schema=schema))
    assert mock_http.bodies[0]["tools"][0]["input_schema"] == {
        "type": "object",
        "properties": {"result": {"type": "array", "items": {"type": "integer"}}},
        "required": ["result"],
    }
    assert json.loads(response.text) == [1, 2]


async def test_clashing_output_name_is_a_clear_error(mock_http: MockHTTP) -> None:
    clash = OutputSchema(name="get_weather", json_schema={"type": "object"})
    with pytest.raises(ConfigError, match="clashes"):
        await model(mock_http).request(ask(tools=(WEATHER,), output_schema=clash))


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("refusal", "content_filter"),
        ("pause_turn", "other"),
    ],
)
async def test_stop_reasons(mock_http: MockHTTP, reason: str, expected: str) -> None:
    mock_http.add(httpx2.Response(200, json=message([{"type": "text", "text": "x"}], reason)))
    assert (await model(mock_http).request(ask())).stop_reason == expected


def error(kind: str, text: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": text}}


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (429, "rate_limit_error", True),
        (500, "api_error", True),
        (529, "overloaded_error", True),
        (400, "invalid_request_error", False),
        (401, "authentication_error", False),
        (403, "permission_error", False),
        (404, "not_found_error", False),
    ],
)
async def test_errors(mock_http: MockHTTP, status: int, kind: str, retryable: bool) -> None:
    headers = {"retry-after": "12"} if status == 429 else {}
    mock_http.add(httpx2.Response(status, headers=headers, json=error(kind, "went wrong")))
    with pytest.raises(ProviderError) as info:
        await model(mock_http).request(ask())
    assert info.value.status_code == status and info.value.retryable is retryable
    assert f"{kind}: went wrong" in str(info.value)
    assert info.value.retry_after == (12.0 if status == 429 else None)
    if status == 401:
        assert "ANTHROPIC_API_KEY" in (info.value.hint or "")
    assert len(mock_http.requests) == 1


async def test_timeout_is_retryable(mock_http: MockHTTP) -> None:
    mock_http.add(httpx2.ReadTimeout("slow"))
    with pytest.raises(ProviderError, match="timed out") as info:
        await model(mock_http).request(ask())
    assert info.value.retryable


def stream_events(*blocks: list[dict[str, Any]], stop_reason: str = "end_turn") -> list[Any]:
    start = {
        "type": "message_start",
        "message": {
            **message([], stop_reason=""),
            "stop_reason": None,
            "usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 5},
        },
    }
    events: list[dict[str, Any]] = [start, {"type": "ping"}]
    for block in blocks:
        events.extend(block)
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 15},
        }
    )
    events.append({"type": "message_stop"})
    return events


def text_block(index: int, *parts: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        },
        *(
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "text_delta", "text": p},
            }
            for p in parts
        ),
        {"type": "content_block_stop", "index": index},
    ]


def tool_block(index: int, call_id: str, name: str, *parts: str) -> list[dict[str, Any]]:
    start = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
    return [
        {"type": "content_block_start", "index": index, "content_block": start},
        *(
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": p},
            }
            for p in parts
        ),
        {"type": "content_block_stop", "index": index},
    ]


async def test_stream_text_and_tool_calls(mock_http: MockHTTP) -> None:
    mock_http.add(
        named_sse(
            *stream_events(
                text_block(0, "Let me ", "check."),
                tool_block(1, "toolu_1", "get_weather", '{"city": ', '"Paris"}'),
                tool_block(2, "toolu_2", "get_weather", '{"city": "Ro'),
                stop_reason="tool_use",
            )
        )
    )
    chunks = [c async for c in model(mock_http).stream(ask(tools=(WEATHER,)))]
    assert chunks[:2] == [TextDelta(text="Let me "), TextDelta(text="check.")]
    done = chunks[-1]
    assert isinstance(done, ResponseDone) and len(chunks) == 3
    response = done.response
    assert response.text == "Let me check." and response.stop_reason == "tool_calls"
    first, second = response.tool_calls
    assert first.arguments == {"city": "Paris"} and first.arguments_error is None
    assert second.arguments == {} and second.arguments_error  # truncated JSON
    assert response.usage.input_tokens == 30 and response.usage.cached_input_tokens == 5
    assert response.usage.output_tokens == 15
    assert mock_http.bodies[0]["stream"] is True


async def test_stream_structured_output_yields_its_json(mock_http: MockHTTP) -> None:
    events = stream_events(
        tool_block(0, "toolu_o", "final_result", '{"ans', 'wer": "42"}'), stop_reason="tool_use"
    )
    mock_http.add(named_sse(*events))
    chunks = [c async for c in model(mock_http).stream(ask(output_schema=ANSWER))]
    assert chunks[0] == TextDelta(text='{"answer": "42"}')
    assert isinstance(chunks[1], ResponseDone) and chunks[1].response.text == '{"answer": "42"}'


async def test_stream_error_event_is_a_provider_error(mock_http: MockHTTP) -> None:
    mock_http.add(
        httpx2.Response(
            200,
            headers={"content-type": "text/event-stream"},
            content=b'event: error\ndata: {"type": "error", "error": '
            b'{"type": "overloaded_error", "message": "Overloaded"}}\n\n',
        )
    )
    with pytest.raises(ProviderError, match="Overloaded"):
        async for _ in model(mock_http).stream(ask()):
            pass


async def test_missing_key_fails_at_request_time() -> None:
    m = AnthropicModel("claude-sonnet-4-6")
    assert m.encoding is None and m.price_key == "claude-sonnet-4-6"
    with pytest.raises(MissingCredentialsError, match="ANTHROPIC_API_KEY"):
        await m.request(ask())


async def test_sdk_warnings_pass_through_unchanged(
    mock_http: MockHTTP, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Which names the SDK calls deprecated changes from release to release: name one here.
    from anthropic._data import DEPRECATED_MODELS

    monkeypatch.setitem(DEPRECATED_MODELS, "claude-retired-test", "January 1st, 2026")
    mock_http.add(httpx2.Response(200, json=message([{"type": "text", "text": "ok"}])))
    old = AnthropicModel("claude-retired-test", api_key="sk-ant-test", http_client=mock_http.client)
    with pytest.warns(DeprecationWarning, match="deprecated"):
        assert (await old.request(ask())).text == "ok"
