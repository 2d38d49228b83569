"""Cross-cutting behaviour as models wrapping models: timeouts, retries, fallbacks, concurrency.

Each wrapper is itself a ``Model``, so they compose: ``wrap_model`` builds the usual stack,
``Fallback(Retry(Limit(Timeout(primary))), Retry(Limit(Timeout(fallback))), ...)``.
"""

from __future__ import annotations

import asyncio
import inspect
import random as _random
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from agentorch.errors import ProviderError
from agentorch.models._common import aclosing_iter
from agentorch.models.base import Model
from agentorch.models.types import ModelRequest, ModelResponse, StreamChunk

OnRetry = Callable[[int, ProviderError, float], "Awaitable[None] | None"]


def model_candidates(model: Model) -> tuple[Model, ...]:
    """The models that may actually answer a call to ``model`` (itself unless it wraps others).

    The budget reserves at the most expensive of them.
    """
    candidates = getattr(model, "candidates", None)
    return tuple(candidates) if candidates else (model,)


async def close_model(*models: Model) -> None:
    """Close models' HTTP clients for the running event loop (models without ``aclose`` skip).

    Call it when a run that built the models ends, so no connection outlives its event loop.
    """
    for model in models:
        close = getattr(model, "aclose", None)
        if close is not None:
            await close()


class WrapperModel(Model):
    """A model that delegates to another; subclasses add behaviour around the calls."""

    def __init__(self, wrapped: Model) -> None:
        self.wrapped = wrapped
        self.provider = wrapped.provider
        self.name = wrapped.name

    @property
    def price_key(self) -> str:
        return self.wrapped.price_key

    @property
    def encoding(self) -> str | None:
        return self.wrapped.encoding

    @property
    def candidates(self) -> tuple[Model, ...]:
        return model_candidates(self.wrapped)

    async def request(self, request: ModelRequest) -> ModelResponse:
        return await self.wrapped.request(request)

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamChunk]:
        async with aclosing_iter(self.wrapped.stream(request)) as chunks:
            async for chunk in chunks:
                yield chunk

    @property
    def inner_models(self) -> tuple[Model, ...]:
        """The models this wrapper calls directly."""
        return (self.wrapped,)

    async def aclose(self) -> None:
        """Close the HTTP clients of every wrapped model that has any."""
        await close_model(*self.inner_models)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.wrapped!r}>"


class TimeoutModel(WrapperModel):
    """Bounds every attempt by ``request.settings.timeout``, whatever the provider does.

    SDK timeouts cover HTTP; this also covers a custom model that never answers. A stream must
    deliver each chunk within the timeout. Past it the call is cancelled and a retryable
    ``ProviderError`` raised, like a provider's own timeout. It runs in the caller's task (no
    extra task, no extra turn of the event loop for a model that answers at once).
    """

    def _timed_out(self, timeout: float) -> ProviderError:
        return ProviderError(
            f"request timed out: no answer within {timeout:g} s (ModelSettings.timeout)",
            provider=self.provider,
            model=self.name,
            retryable=True,
        )

    async def request(self, request: ModelRequest) -> ModelResponse:
        timeout = request.settings.timeout
        if timeout is None:
            return await self.wrapped.request(request)
        deadline = asyncio.timeout(timeout)
        try:
            async with deadline:
                return await self.wrapped.request(request)
        except TimeoutError:
            if deadline.expired():
                raise self._timed_out(timeout) from None
            raise
        finally:
            # The deadline refers to the caller's task, which will hold an error raised through
            # this frame: dropped, so a failed call leaves no reference cycle behind.
            del deadline

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamChunk]:
        timeout = request.settings.timeout
        async with aclosing_iter(self.wrapped.stream(request)) as chunks:
            iterator = chunks.__aiter__()
            while True:
                deadline = asyncio.timeout(timeout)
                try:
                    async with deadline:
                        chunk = await iterator.__anext__()
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    if deadline.expired():
                        raise self._timed_out(timeout or 0.0) from None
                    raise
                yield chunk


def has_timeout(model: Model) -> bool:
    """Whether ``model`` (or every model it calls) is bounded by a ``TimeoutModel``."""
    if isinstance(model, TimeoutModel):
        return True
    if not isinstance(model, WrapperModel):
        return False
    inner = model.inner_models
    return bool(inner) and all(has_timeout(m) for m in inner)


class RetryModel(WrapperModel):
    """Retries retryable ``ProviderError``s with exponential backoff and jitter.

    The delay before retry ``n`` (1-based) is ``min(max_delay, base_delay * 2**(n-1))``, reduced
    by up to ``jitter`` (a fraction) at random, and never less than the provider's
    ``Retry-After``. A ``Retry-After`` longer than ``max_retry_after`` is not waited for: the
    error is raised so a fallback model can take over. Non-retryable errors are raised at once.
    Streams are retried only until their first chunk.
    """

    def __init__(
        self,
        model: Model,
        *,
        max_attempts: int = 4,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        jitter: float = 0.5,
        max_retry_after: float = 120.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        on_retry: OnRetry | None = None,
    ) -> None:
        super().__init__(model)
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= jitter <= 1.0:
            raise ValueError("jitter is a fraction between 0 and 1")
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.jitter = jitter
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._random = random
        self.on_retry = on_retry

    def delay_for(self, attempt: int, error: ProviderError) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        backoff *= 1.0 - self.jitter * self._random()
        return max(backoff, error.retry_after or 0.0)

    async def _before_retry(self, attempt: int, error: ProviderError) -> bool:
        """Wait before the next attempt; False when the error must be raised instead."""
        if not error.retryable or attempt >= self.max_attempts:
            return False
        if error.retry_after is not None and error.retry_after > self.max_retry_after:
            return False
        delay = self.delay_for(attempt, error)
        if self.on_retry is not None:
            result = self.on_retry(attempt, error, delay)
            if inspect.isawaitable(result):
                await result
        await self._sleep(delay)
        return True

    async def request(self, request: ModelRequest) -> ModelResponse:
        attempt = 1
        while True:
            try:
                return await self.wrapped.request(request)
            except ProviderError as error:
                if not await self._before_retry(attempt, error):
                    raise
            attempt += 1

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamChunk]:
        attempt = 1
        while True:
            started = False
            try:
                async with aclosing_iter(self.wrapped.stream(request)) as chunks:
                    async for chunk in chunks:
                        started = True
                        yield chunk
                return
            except ProviderError as error:
                if started or not await self._before_retry(attempt, error):
                    raise
            attempt += 1


