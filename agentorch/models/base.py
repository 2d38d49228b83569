"""The one model interface every provider implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

from agentorch.models.types import ModelRequest, ModelResponse, ResponseDone, StreamChunk, TextDelta


class Model(ABC):
    """A chat model: ``request`` returns one complete response; ``stream`` yields text as it comes.

    ``provider`` and ``name`` identify it (``"openai"``, ``"gpt-4.1-mini"``); ``price_key`` is the
    name the budget looks its price up by, and ``encoding`` the tiktoken encoding that counts its
    prompts exactly (``None`` when the budget must estimate).
    """

    provider: str = ""
    name: str = ""

    @property
    def id(self) -> str:
        return f"{self.provider}:{self.name}"

    @property
    def price_key(self) -> str:
        return self.name

    @property
    def encoding(self) -> str | None:
        return None

    @abstractmethod
    async def request(self, request: ModelRequest) -> ModelResponse:
        """Send one request and return the complete response."""

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamChunk]:
        """Yield text deltas, then ``ResponseDone``. Providers that stream natively override this."""
        response = await self.request(request)
        if response.text:
            yield TextDelta(text=response.text)
        yield ResponseDone(response=response)

    def check_credentials(self) -> None:  # noqa: B027 - optional hook, deliberately not abstract
        """Raise ``MissingCredentialsError`` now if calls would fail for want of an API key, so a
        command can refuse before a run starts; a model that needs no key does nothing."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, deliberately not abstract
        """Release network clients held for the running event loop (nothing to do by default)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"
