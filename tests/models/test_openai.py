"""OpenAIModel at the HTTP boundary: exact request JSON, parsed responses, errors, streaming."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from _models_helpers import MockHTTP, ask, sse

from agentorch.errors import ConfigError, MissingCredentialsError, ProviderError
from agentorch.models.openai import OpenAIModel
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


def completion(
    message: dict[str, Any], finish_reason: str = "stop", usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A chat.completion body as documented by OpenAI."""
    return {
        "id": "chatcmpl-123",
        "object": "chat.completion",
        "created": 1_741_569_952,
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", **message},
                "finish_reason": finish_reason,
            }
        ],
        "usage": usage
        or {
            "prompt_tokens": 19,
            "completion_tokens": 10,
            "total_tokens": 29,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
    }


def model(http: MockHTTP, **kwargs: Any) -> OpenAIModel:
    return OpenAIModel(
        "gpt-4.1-mini", api_key="sk-test-1234567890", http_client=http.client, **kwargs
    )


async def test_request_json_and_text_response(mock_http: MockHTTP) -> None:
    usage = {
        "prompt_tokens": 2006,
        "completion_tokens": 300,
        "total_tokens": 2306,
        "prompt_tokens_details": {"cached_tokens": 1920},
    }
    mock_http.add(httpx2.Response(200, json=completion({"content": "Sunny."}, usage=usage)))
    request = ModelRequest(
        messages=(
            SystemMessage(content="Be brief."),
            UserMessage(content="Weather in Paris?"),
            AssistantMessage(
                content=None,
                tool_calls=(
                    ToolCall(id="call_1", name="get_weather", arguments={"city": "Paris"}),
                ),
            ),
            ToolResultMessage(tool_call_id="call_1", name="get_weather", content="sunny"),
        ),
        tools=(WEATHER,),
        settings=ModelSettings(
            max_tokens=300,
            temperature=0.2,
            top_p=0.9,
            stop=("END",),
            seed=7,
            parallel_tool_calls=False,
        ),
    )
    response = await model(mock_http).request(request)

    sent = mock_http.requests[0]
    assert sent.url == "https://api.openai.com/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test-1234567890"
    assert mock_http.bodies[0] == {
        "model": "gpt-4.1-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
        "max_completion_tokens": 300,
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather for a city.",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            }
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "temperature": 0.2,
        "top_p": 0.9,
        "seed": 7,
        "stop": ["END"],
    }
    assert response.text == "Sunny."
    assert response.stop_reason == "stop"
    assert response.provider == "openai" and response.model_name == "gpt-4.1-mini"
    assert response.response_id == "chatcmpl-123"
    assert response.usage.input_tokens == 2006
    assert response.usage.output_tokens == 300
    assert response.usage.cached_input_tokens == 1920
    assert response.usage.requests == 1


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", "auto"),
        ("required", "required"),
        ("none", "none"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
async def test_tool_choice(mock_http: MockHTTP, choice: str, expected: Any) -> None:
    mock_http.add(httpx2.Response(200, json=completion({"content": "ok"})))
    await model(mock_http).request(ask(tools=(WEATHER,), tool_choice=choice))
    assert mock_http.bodies[0]["tool_choice"] == expected


async def test_unknown_tool_choice_is_a_clear_error(mock_http: MockHTTP) -> None:
    with pytest.raises(ConfigError, match="nope"):
        await model(mock_http).request(ask(tools=(WEATHER,), tool_choice="nope"))
    assert mock_http.requests == []


async def test_output_schema_becomes_strict_response_format(mock_http: MockHTTP) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    mock_http.add(httpx2.Response(200, json=completion({"content": '{"answer": "42"}'})))
    output = OutputSchema(name="Answer", description="The answer.", json_schema=schema, strict=True)
    response = await model(mock_http).request(ask(output_schema=output))
    assert mock_http.bodies[0]["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "Answer",
            "description": "The answer.",
            "schema": schema,
            "strict": True,
        },
    }
    assert "tools" not in mock_http.bodies[0]
    assert json.loads(response.text) == {"answer": "42"}


