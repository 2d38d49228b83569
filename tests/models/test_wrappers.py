"""Retry, fallback and concurrency wrappers, with a fake clock (no real sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from _models_helpers import ask

from agentorch.errors import ModelBehaviorError, ProviderError
from agentorch.models.base import Model
from agentorch.models.testing import FunctionModel, ScriptedModel
from agentorch.models.types import (
    ModelRequest,
    ModelResponse,
    ResponseDone,
    StreamChunk,
    TextDelta,
)
from agentorch.models.wrappers import (
    AllModelsFailedError,
    ConcurrencyLimitedModel,
    ConcurrencyLimiter,
    FallbackModel,
    RetryModel,
    TimeoutModel,
    model_candidates,
    wrap_model,
)


def failure(status: int | None = 503, retry_after: float | None = None) -> ProviderError:
    retryable = status is None or status == 429 or status >= 500
    return ProviderError(
        "boom",
        provider="scripted",
        model="m",
        status_code=status,
        retryable=retryable,
        retry_after=retry_after,
    )


class FakeClock:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)


def retrying(model: Model, clock: FakeClock, **kwargs: object) -> RetryModel:
    options: dict[str, object] = {"sleep": clock.sleep, "random": lambda: 0.0, **kwargs}
    return RetryModel(model, **options)  # type: ignore[arg-type]


async def test_backoff_sequence_then_success() -> None:
    clock = FakeClock()
    scripted = ScriptedModel([failure(), failure(500), failure(429), "finally"])
    events: list[tuple[int, int | None, float]] = []
    model = retrying(
        scripted,
        clock,
        base_delay=0.5,
        on_retry=lambda n, e, d: events.append((n, e.status_code, d)),
    )
    assert (await model.request(ask())).text == "finally"
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert events == [(1, 503, 0.5), (2, 500, 1.0), (3, 429, 2.0)]
    scripted.assert_complete()


async def test_backoff_is_capped_and_jittered() -> None:
    clock = FakeClock()
    scripted = ScriptedModel([failure()] * 5 + ["ok"])
    model = retrying(
        scripted,
        clock,
        max_attempts=6,
        base_delay=1.0,
        max_delay=4.0,
        jitter=0.5,
        random=lambda: 1.0,
    )
    await model.request(ask())
    # Full jitter draw (random=1.0) halves each capped delay: 1, 2, 4, 4, 4 -> 0.5, 1, 2, 2, 2.
    assert clock.sleeps == [0.5, 1.0, 2.0, 2.0, 2.0]


async def test_retry_after_wins_when_longer() -> None:
    clock = FakeClock()
    scripted = ScriptedModel([failure(429, retry_after=7.0), failure(429, retry_after=0.1), "ok"])
    await retrying(scripted, clock, base_delay=0.5).request(ask())
    assert clock.sleeps == [7.0, 1.0]


async def test_async_on_retry_callback_is_awaited() -> None:
    clock = FakeClock()
    seen: list[int] = []

    async def on_retry(attempt: int, error: ProviderError, delay: float) -> None:
        seen.append(attempt)

    await retrying(ScriptedModel([failure(), "ok"]), clock, on_retry=on_retry).request(ask())
    assert seen == [1]


async def test_gives_up_after_max_attempts_with_last_error() -> None:
    clock = FakeClock()
    scripted = ScriptedModel([failure(500), failure(502), failure(503)])
    with pytest.raises(ProviderError) as info:
        await retrying(scripted, clock, max_attempts=3).request(ask())
    assert info.value.status_code == 503
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_never_retries_non_retryable(status: int) -> None:
    clock = FakeClock()
    scripted = ScriptedModel([failure(status), "unused"])
    with pytest.raises(ProviderError):
        await retrying(scripted, clock).request(ask())
    assert clock.sleeps == [] and scripted.remaining == 1


async def test_retry_after_beyond_limit_is_not_waited_for() -> None:
    clock = FakeClock()
    scripted = ScriptedModel([failure(429, retry_after=3600.0), "unused"])
    with pytest.raises(ProviderError):
        await retrying(scripted, clock, max_retry_after=60.0).request(ask())
    assert clock.sleeps == []


async def test_other_exceptions_are_not_retried() -> None:
    clock = FakeClock()
    scripted = ScriptedModel([ValueError("bug"), "unused"])
    with pytest.raises(ValueError):
        await retrying(scripted, clock).request(ask())
    assert clock.sleeps == []


class FlakyStream(Model):
    """Streams fail as scripted: before the first chunk, or after it."""

    provider, name = "flaky", "stream"

    def __init__(self, plan: list[str]) -> None:
        self.plan = plan
        self.calls = 0

    async def request(self, request: ModelRequest) -> ModelResponse:
        raise NotImplementedError

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamChunk]:
        step = self.plan[self.calls]
        self.calls += 1
        if step == "fail-early":
            raise failure()
        yield TextDelta(text="partial")
        if step == "fail-late":
            raise failure()
        yield ResponseDone(response=(await ScriptedModel(["done"]).request(request)))


async def test_stream_retries_only_before_first_chunk() -> None:
    clock = FakeClock()
    flaky = FlakyStream(["fail-early", "ok"])
    chunks = [c async for c in retrying(flaky, clock).stream(ask())]
    assert isinstance(chunks[-1], ResponseDone) and flaky.calls == 2 and len(clock.sleeps) == 1

    late = FlakyStream(["fail-late", "ok"])
    seen: list[StreamChunk] = []
    with pytest.raises(ProviderError):
        async for chunk in retrying(late, clock).stream(ask()):
            seen.append(chunk)
    assert late.calls == 1 and seen == [TextDelta(text="partial")]


async def test_fallback_uses_next_model_and_reports_who_answered() -> None:
    primary = ScriptedModel([failure(500)], name="primary")
    backup = ScriptedModel(["from backup"], name="backup")
    model = FallbackModel(primary, backup)
    response = await model.request(ask())
    assert response.text == "from backup" and response.model_name == "backup"
    assert model.name == "primary" and model.price_key == "primary"
    assert model_candidates(model) == (primary, backup)


async def test_fallback_after_retries_of_each_model() -> None:
    clock = FakeClock()
    primary = ScriptedModel([failure(), failure()], name="primary")
    backup = ScriptedModel([failure(), "ok"], name="backup")
    model = FallbackModel(
        retrying(primary, clock, max_attempts=2), retrying(backup, clock, max_attempts=2)
    )
    assert (await model.request(ask())).text == "ok"
    assert len(clock.sleeps) == 2
    assert [m.name for m in model.candidates] == ["primary", "backup"]


async def test_fallback_all_failing_summarises() -> None:
    a = ScriptedModel([failure(500)], name="a")
    b = ScriptedModel([failure(401)], name="b")
    with pytest.raises(AllModelsFailedError) as info:
        await FallbackModel(a, b).request(ask())
    error = info.value
    assert [f.status_code for f in error.failures] == [500, 401]
    assert "all 2 models failed" in str(error) and not error.retryable
    assert isinstance(error, ProviderError)


async def test_fallback_does_not_hide_programming_errors() -> None:
    a = ScriptedModel([ModelBehaviorError("not a provider failure")], name="a")
    b = ScriptedModel(["unused"], name="b")
    with pytest.raises(ModelBehaviorError):
        await FallbackModel(a, b).request(ask())
    assert b.remaining == 1


async def test_fallback_stream_switches_only_before_first_chunk() -> None:
    primary = FlakyStream(["fail-early"])
    backup = ScriptedModel(["streamed by backup"], name="backup")
    chunks = [c async for c in FallbackModel(primary, backup).stream(ask())]
    assert chunks[0] == TextDelta(text="streamed by backup")

    late = FlakyStream(["fail-late"])
    unused = ScriptedModel(["unused"], name="unused")
    with pytest.raises(ProviderError):
        async for _ in FallbackModel(late, unused).stream(ask()):
            pass
    assert unused.remaining == 1


async def test_concurrency_limit_caps_in_flight_calls() -> None:
    gate = asyncio.Event()
    in_flight = 0
    observed = 0

    async def slow(request: ModelRequest) -> str:
        nonlocal in_flight, observed
        in_flight += 1
        observed = max(observed, in_flight)
        await gate.wait()
        in_flight -= 1
        return "ok"

    model = ConcurrencyLimitedModel(FunctionModel(slow), 2)
    tasks = [asyncio.create_task(model.request(ask())) for _ in range(6)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert in_flight == 2
    gate.set()
    assert [r.text for r in await asyncio.gather(*tasks)] == ["ok"] * 6
    assert observed == 2 and model.limiter.max_in_flight == 2 and model.limiter.in_flight == 0


async def test_shared_limiter_spans_models() -> None:
    limiter = ConcurrencyLimiter(1)
    gate = asyncio.Event()

    async def wait(request: ModelRequest) -> str:
        await gate.wait()
        return "ok"

    a = ConcurrencyLimitedModel(FunctionModel(wait, name="a"), limiter)
    b = ConcurrencyLimitedModel(FunctionModel(wait, name="b"), limiter)
    tasks = [asyncio.create_task(m.request(ask())) for m in (a, b, a)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert limiter.in_flight == 1
    gate.set()
    await asyncio.gather(*tasks)
    assert limiter.max_in_flight == 1


def test_limiter_works_across_event_loops() -> None:
    model = ConcurrencyLimitedModel(ScriptedModel(["one", "two"]), 1)
    assert asyncio.run(model.request(ask())).text == "one"
    assert asyncio.run(model.request(ask())).text == "two"  # a fresh loop, a fresh semaphore


async def test_limited_stream_holds_its_slot() -> None:
    model = ConcurrencyLimitedModel(ScriptedModel(["streamed"]), 1)
    async for _ in model.stream(ask()):
        assert model.limiter.in_flight == 1
    assert model.limiter.in_flight == 0


async def test_wrappers_delegate_identity() -> None:
    inner = ScriptedModel(["x"], name="inner", price_key="gpt-4.1-mini")
    model = RetryModel(ConcurrencyLimitedModel(inner, 3))
    assert (model.provider, model.name, model.id) == ("scripted", "inner", "scripted:inner")
    assert model.price_key == "gpt-4.1-mini" and model.encoding == "cl100k_base"
    assert model.candidates == (inner,) and model_candidates(inner) == (inner,)


async def test_wrap_model_builds_the_stack() -> None:
    clock = FakeClock()
    primary = ScriptedModel([failure(), failure()], name="primary")
    backup = ScriptedModel(["ok"], name="backup")
    model = wrap_model(
        primary, retries=1, fallbacks=[backup], concurrency=2, sleep=clock.sleep, random=lambda: 0
    )
    assert isinstance(model, FallbackModel)
    assert (await model.request(ask())).model_name == "backup"
    assert clock.sleeps == [0.5]
    assert model_candidates(model) == (primary, backup)

    bare = ScriptedModel(["y"])
    bounded = wrap_model(bare, retries=0)  # only the timeout layer, which every model gets
    assert isinstance(bounded, TimeoutModel) and bounded.wrapped is bare
    assert isinstance(wrap_model("openai:gpt-4.1-mini"), RetryModel)


def test_invalid_options_are_rejected() -> None:
    with pytest.raises(ValueError):
        RetryModel(ScriptedModel(), max_attempts=0)
    with pytest.raises(ValueError):
        RetryModel(ScriptedModel(), jitter=2.0)
    with pytest.raises(ValueError):
        ConcurrencyLimiter(0)
