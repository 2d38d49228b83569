"""The docs' local provider: agentorch's OpenAI and Anthropic adapters, unchanged and reading only
the environment, get well-formed answers from it (text, structured output, streamed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from docs_provider import TEXT, ProviderServer, instance
from pydantic import BaseModel

from agentorch import Agent
from agentorch.models import ModelRequest, UserMessage, infer_model
from agentorch.models.wrappers import close_model


class Quote(BaseModel):
    sku: str
    unit_price: float
    tags: list[str]


class Quoter(Agent):
    name = "quoter"
    description = "Quotes a price."
    instructions = "Quote the SKU."
    output_type = Quote


@pytest.fixture(scope="module")
def server() -> Iterator[ProviderServer]:
    server = ProviderServer().start()
    yield server
    server.stop()


@pytest.fixture
def provider_env(server: ProviderServer, monkeypatch: pytest.MonkeyPatch) -> ProviderServer:
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    return server


def test_an_instance_fits_its_schema() -> None:
    assert Quote.model_validate(instance(Quote.model_json_schema()))


@pytest.mark.parametrize("model", ["openai:gpt-4.1-mini", "anthropic:claude-sonnet-4-6"])
async def test_text_and_stream(provider_env: ProviderServer, model: str) -> None:
    request = ModelRequest(messages=(UserMessage(content="Hello?"),))
    chat = infer_model(model)
    response = await chat.request(request)
    assert response.text == TEXT and response.usage.input_tokens > 0
    streamed = [chunk async for chunk in chat.stream(request)]
    await close_model(chat)
    assert streamed[-1].kind == "done"
    assert provider_env.requests[-1]["stream"] is True


@pytest.mark.parametrize("model", ["openai:gpt-4.1-mini", "anthropic:claude-sonnet-4-6"])
async def test_structured_output_through_an_agent(provider_env: ProviderServer, model: str) -> None:
    chat = infer_model(model)
    result = await Quoter(model=chat).run("Quote SUP-1")
    await close_model(chat)
    assert isinstance(result.output, Quote)
