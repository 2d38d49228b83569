"""Shared helpers for the budget tests: requests and round-number prices."""

from __future__ import annotations

from agentorch.budget import Budget, PriceTable
from agentorch.models.types import ModelRequest, ModelSettings, UserMessage

#: Round prices (USD per million tokens) that keep the arithmetic in the tests readable.
NICE = {"openai:nice": {"input_per_mtok": 1.0, "output_per_mtok": 8.0}}


def request(max_tokens: int = 4096, text: str = "hello") -> ModelRequest:
    return ModelRequest(
        messages=(UserMessage(content=text),), settings=ModelSettings(max_tokens=max_tokens)
    )


def nice_budget(events: list | None = None, **kwargs) -> Budget:
    kwargs.setdefault("prices", PriceTable(NICE, use_litellm=False))
    budget = Budget(**kwargs)
    if events is not None:
        budget.on_event = events.append
    return budget


def reserve_nice(
    budget: Budget,
    *,
    agent: str = "writer",
    prompt: int = 1000,
    max_tokens: int = 4096,
    step_id: str | None = "s1",
):
    return budget.reserve(
        agent=agent,
        model_id="openai:nice",
        price_key="nice",
        encoding="o200k_base",
        request=request(max_tokens),
        step_id=step_id,
        prompt_tokens=prompt,
    )