class AllModelsFailedError(ProviderError):
    """Every model of a fallback chain failed; ``failures`` holds each model's error, in order."""

    def __init__(self, message: str, *, failures: Sequence[ProviderError], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.failures = list(failures)


class FallbackModel(WrapperModel):
    """Tries ``primary``, then each fallback in turn, when a model fails with a ``ProviderError``.

    Other exceptions (bugs, bad input) propagate at once. A stream falls back only if it failed
    before its first chunk. ``provider``/``name``/``price_key`` are the primary's; the response
    names the model that answered, and ``candidates`` lists every model that might.
    """

    def __init__(self, primary: Model, *fallbacks: Model) -> None:
        super().__init__(primary)
        self.models: tuple[Model, ...] = (primary, *fallbacks)

    @property
    def inner_models(self) -> tuple[Model, ...]:
        return self.models

    @property
    def candidates(self) -> tuple[Model, ...]:
        found: list[Model] = []
        for model in self.models:
            found.extend(c for c in model_candidates(model) if c not in found)
        return tuple(found)

    def _exhausted(self, failures: list[ProviderError]) -> AllModelsFailedError:
        summary = "; ".join(str(f) for f in failures)
        last = failures[-1]
        return AllModelsFailedError(
            f"all {len(failures)} models failed: {summary}",
            failures=failures,
            provider="fallback",
            model=self.wrapped.id,
            status_code=last.status_code,
            retryable=all(f.retryable for f in failures),
            hint=last.hint,
        )

    async def request(self, request: ModelRequest) -> ModelResponse:
        failures: list[ProviderError] = []
        for model in self.models:
            try:
                return await model.request(request)
            except ProviderError as error:
                failures.append(error)
        raise self._exhausted(failures)

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamChunk]:
        failures: list[ProviderError] = []
        for model in self.models:
            started = False
            try:
                async with aclosing_iter(model.stream(request)) as chunks:
                    async for chunk in chunks:
                        started = True
                        yield chunk
                return
            except ProviderError as error:
                if started:
                    raise
                failures.append(error)
        raise self._exhausted(failures)

    def __repr__(self) -> str:
        return f"<FallbackModel {' -> '.join(m.id for m in self.models)}>"


class ConcurrencyLimiter:
    """At most ``limit`` calls in flight; share one instance to share the limit between models.

    Keeps one semaphore per event loop, since ``run_sync`` may run on a fresh loop each time.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a concurrency limit must be at least 1")
        self.limit = limit
        self.in_flight = 0
        self.max_in_flight = 0
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._semaphores = weakref.WeakKeyDictionary()

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit)
        return semaphore

    async def __aenter__(self) -> ConcurrencyLimiter:
        await self._semaphore().acquire()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.in_flight -= 1
        self._semaphore().release()


class ConcurrencyLimitedModel(WrapperModel):
    """Limits how many calls to the wrapped model run at once (a stream holds its slot)."""

    def __init__(self, model: Model, limit: int | ConcurrencyLimiter) -> None:
        super().__init__(model)
        self.limiter = limit if isinstance(limit, ConcurrencyLimiter) else ConcurrencyLimiter(limit)

    async def request(self, request: ModelRequest) -> ModelResponse:
        async with self.limiter:
            return await self.wrapped.request(request)

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamChunk]:
        async with self.limiter, aclosing_iter(self.wrapped.stream(request)) as chunks:
            async for chunk in chunks:
                yield chunk


def wrap_model(
    model: str | Model,
    *,
    retries: int = 3,
    fallbacks: Sequence[str | Model] = (),
    concurrency: int | ConcurrencyLimiter | None = None,
    on_retry: OnRetry | None = None,
    **retry_options: Any,
) -> Model:
    """The runtime's standard stack around a model.

    Each model in the chain (``model``, then ``fallbacks``) gets its own concurrency limit (an
    ``int`` makes one limiter per model; a ``ConcurrencyLimiter`` is shared by all) and its own
    retries (``retries`` retries after the first attempt; ``0`` for none); then the chain is
    tried in order. ``retry_options`` go to ``RetryModel`` (``base_delay``, ``sleep``, ...).
    """
    from agentorch.models import infer_model

    def one(item: str | Model) -> Model:
        wrapped = infer_model(item)
        if not has_timeout(wrapped):
            wrapped = TimeoutModel(wrapped)
        if concurrency is not None:
            wrapped = ConcurrencyLimitedModel(wrapped, concurrency)
        if retries > 0:
            wrapped = RetryModel(
                wrapped, max_attempts=retries + 1, on_retry=on_retry, **retry_options
            )
        return wrapped

    chain = [one(model), *(one(f) for f in fallbacks)]
    return chain[0] if len(chain) == 1 else FallbackModel(*chain)
