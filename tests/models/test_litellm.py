"""LiteLLMModel over real sockets: litellm's ``openai/...`` route against a 127.0.0.1 server.

Runs offline: the root conftest sets ``LITELLM_LOCAL_MODEL_COST_MAP`` and blocks other hosts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from _models_helpers import ask
from _models_server import LocalServer, Reply, completion, stream_chunks

from agentorch.errors import ProviderError
from agentorch.models.litellm import LiteLLMModel
from agentorch.models.types import ResponseDone, TextDelta, ToolSchema

LOOKUP = ToolSchema(name="lookup", parameters={"type": "object", "properties": {}})


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    import litellm

    with LocalServer() as local:
        yield local
        await litellm.close_litellm_async_clients()  # litellm caches clients per loop


async def test_request_stream_and_error(server: LocalServer) -> None:
    server.replies += [
        Reply(body=completion("via litellm")),
        Reply(sse=stream_chunks("a", "b")),
        Reply(401, {"error": {"message": "bad key sk-wrong-123456789", "type": "auth"}}),
        Reply(429, {"error": {"message": "slow", "type": "rate"}}, {"retry-after": "4"}),
    ]
    model = LiteLLMModel("openai/llama3", api_base=server.url, api_key="sk-wrong-123456789")
    response = await model.request(ask("hi", tools=(LOOKUP,), tool_choice="lookup"))
    chunks = [c async for c in model.stream(ask("stream"))]
    with pytest.raises(ProviderError) as unauthorized:
        await model.request(ask("again"))
    with pytest.raises(ProviderError) as limited:
        await model.request(ask("again"))

    assert response.text == "via litellm" and response.provider == "litellm"
    assert response.model_name == "openai/llama3"
    assert response.usage.input_tokens == 11 and response.usage.cached_input_tokens == 3
    assert [c.text for c in chunks if isinstance(c, TextDelta)] == ["a", "b"]
    assert isinstance(chunks[-1], ResponseDone) and chunks[-1].response.text == "ab"
    assert chunks[-1].response.usage.output_tokens == 2
    assert unauthorized.value.status_code == 401 and not unauthorized.value.retryable
    assert "sk-wrong-123456789" not in str(unauthorized.value)
    assert limited.value.retryable and limited.value.retry_after == 4.0
    assert len(server.requests) == 4  # litellm's own retries are off
    sent = server.requests[0].json
    assert sent["model"] == "llama3" and sent["max_tokens"] == 4096
    assert sent["messages"] == [{"role": "user", "content": "hi"}]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "lookup"}}
    assert server.requests[1].json["stream_options"] == {"include_usage": True}


def test_identity_price_key_and_encoding() -> None:
    model = LiteLLMModel("ollama/llama3", api_key="sk-secret-abcdefgh")
    assert model.id == "litellm:ollama/llama3" and model.price_key == "ollama/llama3"
    assert model.encoding is None
    assert LiteLLMModel("openai/gpt-4.1-mini").encoding == "o200k_base"
    assert LiteLLMModel("gpt-4o").encoding == "o200k_base"
    assert LiteLLMModel("bedrock/anthropic.claude-3").encoding is None
    assert "sk-secret" not in repr(model)
