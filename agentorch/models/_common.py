"""Small helpers shared by the provider adapters (no SDK imports here)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

from agentorch.errors import MissingDependencyError
from agentorch.models.types import ToolCall

T = TypeVar("T")

#: Patterns that look like OpenAI-family model names (exact tiktoken counts apply to them).
_OPENAI_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-", "text-davinci", "davinci", "babbage")


def looks_like_openai_model(name: str) -> bool:
    """True for names such as ``gpt-4.1-mini`` or ``o3-mini`` (tokenised by tiktoken exactly)."""
    return name.lower().startswith(_OPENAI_PREFIXES)


def parse_tool_arguments(call_id: str, name: str, raw: str) -> ToolCall:
    """A ``ToolCall`` from the raw JSON arguments a model sent; never raises on bad JSON.

    Empty arguments mean "no arguments". Anything that is not a JSON object becomes
    ``arguments={}`` with ``arguments_error`` saying what was wrong, so the agent loop can tell
    the model instead of crashing.
    """
    text = raw.strip()
    if not text:
        return ToolCall(id=call_id, name=name, arguments={}, raw_arguments=raw)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        error = f"tool arguments are not valid JSON ({exc.msg} at position {exc.pos})"
        return ToolCall(id=call_id, name=name, raw_arguments=raw, arguments_error=error)
    if not isinstance(value, dict):
        error = f"tool arguments must be a JSON object, got {type(value).__name__}"
        return ToolCall(id=call_id, name=name, raw_arguments=raw, arguments_error=error)
    return ToolCall(id=call_id, name=name, arguments=value, raw_arguments=raw)


def require_package(module: str, provider: str, package: str | None = None) -> None:
    """Fail early, without importing it, when a provider's SDK is not installed."""
    if importlib.util.find_spec(module) is None:
        package = package or module
        raise MissingDependencyError(
            f"the {provider!r} provider needs the {package!r} package",
            hint=f"pip install {package}",
        )


def env_key(explicit: str | None, *env_names: str) -> str | None:
    """The explicit key, or the first non-empty of the environment variables."""
    if explicit:
        return explicit
    for env_name in env_names:
        value = os.environ.get(env_name)
        if value:
            return value
    return None


class LoopBoundClient(Generic[T]):
    """One SDK client per running event loop.

    SDK clients pool connections that belong to the loop that opened them; ``run_sync`` starts a
    fresh loop each time, so a client cached across loops would fail with "event loop is closed".
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._factory()
            self._clients[loop] = client
        return client

    def pop_current(self) -> T | None:
        """Forget (and return) the running loop's client, for closing."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        return self._clients.pop(loop, None)


@asynccontextmanager
async def aclosing_iter(iterator: Any) -> AsyncIterator[Any]:
    """Like ``contextlib.aclosing`` but tolerates iterators that have no ``aclose``/``close``."""
    try:
        yield iterator
    finally:
        close = getattr(iterator, "aclose", None) or getattr(iterator, "close", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result
