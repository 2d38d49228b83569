"""Integer bookkeeping behind ``Budget``: rates, accumulators and limit scopes.

Amounts are femto-dollars (1e-15 USD) held in Python ints, so sums never drift and a comparison
with a limit is exact.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from agentorch.budget.prices import Price
from agentorch.models.types import Usage

FEMTO = 10**15


def to_usd(femto: int) -> float:
    return femto / FEMTO


def _femto_rate(rate: float) -> int:
    return round(Fraction(rate) * FEMTO)


@dataclass(frozen=True, slots=True)
class Rates:
    """A ``Price`` in femto-dollars per token, with cache rates resolved."""

    input: int
    output: int
    cached: int
    write: int
    tiers: tuple[tuple[int, Rates], ...] = ()
    #: The price these rates came from (``None`` for the rates of an unpriced model).
    price: Price | None = field(default=None, compare=False)
    #: The dearest rate an input token can be billed at (cache writes may cost more).
    worst_input: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "worst_input", max(self.input, self.cached, self.write))

    @staticmethod
    def free() -> Rates:
        return _FREE

    def at(self, input_tokens: int) -> Rates:
        """The rates for a request with ``input_tokens`` of input (its long-context tier)."""
        chosen = self
        for threshold, tier in self.tiers:
            if input_tokens > threshold:
                chosen = tier
        return chosen

    def cost(self, usage: Usage) -> int:
        """What ``usage`` costs: cached and cache-write input at their own rates."""
        inp = max(usage.input_tokens, 0)
        r = self.at(inp)
        cached = min(max(usage.cached_input_tokens, 0), inp)
        write = min(max(usage.cache_write_tokens, 0), inp - cached)
        plain = inp - cached - write
        out = max(usage.output_tokens, 0)
        return plain * r.input + cached * r.cached + write * r.write + out * r.output


_FREE = Rates(0, 0, 0, 0)


def rates_for(price: Price) -> Rates:
    base_in = _femto_rate(price.input)
    return Rates(
        input=base_in,
        output=_femto_rate(price.output),
        cached=base_in if price.cached_input is None else _femto_rate(price.cached_input),
        write=base_in if price.cache_write is None else _femto_rate(price.cache_write),
        tiers=tuple((threshold, rates_for(tier)) for threshold, tier in price.tiers),
        price=price,
    )


@dataclass(slots=True)
class Acc:
    """Running totals for one agent, model, step or the whole run."""

    input: int = 0
    output: int = 0
    cached: int = 0
    write: int = 0
    requests: int = 0
    femto: int = 0
    unpriced: bool = False
    estimated: bool = False

    @property
    def tokens(self) -> int:
        return self.input + self.output

    def add(self, usage: Usage, femto: int, unpriced: bool) -> None:
        self.input += usage.input_tokens
        self.output += usage.output_tokens
        self.cached += usage.cached_input_tokens
        self.write += usage.cache_write_tokens
        self.requests += usage.requests or 1
        self.femto += femto
        self.unpriced = self.unpriced or unpriced
        self.estimated = self.estimated or usage.estimated

    def add_acc(self, other: Acc) -> None:
        self.input += other.input
        self.output += other.output
        self.cached += other.cached
        self.write += other.write
        self.requests += other.requests
        self.femto += other.femto
        self.unpriced = self.unpriced or other.unpriced
        self.estimated = self.estimated or other.estimated

    def usage(self) -> Usage:
        return Usage(
            input_tokens=self.input,
            output_tokens=self.output,
            cached_input_tokens=self.cached,
            cache_write_tokens=self.write,
            requests=self.requests,
            cost_usd=to_usd(self.femto),
            unpriced=self.unpriced,
            estimated=self.estimated,
        )


@dataclass(slots=True)
class Scope:
    """A limit (the run's, or one agent's cap) with what is reserved against it.

    What was spent is read from ``acc``, the run's or the agent's totals.
    """

    name: str
    limit_femto: int | None
    limit_tokens: int | None
    acc: Acc
    warn_at: float = 1.0
    reserved_femto: int = 0
    reserved_tokens: int = 0
    warned: bool = False
    # Spend at which the warning fires, precomputed so settling compares two ints.
    _warn_femto: int | None = field(init=False, default=None)
    _warn_tokens: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        at = Fraction(self.warn_at)
        if self.limit_femto is not None:
            self._warn_femto = math.ceil(at * self.limit_femto)
        if self.limit_tokens is not None:
            self._warn_tokens = math.ceil(at * self.limit_tokens)

    def should_warn(self) -> bool:
        """Whether spending just reached ``warn_at`` of a limit (true once per scope)."""
        if self.warned:
            return False
        femto, tokens = self._warn_femto, self._warn_tokens
        if (femto is not None and self.acc.femto >= femto) or (
            tokens is not None and self.acc.tokens >= tokens
        ):
            self.warned = True
            return True
        return False

    @property
    def limited(self) -> bool:
        return self.limit_femto is not None or self.limit_tokens is not None

    def left_femto(self) -> int | None:
        if self.limit_femto is None:
            return None
        return self.limit_femto - self.acc.femto - self.reserved_femto

    def left_tokens(self) -> int | None:
        if self.limit_tokens is None:
            return None
        return self.limit_tokens - self.acc.tokens - self.reserved_tokens

    def room_for_output(self, prompt_tokens: int, rates: Sequence[Rates]) -> int:
        """The most output tokens a call with this prompt can reserve here (negative: none)."""
        room = sys.maxsize
        left_tokens = self.left_tokens()
        if left_tokens is not None:
            room = left_tokens - prompt_tokens
        left_femto = self.left_femto()
        if left_femto is not None:
            for r in rates:
                after_prompt = left_femto - prompt_tokens * r.worst_input
                if after_prompt < 0:
                    return -1
                if r.output > 0:
                    room = min(room, after_prompt // r.output)
        return room

    def fraction_spent(self) -> float:
        """The largest fraction of a limit spent so far (USD or tokens)."""
        fractions = []
        if self.limit_femto is not None:
            fractions.append(_fraction(self.acc.femto, self.limit_femto))
        if self.limit_tokens is not None:
            fractions.append(_fraction(self.acc.tokens, self.limit_tokens))
        return max(fractions, default=0.0)


def _fraction(spent: int, limit: int) -> float:
    if limit > 0:
        return spent / limit
    return 1.0 if spent > 0 else 0.0


@dataclass(slots=True)
class Reservation:
    """Money and tokens set aside for one model call until it is settled or released.

    ``max_tokens`` is the output cap the call must be sent with: it is lower than the request's
    (``requested_max_tokens``) when the budget only had room for a shorter answer. ``price`` is the
    price the reservation was made at (the dearest candidate's); ``unpriced`` says some candidate
    had no price, so ``usd`` may understate the call.
    """

    id: str
    agent: str
    model_id: str
    step_id: str | None
    prompt_tokens: int
    max_tokens: int
    usd: float
    tokens: int
    price: Price | None
    requested_max_tokens: int = 0
    unpriced: bool = False
    _femto: int = field(default=0, repr=False)
    _rates: Rates | None = field(default=None, repr=False)  # the model's; None: unpriced
    _scopes: tuple[Scope, ...] = field(default=(), repr=False)

    @property
    def lowered(self) -> bool:
        """Whether the budget lowered ``max_tokens`` to make the call fit."""
        return self.max_tokens < self.requested_max_tokens