async def test_parallel_tool_calls_and_truncated_arguments(mock_http: MockHTTP) -> None:
    message = {
        "content": None,
        "tool_calls": [
            {
                "id": "call_a",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": "call_b",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Ber'},
            },
            {"id": "call_c", "type": "function", "function": {"name": "now", "arguments": ""}},
            {"id": "call_d", "type": "function", "function": {"name": "x", "arguments": "[1]"}},
        ],
    }
    mock_http.add(httpx2.Response(200, json=completion(message, finish_reason="tool_calls")))
    response = await model(mock_http).request(ask(tools=(WEATHER,)))
    a, b, c, d = response.tool_calls
    assert response.stop_reason == "tool_calls"
    assert (a.id, a.name, a.arguments, a.arguments_error) == (
        "call_a",
        "get_weather",
        {"city": "Paris"},
        None,
    )
    assert b.arguments == {} and b.raw_arguments == '{"city": "Ber'
    assert b.arguments_error is not None and "not valid JSON" in b.arguments_error
    assert c.arguments == {} and c.arguments_error is None
    assert d.arguments == {} and "JSON object" in (d.arguments_error or "")


@pytest.mark.parametrize(
    ("finish", "expected"),
    [("stop", "stop"), ("length", "length"), ("content_filter", "content_filter"), ("x", "other")],
)
async def test_stop_reasons(mock_http: MockHTTP, finish: str, expected: str) -> None:
    mock_http.add(httpx2.Response(200, json=completion({"content": "t"}, finish_reason=finish)))
    assert (await model(mock_http).request(ask())).stop_reason == expected


async def test_refusal_is_text_with_content_filter(mock_http: MockHTTP) -> None:
    body = completion({"content": None, "refusal": "I can't help with that."})
    mock_http.add(httpx2.Response(200, json=body))
    response = await model(mock_http).request(ask())
    assert response.text == "I can't help with that."
    assert response.stop_reason == "content_filter"


