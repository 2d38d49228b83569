"""OpenAI (and any OpenAI-compatible server) through the official SDK's chat-completions API.

``openai:gpt-4.1-mini`` talks to api.openai.com; pass ``base_url`` for vLLM, llama.cpp, Ollama,
LM Studio or a gateway that speaks the same protocol.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from agentorch.errors import MissingCredentialsError
from agentorch.models import _chat_format as chat
from agentorch.models._common import (
    LoopBoundClient,
    env_key,
    looks_like_openai_model,
    require_package,
)
from agentorch.models._errors import to_provider_error
from agentorch.models.base import Model
from agentorch.models.types import (
    ModelRequest,
    ModelResponse,
    StreamChunk,
)

KEY_ENV = "OPENAI_API_KEY"
#: Sent when a ``base_url`` server needs no key (the SDK insists on one).
_NO_KEY = "not-needed"


class OpenAIModel(Model):
    """A chat model served by the OpenAI API or an OpenAI-compatible server.

    Args:
        name: The model name, e.g. ``"gpt-4.1-mini"``.
        api_key: Defaults to ``OPENAI_API_KEY``. Not needed with a ``base_url`` server that
            takes none.
        base_url: An OpenAI-compatible endpoint, e.g. ``"http://localhost:8000/v1"``.
        client: A ready ``openai.AsyncOpenAI`` to use instead of building one.
        organization: The OpenAI organization id, if any.
        max_retries: The SDK's own retries; keep 0 and wrap the model in ``RetryModel`` instead.
        http_client: An ``httpx``/``httpx2`` ``AsyncClient`` for the SDK (proxies, tests).
    """

    provider = "openai"

    def __init__(
        self,
        name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        client: Any = None,
        organization: str | None = None,
        max_retries: int = 0,
        http_client: Any = None,
    ) -> None:
        require_package("openai", self.provider)
        self.name = name
        self.base_url = base_url
        self.organization = organization
        self.max_retries = max_retries
        self._api_key = api_key
        self._http_client = http_client
        self._client = client
        self._clients: LoopBoundClient[Any] = LoopBoundClient(self._new_client)

    def __repr__(self) -> str:  # never show the key
        where = f" at {self.base_url}" if self.base_url else ""
        return f"<OpenAIModel {self.id}{where}>"

    @property
    def encoding(self) -> str | None:
        """Exact tiktoken counts for OpenAI models; estimates for other models behind a base_url."""
        if self.base_url is not None and not looks_like_openai_model(self.name):
            return None
        from agentorch.budget.tokens import encoding_for_openai_model

        return encoding_for_openai_model(self.name)

    def check_credentials(self) -> None:
        if self._client is None:  # a client given ready needs no key from here
            self._resolved_key()

    def _resolved_key(self) -> str:
        key = env_key(self._api_key, KEY_ENV)
        if key:
            return key
        if self.base_url is not None:
            return _NO_KEY
        raise MissingCredentialsError(
            f"no API key for openai: set {KEY_ENV} (model {self.name!r})",
            hint=f"set {KEY_ENV}, pass api_key=..., or use base_url= for a local server",
        )

    def _new_client(self) -> Any:
        import openai

        return openai.AsyncOpenAI(
            api_key=self._resolved_key(),
            base_url=self.base_url,
            organization=self.organization,
            max_retries=self.max_retries,
            http_client=self._http_client,
        )

    def _get_client(self) -> Any:
        if self._client is not None:
            return self._client
        if self._http_client is not None:
            # A given http client is bound to its own loop; one SDK client wraps it.
            self._client = self._new_client()
            return self._client
        return self._clients.get()

    def _error(self, exc: BaseException) -> Exception:
        return to_provider_error(
            exc,
            provider=self.provider,
            model=self.name,
            key_env=KEY_ENV,
            secrets=(self._api_key,),
        )

    def _params(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        params = chat.build_params(request, stream=stream)
        params["model"] = self.name
        if request.settings.timeout is not None:
            params["timeout"] = request.settings.timeout
        return params

    async def request(self, request: ModelRequest) -> ModelResponse:
        params = self._params(request, stream=False)
        client = self._get_client()
        return await chat.complete(
            lambda: client.chat.completions.create(**params),
            provider=self.provider,
            model=self.name,
            error=self._error,
        )

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamChunk]:
        params = self._params(request, stream=True)
        client = self._get_client()
        async for chunk in chat.stream_completion(
            lambda: client.chat.completions.create(**params),
            provider=self.provider,
            model=self.name,
            error=self._error,
        ):
            yield chunk

    async def aclose(self) -> None:
        """Close the SDK client this model opened for the running event loop."""
        client = self._clients.pop_current()
        if client is not None:
            await client.close()
