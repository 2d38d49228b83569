"""Turning SDK and HTTP errors into ``ProviderError``, one way for every adapter.

The mapping is duck-typed (status code, response headers, class names) so it works for the
``openai``, ``anthropic`` and ``litellm`` exception hierarchies without importing any of them.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from agentorch.errors import ProviderError

#: Status codes where trying again can help (rate limit, timeout, conflict, server trouble).
RETRYABLE_STATUS = frozenset({408, 409, 425, 429})
_MAX_MESSAGE = 500
_KEY_PATTERN = re.compile(r"\b(sk-(?:ant-|proj-)?)[A-Za-z0-9_\-]{8,}")
_TIMEOUT_NAMES = ("Timeout", "TimeoutError", "TimeoutException", "APITimeoutError")
_CONNECTION_NAMES = ("APIConnectionError", "ConnectError", "ConnectionError", "NetworkError")


class MalformedResponseError(ValueError):
    """A provider answered with a body that is not the documented shape (e.g. an HTML page)."""


def as_dict(obj: object) -> dict[str, Any]:
    """A response object (SDK model or dict) as a dict; ``MalformedResponseError`` otherwise."""
    if isinstance(obj, dict):
        return obj
    dump = getattr(obj, "model_dump", None)
    if dump is None:
        raise MalformedResponseError(f"expected a JSON object, got {str(obj)[:80]!r}")
    data = dump()
    if not isinstance(data, dict):
        raise MalformedResponseError(f"expected a JSON object, got {type(data).__name__}")
    return data


@contextmanager
def malformed_as(provider: str, model: str) -> Iterator[None]:
    """Turn a shape error while reading a response into a retryable ``ProviderError``."""
    try:
        yield
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        error = (
            exc if isinstance(exc, MalformedResponseError) else MalformedResponseError(repr(exc))
        )
        raise to_provider_error(error, provider=provider, model=model) from exc


def parse_retry_after(
    headers: Mapping[str, str] | None, *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    if not headers:
        return None
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())


def redact(text: str, secrets: tuple[str | None, ...] = ()) -> str:
    """``text`` with the given secrets and anything that looks like an API key masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_PATTERN.sub(r"\1***", text)


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _status_code(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _headers(exc: BaseException) -> dict[str, str]:
    found: dict[str, str] = {}
    for source in (
        getattr(getattr(exc, "response", None), "headers", None),
        getattr(exc, "litellm_response_headers", None),
        getattr(exc, "headers", None),
    ):
        if source is None:
            continue
        try:
            items = source.items()
        except AttributeError:
            continue
        for key, value in items:
            found.setdefault(str(key).lower(), str(value))
    return found


def _detail(exc: BaseException) -> str:
    """The provider's own error message when the body has one, else the exception text."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            kind = error.get("type")
            message: str = error["message"]
            return f"{kind}: {message}" if isinstance(kind, str) and kind else message
    text = str(exc) or type(exc).__name__
    return text


def to_provider_error(
    exc: BaseException,
    *,
    provider: str,
    model: str,
    key_env: str | None = None,
    secrets: tuple[str | None, ...] = (),
) -> ProviderError:
    """A ``ProviderError`` for ``exc`` with ``retryable`` and ``retry_after`` filled in."""
    if isinstance(exc, ProviderError):
        return exc
    names = _names(exc)
    status = _status_code(exc)
    is_timeout = isinstance(exc, (TimeoutError, asyncio.TimeoutError)) or bool(
        names.intersection(_TIMEOUT_NAMES)
    )
    is_connection = bool(names.intersection(_CONNECTION_NAMES))
    if isinstance(exc, MalformedResponseError):
        retryable = True
        message = f"malformed response: {exc}"
    elif status is not None and not is_timeout:
        retryable = status in RETRYABLE_STATUS or status >= 500
        message = f"HTTP {status}: {_detail(exc)}"
    elif is_timeout:
        retryable = True
        message = f"request timed out ({_detail(exc)})"
    elif is_connection:
        retryable = True
        message = f"connection failed ({_detail(exc)})"
    else:
        retryable = False
        message = f"{type(exc).__name__}: {_detail(exc)}"
    message = redact(message, secrets)
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    hint = None
    if status in (401, 403):
        where = f"set {key_env} or pass api_key=..." if key_env else "check the credentials"
        hint = f"the provider rejected the API key: {where}"
    elif status == 404:
        hint = f"check the model name {model!r} and the base URL"
    elif status == 429:
        hint = "rate limited: agentorch retries with backoff; lower concurrency if it persists"
    return ProviderError(
        message,
        provider=provider,
        model=model,
        status_code=status,
        retryable=retryable,
        retry_after=parse_retry_after(_headers(exc)) if retryable else None,
        hint=hint,
    )