def error_body(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


async def test_429_with_retry_after_is_retryable(mock_http: MockHTTP) -> None:
    mock_http.add(
        httpx2.Response(
            429, headers={"retry-after": "7"}, json=error_body("Rate limit reached", "requests")
        )
    )
    with pytest.raises(ProviderError) as info:
        await model(mock_http).request(ask())
    error = info.value
    assert (error.status_code, error.retryable, error.retry_after) == (429, True, 7.0)
    assert error.provider == "openai" and error.model == "gpt-4.1-mini"
    assert "Rate limit reached" in str(error)
    assert len(mock_http.requests) == 1  # the SDK's own retries are off


async def test_retry_after_ms_header(mock_http: MockHTTP) -> None:
    mock_http.add(
        httpx2.Response(429, headers={"retry-after-ms": "1500"}, json=error_body("x", "y"))
    )
    with pytest.raises(ProviderError) as info:
        await model(mock_http).request(ask())
    assert info.value.retry_after == 1.5


async def test_500_is_retryable(mock_http: MockHTTP) -> None:
    mock_http.add(httpx2.Response(500, json=error_body("The server had an error", "server_error")))
    with pytest.raises(ProviderError) as info:
        await model(mock_http).request(ask())
    assert info.value.status_code == 500 and info.value.retryable
    assert info.value.retry_after is None


async def test_401_is_final_with_key_hint_and_no_key(mock_http: MockHTTP) -> None:
    body = error_body("Incorrect API key provided: sk-test-1234567890.", "invalid_request_error")
    mock_http.add(httpx2.Response(401, json=body))
    with pytest.raises(ProviderError) as info:
        await model(mock_http).request(ask())
    error = info.value
    assert error.status_code == 401 and not error.retryable
    assert error.hint is not None and "OPENAI_API_KEY" in error.hint
    assert "sk-test-1234567890" not in str(error)


@pytest.mark.parametrize("status", [400, 403, 404, 422])
async def test_client_errors_are_not_retryable(mock_http: MockHTTP, status: int) -> None:
    mock_http.add(httpx2.Response(status, json=error_body("bad", "invalid_request_error")))
    with pytest.raises(ProviderError) as info:
        await model(mock_http).request(ask())
    assert info.value.status_code == status and not info.value.retryable


async def test_timeout_and_connection_errors_are_retryable(mock_http: MockHTTP) -> None:
    mock_http.add(httpx2.ReadTimeout("timed out"), httpx2.ConnectError("refused"))
    for expected in ("timed out", "connection failed"):
        with pytest.raises(ProviderError, match=expected) as info:
            await model(mock_http).request(ask())
        assert info.value.retryable and info.value.status_code is None


async def test_malformed_body_is_a_provider_error(mock_http: MockHTTP) -> None:
    mock_http.add(httpx2.Response(200, content=b"<html>gateway</html>"))
    with pytest.raises(ProviderError):
        await model(mock_http).request(ask())


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-9",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


async def test_stream_text_then_done_with_usage(mock_http: MockHTTP) -> None:
    usage = {
        "prompt_tokens": 12,
        "completion_tokens": 3,
        "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 4},
    }
    mock_http.add(
        sse(
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Hel"}),
            chunk({"content": "lo"}),
            chunk({}, "stop"),
            {**chunk({}), "choices": [], "usage": usage},
        )
    )
    chunks = [c async for c in model(mock_http).stream(ask())]
    assert chunks[:2] == [TextDelta(text="Hel"), TextDelta(text="lo")]
    done = chunks[-1]
    assert isinstance(done, ResponseDone) and len(chunks) == 3
    assert done.response.text == "Hello" and done.response.stop_reason == "stop"
    assert done.response.usage.input_tokens == 12 and done.response.usage.cached_input_tokens == 4
    body = mock_http.bodies[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


async def test_stream_accumulates_parallel_tool_call_deltas(mock_http: MockHTTP) -> None:
    def call(index: int, **function: str) -> dict[str, Any]:
        data: dict[str, Any] = {"index": index, "function": function}
        if "name" in function:
            data.update(id=f"call_{index}", type="function")
        return chunk({"tool_calls": [data]})

    mock_http.add(
        sse(
            call(0, name="get_weather", arguments=""),
            call(0, arguments='{"ci'),
            call(1, name="get_weather", arguments='{"city":'),
            call(0, arguments='ty": "Oslo"}'),
            call(1, arguments=' "Ro'),  # truncated by the length limit
            chunk({}, "length"),
        )
    )
    chunks = [c async for c in model(mock_http).stream(ask(tools=(WEATHER,)))]
    assert len(chunks) == 1 and isinstance(chunks[0], ResponseDone)
    response = chunks[0].response
    first, second = response.tool_calls
    assert (first.id, first.arguments) == ("call_0", {"city": "Oslo"})
    assert second.id == "call_1" and second.arguments == {} and second.arguments_error
    assert response.stop_reason == "length"


async def test_stream_error_is_a_provider_error(mock_http: MockHTTP) -> None:
    mock_http.add(httpx2.Response(503, json=error_body("overloaded", "server_error")))
    with pytest.raises(ProviderError) as info:
        async for _ in model(mock_http).stream(ask()):
            pass
    assert info.value.status_code == 503 and info.value.retryable


async def test_missing_key_fails_at_request_time_not_construction() -> None:
    m = OpenAIModel("gpt-4.1-mini")
    with pytest.raises(MissingCredentialsError, match="OPENAI_API_KEY") as info:
        await m.request(ask())
    assert "OPENAI_API_KEY" in (info.value.hint or "")


async def test_key_from_environment(mock_http: MockHTTP, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-abcdefghijkl")
    mock_http.add(httpx2.Response(200, json=completion({"content": "ok"})))
    await OpenAIModel("gpt-4.1-mini", http_client=mock_http.client).request(ask())
    assert mock_http.requests[0].headers["authorization"] == "Bearer sk-env-abcdefghijkl"


async def test_base_url_server_needs_no_key(mock_http: MockHTTP) -> None:
    mock_http.add(httpx2.Response(200, json=completion({"content": "ok"})))
    m = OpenAIModel("llama3", base_url="http://127.0.0.1:9/v1", http_client=mock_http.client)
    assert (await m.request(ask())).text == "ok"
    assert str(mock_http.requests[0].url) == "http://127.0.0.1:9/v1/chat/completions"
    assert m.encoding is None  # not an OpenAI model: the budget estimates


def test_identity_and_encoding() -> None:
    m = OpenAIModel("gpt-4.1-mini", api_key="sk-secret-abcdefgh")
    assert m.id == "openai:gpt-4.1-mini" and m.price_key == "gpt-4.1-mini"
    assert m.encoding == "o200k_base"
    assert OpenAIModel("gpt-4").encoding == "cl100k_base"
    assert "sk-secret" not in repr(m)
