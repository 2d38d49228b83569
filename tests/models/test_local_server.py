"""End to end over real sockets: the OpenAI SDK against a server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _models_helpers import ask
from _models_server import LocalServer, Reply, completion, stream_chunks

from agentorch.errors import ProviderError
from agentorch.models.openai import OpenAIModel
from agentorch.models.types import ResponseDone, TextDelta, ToolSchema
from agentorch.models.wrappers import RetryModel

LOOKUP = ToolSchema(name="lookup", parameters={"type": "object", "properties": {}})


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


async def test_openai_sdk_end_to_end(server: LocalServer) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
    server.replies += [
        Reply(body=completion("Hello from 127.0.0.1")),
        Reply(body=completion(None, tool_calls=[call])),
        Reply(sse=stream_chunks("Hel", "lo")),
        Reply(429, {"error": {"message": "slow down", "type": "rate_limit"}}, {"retry-after": "2"}),
    ]
    model = OpenAIModel("llama3", api_key="sk-local-abcdefgh", base_url=server.url)
    try:
        first = await model.request(ask("hi"))
        second = await model.request(ask("look it up", tools=(LOOKUP,)))
        chunks = [c async for c in model.stream(ask("stream"))]
        with pytest.raises(ProviderError) as info:
            await model.request(ask("again"))
    finally:
        await model.aclose()

    assert first.text == "Hello from 127.0.0.1" and first.usage.cached_input_tokens == 3
    assert second.tool_calls[0].name == "lookup" and second.stop_reason == "tool_calls"
    assert [c.text for c in chunks if isinstance(c, TextDelta)] == ["Hel", "lo"]
    assert isinstance(chunks[-1], ResponseDone) and chunks[-1].response.text == "Hello"
    assert info.value.retryable and info.value.retry_after == 2.0
    paths = {r.path for r in server.requests}
    assert paths == {"/v1/chat/completions"}
    assert server.requests[0].headers["authorization"] == "Bearer sk-local-abcdefgh"
    assert server.requests[0].json["messages"] == [{"role": "user", "content": "hi"}]
    assert server.requests[2].json["stream_options"] == {"include_usage": True}


async def test_retry_over_real_http(server: LocalServer) -> None:
    server.replies += [
        Reply(503, {"error": {"message": "busy", "type": "server_error"}}),
        Reply(body=completion("recovered")),
    ]
    delays: list[float] = []

    async def no_sleep(delay: float) -> None:
        delays.append(delay)

    base = OpenAIModel("llama3", base_url=server.url)
    model = RetryModel(base, sleep=no_sleep, random=lambda: 0.0, base_delay=0.25)
    try:
        assert (await model.request(ask())).text == "recovered"
    finally:
        await base.aclose()
    assert delays == [0.25] and len(server.requests) == 2


def test_a_client_per_event_loop_closed_by_aclose(server: LocalServer) -> None:
    import asyncio

    from agentorch.models.wrappers import close_model, wrap_model

    server.replies += [Reply(body=completion("a")), Reply(body=completion("b"))]
    base = OpenAIModel("llama3", base_url=server.url)
    model = wrap_model(base, retries=1)

    async def one_run() -> str:  # what run_sync does: a fresh loop per run
        try:
            return (await model.request(ask())).text
        finally:
            await close_model(model)

    assert [asyncio.run(one_run()), asyncio.run(one_run())] == ["a", "b"]
