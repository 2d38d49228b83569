"""Helpers for the model-layer tests: a scripted mock HTTP transport, SSE bodies, requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2

from agentorch.models.types import ModelRequest, UserMessage

Scripted = httpx2.Response | BaseException | Callable[[httpx2.Request], httpx2.Response]


class MockHTTP:
    """An ``httpx2.AsyncClient`` whose transport answers from a script and records requests."""

    def __init__(self) -> None:
        self.script: list[Scripted] = []
        self.requests: list[httpx2.Request] = []
        self.client = httpx2.AsyncClient(transport=httpx2.MockTransport(self._handle))

    def add(self, *items: Scripted) -> MockHTTP:
        self.script.extend(items)
        return self

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if not self.script:
            raise AssertionError(f"unexpected request to {request.url}")
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item(request) if callable(item) else item

    @property
    def bodies(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests]


def sse(*events: Any, done: bool = True) -> httpx2.Response:
    """A text/event-stream response of OpenAI-style ``data:`` lines."""
    lines = [f"data: {json.dumps(e)}\n\n" for e in events]
    if done:
        lines.append("data: [DONE]\n\n")
    return httpx2.Response(
        200, headers={"content-type": "text/event-stream"}, content="".join(lines).encode()
    )


def named_sse(*events: dict[str, Any]) -> httpx2.Response:
    """A text/event-stream response of Anthropic-style ``event:``/``data:`` pairs."""
    text = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    return httpx2.Response(
        200, headers={"content-type": "text/event-stream"}, content=text.encode()
    )


def ask(text: str = "Hello", **kwargs: Any) -> ModelRequest:
    return ModelRequest(messages=(UserMessage(content=text),), **kwargs)
