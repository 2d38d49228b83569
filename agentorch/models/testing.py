"""Deterministic models for tests and reproducible runs.

- ``ScriptedModel``: a queue of responses, handed out in order; records every request it got.
- ``FunctionModel``: a Python function plays the model.

Both report usage computed with the same token counter the budget uses, so runs on them exercise
the budget exactly as real models do.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from agentorch.models.base import Model
from agentorch.models.types import (
    AssistantMessage,
    ModelRequest,
    ModelResponse,
    ToolCall,
    Usage,
)

_call_ids = itertools.count(1)


def _count(text: str) -> int:
    from agentorch.budget.tokens import count_text

    return count_text(text, "cl100k_base")


def request_tokens(request: ModelRequest) -> int:
    """Prompt tokens of a request, counted like the budget counts them."""
    from agentorch.budget.tokens import count_request

    return count_request(request, "cl100k_base")


def text_response(text: str) -> ModelResponse:
    """A final text answer."""
    return ModelResponse(message=AssistantMessage(content=text), stop_reason="stop")


def tool_call_response(*calls: tuple[str, dict[str, Any]] | ToolCall) -> ModelResponse:
    """A response asking for one or more tool calls: ``("name", {"arg": 1})`` or ``ToolCall``."""
    tool_calls = []
    for call in calls:
        if isinstance(call, ToolCall):
            tool_calls.append(call)
        else:
            name, args = call
            tool_calls.append(
                ToolCall(
                    id=f"call_{next(_call_ids)}",
                    name=name,
                    arguments=args,
                    raw_arguments=json.dumps(args),
                )
            )
    return ModelResponse(
        message=AssistantMessage(tool_calls=tuple(tool_calls)), stop_reason="tool_calls"
    )


def json_response(value: Any) -> ModelResponse:
    """A final answer whose text is ``value`` as JSON (for structured outputs)."""
    if hasattr(value, "model_dump_json"):
        return text_response(value.model_dump_json())
    return text_response(json.dumps(value))


def _finish(model: Model, request: ModelRequest, response: ModelResponse) -> ModelResponse:
    """Fill in usage (counted, never above ``max_tokens``) and the model's identity."""
    if response.usage.requests:
        usage = response.usage
    else:
        out = response.text + "".join(
            c.raw_arguments or json.dumps(c.arguments) for c in response.tool_calls
        )
        output_tokens = min(_count(out), request.settings.max_tokens)
        usage = Usage(input_tokens=request_tokens(request), output_tokens=output_tokens, requests=1)
    return _unique_call_ids(request, response).model_copy(
        update={"usage": usage, "model_name": model.name, "provider": model.provider}
    )


def _unique_call_ids(request: ModelRequest, response: ModelResponse) -> ModelResponse:
    """Tool call ids unique within the conversation, as a provider's are.

    ``tool_call_response`` numbers calls per process: when a conversation's model calls run in
    several processes (workers on Temporal), a later call could reuse an earlier call's id.
    """
    used = {c.id for m in request.messages for c in getattr(m, "tool_calls", None) or ()}
    if not any(c.id in used for c in response.tool_calls):
        return response
    fresh = (f"call_{n}" for n in itertools.count(len(used) + 1) if f"call_{n}" not in used)
    calls = []
    for call in response.tool_calls:
        if call.id in used:
            call = call.model_copy(update={"id": next(fresh)})
        used.add(call.id)
        calls.append(call)
    message = response.message.model_copy(update={"tool_calls": tuple(calls)})
    return response.model_copy(update={"message": message})


class ScriptedModel(Model):
    """Hands out scripted responses in order and records the requests it received.

    An item may be a ``ModelResponse``, a plain string (a final text answer), or an exception
    instance (raised for that call, e.g. a ``ProviderError`` to exercise retries).
    """

    provider = "scripted"

    def __init__(
        self,
        responses: Iterable[ModelResponse | str | BaseException] = (),
        *,
        name: str = "scripted",
        delay: float = 0.0,
        price_key: str | None = None,
    ) -> None:
        self.name = name
        self._queue: list[ModelResponse | str | BaseException] = list(responses)
        self.requests: list[ModelRequest] = []
        self.delay = delay
        self._price_key = price_key

    @property
    def price_key(self) -> str:
        return self._price_key or self.name

    @property
    def encoding(self) -> str | None:
        return "cl100k_base"

    def add(self, *responses: ModelResponse | str | BaseException) -> None:
        self._queue.extend(responses)

    async def request(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self._queue:
            raise AssertionError(
                f"ScriptedModel {self.name!r} ran out of responses after {len(self.requests) - 1}"
            )
        item = self._queue.pop(0)
        if isinstance(item, BaseException):
            raise item
        response = text_response(item) if isinstance(item, str) else item
        return _finish(self, request, response)

    @property
    def remaining(self) -> int:
        return len(self._queue)

    def assert_complete(self) -> None:
        """Fail if scripted responses were left unused."""
        if self._queue:
            raise AssertionError(
                f"ScriptedModel {self.name!r} has {len(self._queue)} unused response(s)"
            )


ModelFunction = Callable[[ModelRequest], "ModelResponse | str | Awaitable[ModelResponse | str]"]


class FunctionModel(Model):
    """A Python function plays the model: it gets the ``ModelRequest`` and returns a response.

    The function may be sync or async and may return a ``ModelResponse`` or a string. Usage is
    counted from the request and the answer unless the function sets it.
    """

    provider = "function"

    def __init__(
        self,
        function: ModelFunction,
        *,
        name: str | None = None,
        delay: float = 0.0,
        price_key: str | None = None,
    ) -> None:
        self.function = function
        self.name = name or str(getattr(function, "__name__", "function"))
        self.delay = delay
        self.calls = 0
        self._price_key = price_key

    @property
    def price_key(self) -> str:
        return self._price_key or self.name

    @property
    def encoding(self) -> str | None:
        return "cl100k_base"

    async def request(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        result = self.function(request)
        if inspect.isawaitable(result):
            result = await result
        response = text_response(result) if isinstance(result, str) else result
        if not isinstance(response, ModelResponse):
            raise TypeError(
                f"FunctionModel {self.name!r}: function returned {type(response).__name__}, "
                "expected ModelResponse or str"
            )
        return _finish(self, request, response)
