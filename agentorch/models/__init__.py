"""The model layer: neutral types, the ``Model`` interface, providers and wrappers.

Providers are named ``provider:model``. Each provider lives in its own module and imports its SDK
only when a model of that provider is built, so ``import agentorch`` stays fast and offline.
"""

from __future__ import annotations

import importlib
from typing import Any

from agentorch.errors import ConfigError, MissingDependencyError, UnknownModelError
from agentorch.models.base import Model
from agentorch.models.types import (
    AssistantMessage,
    Message,
    ModelRequest,
    ModelResponse,
    ModelSettings,
    OutputSchema,
    ResponseDone,
    StreamChunk,
    SystemMessage,
    TextDelta,
    ToolCall,
    ToolResultMessage,
    ToolSchema,
    Usage,
    UserMessage,
)
from agentorch.models.wrappers import (
    AllModelsFailedError,
    ConcurrencyLimitedModel,
    ConcurrencyLimiter,
    FallbackModel,
    RetryModel,
    wrap_model,
)

# provider prefix -> (module, class, pip extra that brings its SDK)
_PROVIDERS: dict[str, tuple[str, str, str]] = {
    "openai": ("agentorch.models.openai", "OpenAIModel", "openai"),
    "anthropic": ("agentorch.models.anthropic", "AnthropicModel", "anthropic"),
    "litellm": ("agentorch.models.litellm", "LiteLLMModel", "litellm"),
}


def known_providers() -> list[str]:
    return sorted(_PROVIDERS)


def infer_model(model: str | Model, **options: Any) -> Model:
    """Resolve ``"provider:model"`` (or pass a ``Model`` through).

    Raises:
        UnknownModelError: the string has no provider prefix or names an unknown provider.
        MissingDependencyError: the provider's SDK is not installed.
    """
    if isinstance(model, Model):
        return model
    if not isinstance(model, str) or ":" not in model:
        raise UnknownModelError(
            f"model {model!r} is not of the form 'provider:model'",
            hint=f"use one of: {', '.join(p + ':<model>' for p in known_providers())}",
        )
    provider, _, name = model.partition(":")
    if provider not in _PROVIDERS:
        raise UnknownModelError(
            f"unknown model provider {provider!r} in {model!r}",
            hint=f"known providers: {', '.join(known_providers())}",
        )
    if not name:
        raise ConfigError(f"model string {model!r} names no model after {provider!r}")
    module_name, class_name, package = _PROVIDERS[provider]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:  # the provider's SDK is missing
        raise MissingDependencyError(
            f"the {provider!r} provider needs the {package!r} package ({exc.name} is missing)",
            hint=f"pip install {package}",
        ) from exc
    cls = getattr(module, class_name)
    result: Model = cls(name, **options)
    return result


__all__ = [
    "AllModelsFailedError",
    "AssistantMessage",
    "ConcurrencyLimitedModel",
    "ConcurrencyLimiter",
    "FallbackModel",
    "Message",
    "Model",
    "ModelRequest",
    "ModelResponse",
    "ModelSettings",
    "OutputSchema",
    "ResponseDone",
    "RetryModel",
    "StreamChunk",
    "SystemMessage",
    "TextDelta",
    "ToolCall",
    "ToolResultMessage",
    "ToolSchema",
    "Usage",
    "UserMessage",
    "infer_model",
    "known_providers",
    "wrap_model",
]
