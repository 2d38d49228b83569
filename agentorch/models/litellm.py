"""Any of litellm's providers (Azure, Bedrock, Vertex, Ollama, vLLM, ...) through ``litellm``.

``litellm:ollama/llama3`` calls ``litellm.acompletion(model="ollama/llama3", ...)``. litellm speaks
the OpenAI chat-completions shape, so requests and responses share the OpenAI adapter's code.
litellm is imported on first use only, with its cost map kept local (no download at import).
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from typing import Any

from agentorch.models import _chat_format as chat
from agentorch.models._common import looks_like_openai_model, require_package
from agentorch.models._errors import to_provider_error
from agentorch.models.base import Model
from agentorch.models.types import (
    ModelRequest,
    ModelResponse,
    StreamChunk,
)

#: litellm provider prefixes that serve OpenAI models (tokenised exactly by tiktoken).
_OPENAI_FAMILY = ("openai", "azure", "text-completion-openai")
#: Environment variables where litellm looks for keys, by provider prefix (for error hints).
_KEY_ENVS = {
    "openai": "OPENAI_API_KEY",
    "azure": "AZURE_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "vertex_ai": "GOOGLE_APPLICATION_CREDENTIALS",
    "bedrock": "AWS_ACCESS_KEY_ID",
    "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY",
}


def _import_litellm() -> Any:
    """Import litellm offline: local cost map and the bundled tiktoken encodings."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        from agentorch.budget.tokens import _bundled_cache_dir

        bundled = _bundled_cache_dir()
        if bundled is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)
    import litellm

    litellm.suppress_debug_info = True  # the core never prints; litellm would, on every error
    return litellm


class LiteLLMModel(Model):
    """A model reached through litellm, named by its litellm model string.

    Args:
        name: litellm's model string, e.g. ``"ollama/llama3"``, ``"azure/my-deployment"``,
            ``"bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0"``.
        **litellm_kwargs: Passed to every ``litellm.acompletion`` call (``api_base``,
            ``api_key``, ``api_version``, ``aws_region_name``, ...). litellm's own retries are
            off unless given here; wrap the model in ``RetryModel`` instead.
    """

    provider = "litellm"

    def __init__(self, name: str, **litellm_kwargs: Any) -> None:
        require_package("litellm", self.provider)
        self.name = name
        self.litellm_kwargs = dict(litellm_kwargs)
        self.litellm_kwargs.setdefault("num_retries", 0)
        self.litellm_kwargs.setdefault("max_retries", 0)

    def __repr__(self) -> str:  # never show api_key from the kwargs
        return f"<LiteLLMModel {self.id}>"

    @property
    def _route(self) -> tuple[str | None, str]:
        prefix, sep, rest = self.name.partition("/")
        return (prefix, rest) if sep else (None, self.name)

    @property
    def price_key(self) -> str:
        return self.name

    @property
    def encoding(self) -> str | None:
        prefix, model = self._route
        if (prefix is None or prefix in _OPENAI_FAMILY) and looks_like_openai_model(model):
            from agentorch.budget.tokens import encoding_for_openai_model

            return encoding_for_openai_model(model)
        return None

    def _error(self, exc: BaseException) -> Exception:
        prefix, _ = self._route
        return to_provider_error(
            exc,
            provider=self.provider,
            model=self.name,
            key_env=_KEY_ENVS.get(prefix or "openai"),
            secrets=(self.litellm_kwargs.get("api_key"),),
        )

    def _params(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        params = chat.build_params(request, max_tokens_key="max_tokens", stream=stream)
        params["model"] = self.name
        if request.settings.timeout is not None:
            params["timeout"] = request.settings.timeout
        params.update(self.litellm_kwargs)
        return params

    async def request(self, request: ModelRequest) -> ModelResponse:
        params = self._params(request, stream=False)
        litellm = _import_litellm()
        return await chat.complete(
            lambda: litellm.acompletion(**params),
            provider=self.provider,
            model=self.name,
            error=self._error,
        )

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamChunk]:
        params = self._params(request, stream=True)
        litellm = _import_litellm()
        async for chunk in chat.stream_completion(
            lambda: litellm.acompletion(**params),
            provider=self.provider,
            model=self.name,
            error=self._error,
        ):
            yield chunk

    async def aclose(self) -> None:
        """Close the HTTP clients litellm has cached (shared by every litellm model)."""
        if "litellm" in sys.modules:
            await sys.modules["litellm"].close_litellm_async_clients()
