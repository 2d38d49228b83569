"""One budget for a whole agent tree: reserve before each model call, settle after it.

Money is kept internally as integer femto-dollars (1e-15 USD), so sums are exact and "spent never
exceeds the limit" holds exactly, not up to float rounding. ``reserve`` and ``settle`` contain no
``await``: within one event loop they are atomic; a lock makes them safe across threads too.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from agentorch.budget._events import exceeded, overrun, warning
from agentorch.budget._ledger import FEMTO, Acc, Rates, Reservation, Scope, rates_for, to_usd
from agentorch.budget.config import AgentCap, BudgetConfig, parse_caps, resolve_prices
from agentorch.budget.prices import PriceTable
from agentorch.budget.report import UsageReport
from agentorch.budget.tokens import count_request, with_margin
from agentorch.errors import BudgetExceeded, PriceError
from agentorch.events.types import BaseEvent
from agentorch.models.types import ModelRequest, Usage

_KEEP: Any = object()


class Budget:
    """Hard USD and token limits for a run, with optional per-agent caps.

    Args:
        usd: run-wide dollar limit; ``None`` for no dollar limit.
        tokens: run-wide token limit (input + output); ``None`` for no token limit.
        per_agent: caps by agent name: a float (USD), ``AgentCap(usd=..., tokens=...)`` or a
            mapping with those keys.
        warn_at: fraction of a limit whose crossing (by settled spend) emits one ``BudgetWarning``
            per scope.
        prices: a ``PriceTable``, a mapping of overrides, or a TOML/JSON price file.
        allow_unpriced: account models without a known price by tokens only (else ``PriceError``
            when a dollar limit applies to the call).
        min_output_tokens: the smallest ``max_tokens`` a call may be lowered to before the budget
            refuses it.
    """

    on_event: Callable[[BaseEvent], None] | None

    def __init__(
        self,
        usd: float | None = None,
        tokens: int | None = None,
        *,
        per_agent: Mapping[str, float | AgentCap | Mapping[str, Any]] | None = None,
        warn_at: float = 0.8,
        prices: PriceTable | Mapping[str, Any] | str | Path | None = None,
        allow_unpriced: bool = False,
        min_output_tokens: int = 256,
    ) -> None:
        self._config = BudgetConfig.checked(
            usd=usd,
            tokens=tokens,
            warn_at=warn_at,
            allow_unpriced=allow_unpriced,
            min_output_tokens=min_output_tokens,
        )
        self._caps = parse_caps(per_agent)
        self.prices: PriceTable = resolve_prices(prices)
        self.on_event = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._open: dict[str, Reservation] = {}
        self._rates: dict[tuple[str, str], Rates | None] = {}
        self._total = Acc()
        self._by_agent: dict[str, Acc] = {}
        self._by_model: dict[str, Acc] = {}
        self._by_step: dict[str, Acc] = {}
        self._unpriced: set[str] = set()
        self._run = Scope("run", _femto_limit(usd), tokens, self._total, self._config.warn_at)
        self._agent_scopes: dict[str, Scope] = {}
        #: Set when a call was charged more than its reservation under a limit: no call starts.
        self._halted: BudgetExceeded | None = None

    # --- configuration ---------------------------------------------------------------------------

    @property
    def limit_usd(self) -> float | None:
        return self._config.usd

    @property
    def limit_tokens(self) -> int | None:
        return self._config.tokens

    @property
    def per_agent(self) -> Mapping[str, AgentCap]:
        return dict(self._caps)

    @property
    def warn_at(self) -> float:
        return self._config.warn_at

    @property
    def allow_unpriced(self) -> bool:
        return self._config.allow_unpriced

    @property
    def min_output_tokens(self) -> int:
        return self._config.min_output_tokens

    @property
    def unlimited(self) -> bool:
        """No run-wide limit and no per-agent cap: the budget only accounts."""
        return self._config.usd is None and self._config.tokens is None and not self._caps

    @property
    def limits(self) -> dict[str, Any]:
        """The limits as plain data: ``usd``, ``tokens``, ``per_agent``, ``warn_at``."""
        return {
            "usd": self._config.usd,
            "tokens": self._config.tokens,
            "per_agent": {name: cap.to_dict() for name, cap in self._caps.items()},
            "warn_at": self._config.warn_at,
        }

    def to_dict(self) -> dict[str, Any]:
        """The whole configuration (limits, options, price overrides) as JSON-safe data."""
        return {
            **self.limits,
            "allow_unpriced": self._config.allow_unpriced,
            "min_output_tokens": self._config.min_output_tokens,
            "prices": {model: p.to_dict() for model, p in self.prices.overrides.items()},
            "use_litellm_prices": self.prices.use_litellm,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Budget:
        """Rebuild a budget (without its spending) from ``to_dict()`` output."""
        cfg = BudgetConfig.from_data(data)
        table = PriceTable(cfg.prices, use_litellm=cfg.use_litellm_prices)
        return cls(
            cfg.usd,
            cfg.tokens,
            per_agent=cfg.per_agent,
            warn_at=cfg.warn_at,
            prices=table,
            allow_unpriced=cfg.allow_unpriced,
            min_output_tokens=cfg.min_output_tokens,
        )

    def with_limits(
        self, *, usd: Any = _KEEP, tokens: Any = _KEEP, per_agent: Any = _KEEP
    ) -> Budget:
        """A copy with new limits (``None`` removes one) that keeps this budget's spending.

        Open reservations are not carried over. Used to resume a stopped run with more money.
        """
        new = self._clone(
            self._config.usd if usd is _KEEP else usd,
            self._config.tokens if tokens is _KEEP else tokens,
            self._caps if per_agent is _KEEP else per_agent,
        )
        with self._lock:
            new._total.add_acc(self._total)
            for src, dst in (
                (self._by_agent, new._by_agent),
                (self._by_model, new._by_model),
                (self._by_step, new._by_step),
            ):
                for key, acc in src.items():
                    dst.setdefault(key, Acc()).add_acc(acc)
            new._unpriced |= self._unpriced
        return new

    def fresh(self) -> Budget:
        """A budget with the same configuration and nothing spent (one per run)."""
        return self._clone(self._config.usd, self._config.tokens, self._caps)

    def _clone(self, usd: Any, tokens: Any, per_agent: Any) -> Budget:
        new = Budget(
            usd,
            tokens,
            per_agent=per_agent,
            warn_at=self._config.warn_at,
            prices=self.prices,
            allow_unpriced=self._config.allow_unpriced,
            min_output_tokens=self._config.min_output_tokens,
        )
        new.on_event = self.on_event
        return new

    # --- state -----------------------------------------------------------------------------------

    @property
    def spent_usd(self) -> float:
        return to_usd(self._total.femto)

    @property
    def spent_tokens(self) -> int:
        return self._total.tokens

    @property
    def reserved_usd(self) -> float:
        return to_usd(self._run.reserved_femto)

    @property
    def reserved_tokens(self) -> int:
        return self._run.reserved_tokens

    @property
    def remaining_usd(self) -> float | None:
        """Dollars left for new calls (limit - spent - reserved, at least 0); ``None``: no limit."""
        left = self._run.left_femto()
        return None if left is None else to_usd(max(left, 0))

    @property
    def remaining_tokens(self) -> int | None:
        """Tokens left for new calls (limit - spent - reserved, at least 0); ``None``: no limit."""
        left = self._run.left_tokens()
        return None if left is None else max(left, 0)

    @property
    def open_reservations(self) -> int:
        return len(self._open)

    # --- reserve / settle ------------------------------------------------------------------------

    def reserve(
        self,
        *,
        agent: str,
        model_id: str,
        price_key: str,
        encoding: str | None,
        request: ModelRequest,
        step_id: str | None = None,
        candidates: Sequence[tuple[str, str]] = (),
        prompt_tokens: int | None = None,
    ) -> Reservation:
        """Set aside the worst-case cost of a call, or refuse it.

        The worst case is the prompt (``prompt_tokens`` if given, else counted with ``encoding``
        plus ``PROMPT_MARGIN``) plus ``request.settings.max_tokens`` of output, priced at the most expensive of the model
        and its ``candidates`` (fallbacks that may answer instead). When that does not fit, the
        output cap is lowered to what fits if that leaves at least ``min_output_tokens``.

        Raises:
            BudgetExceeded: the call does not fit in the run's or the agent's remaining budget.
            PriceError: a model has no known price and a dollar limit applies.
        """
        if self._halted is not None:
            raise self._halted
        if prompt_tokens is None:
            prompt_tokens = with_margin(count_request(request, encoding))
        requested = request.settings.max_tokens
        cap = self._caps.get(agent)
        usd_limited = self._run.limit_femto is not None or (cap is not None and cap.usd is not None)
        priced: list[Rates] = []  # the model's and each candidate's rates at this prompt size
        primary: Rates | None = None
        unpriced = False
        for i, (mid, key) in enumerate(((model_id, price_key), *candidates)):
            rates = self._rates_of(mid, key)
            if i == 0:
                primary = rates
            if rates is None:
                if usd_limited and not self._config.allow_unpriced:
                    raise PriceError(
                        f"no price known for model {mid!r} (price key {key!r}), so the budget "
                        "cannot tell what a call costs",
                        hint=f"set prices={{{mid!r}: {{'input_per_mtok': ..., "
                        "'output_per_mtok': ...}} or Budget(allow_unpriced=True) to count its "
                        "tokens only",
                    )
                unpriced = True
                rates = Rates.free()
            priced.append(rates.at(prompt_tokens))

        events: list[BaseEvent] = []
        error: BudgetExceeded | None = None
        with self._lock:
            scopes = (self._run,) if cap is None else (self._run, self._agent_scope(agent, cap))
            fit, binding = requested, None
            for scope in scopes:
                room = scope.room_for_output(prompt_tokens, priced)
                if room < fit:
                    fit, binding = room, scope
            if binding is not None and fit < self._config.min_output_tokens:
                error, event = exceeded(
                    binding,
                    agent=agent,
                    step_id=step_id,
                    prompt_tokens=prompt_tokens,
                    requested=requested,
                    priced=priced,
                    min_output_tokens=self._config.min_output_tokens,
                )
                events.append(event)
            else:
                granted = fit
                cost, best = max(
                    (prompt_tokens * r.worst_input + granted * r.output, i)
                    for i, r in enumerate(priced)
                )
                rid = f"r{next(self._ids)}"
                reservation = Reservation(
                    id=rid,
                    agent=agent,
                    model_id=model_id,
                    step_id=step_id,
                    prompt_tokens=prompt_tokens,
                    max_tokens=granted,
                    usd=to_usd(cost),
                    tokens=prompt_tokens + granted,
                    price=priced[best].price,
                    requested_max_tokens=requested,
                    unpriced=unpriced,
                    _femto=cost,
                    _rates=primary,
                    _scopes=scopes,
                )
                for scope in scopes:
                    scope.reserved_femto += cost
                    scope.reserved_tokens += reservation.tokens
                self._open[rid] = reservation
        self._emit(events)
        if error is not None:
            try:
                raise error
            finally:
                error = None  # this frame is in the error's traceback: no cycle back to it
        return reservation

    def settle(
        self,
        reservation: Reservation,
        usage: Usage,
        *,
        model_id: str | None = None,
        price_key: str | None = None,
        call_key: str = "",
    ) -> Usage:
        """Charge the provider's reported ``usage`` and free the rest of the reservation.

        Pass ``model_id``/``price_key`` when another model than the reserved one answered (a
        fallback): the call is then priced and recorded as that model's. Returns ``usage`` with
        ``cost_usd`` and ``unpriced`` filled in.

        Usage above the reservation is charged in full and reported (``BudgetOverrun``); when a
        limit applies to the call, the budget then refuses every further call
        (``raise_if_halted`` and ``reserve`` raise ``BudgetExceeded``).
        """
        rates = reservation._rates
        answered = reservation.model_id
        if model_id is not None:
            answered = model_id
            rates = self._rates_of(model_id, price_key or model_id.partition(":")[2])
        unpriced = rates is None
        femto = 0 if rates is None else rates.cost(usage)
        events: list[BaseEvent] = []
        with self._lock:
            if self._open.pop(reservation.id, None) is None:
                raise RuntimeError(
                    f"reservation {reservation.id} was already settled or released "
                    "(or belongs to another Budget)"
                )
            for scope in reservation._scopes:
                scope.reserved_femto -= reservation._femto
                scope.reserved_tokens -= reservation.tokens
            self._record(reservation.agent, answered, reservation.step_id, usage, femto, unpriced)
            self._check_warnings(
                reservation._scopes, reservation.agent, reservation.step_id, events
            )
            over = overrun(reservation, usage, femto, model=answered, call_key=call_key)
            if over is not None:
                error, event = over
                events.append(event)
                if error is not None and self._halted is None:
                    self._halted = error
        self._emit(events)
        return usage.model_copy(
            update={
                "cost_usd": to_usd(femto),
                "unpriced": unpriced,
                "requests": usage.requests or 1,
            }
        )

    def raise_if_halted(self) -> None:
        """Raise ``BudgetExceeded`` if a call overran its reservation under a limit."""
        if self._halted is not None:
            raise self._halted

    def release(self, reservation: Reservation) -> None:
        """Give a reservation back: the call failed before anything was billed. Idempotent."""
        with self._lock:
            if self._open.pop(reservation.id, None) is None:
                return
            for scope in reservation._scopes:
                scope.reserved_femto -= reservation._femto
                scope.reserved_tokens -= reservation.tokens

    def charge(self, *, agent: str, model_id: str, step_id: str | None, usage: Usage) -> None:
        """Record usage that is already priced (``usage.cost_usd``), without a reservation.

        Used on resume to restore spending from the journal, and to count calls whose outcome is
        unknown after a crash. May push spending past a limit: it records what happened.
        """
        femto = round(Fraction(usage.cost_usd) * FEMTO)
        events: list[BaseEvent] = []
        with self._lock:
            cap = self._caps.get(agent)
            scopes = (self._run,) if cap is None else (self._run, self._agent_scope(agent, cap))
            self._record(agent, model_id, step_id, usage, femto, usage.unpriced)
            self._check_warnings(scopes, agent, step_id, events)
        self._emit(events)

    def report(self) -> UsageReport:
        """A snapshot of what was spent, by agent, model and step."""
        with self._lock:
            return UsageReport(
                total=self._total.usage(),
                by_agent={k: a.usage() for k, a in self._by_agent.items() if a.requests},
                by_model={k: a.usage() for k, a in self._by_model.items()},
                by_step={k: a.usage() for k, a in self._by_step.items()},
                unpriced_models=sorted(self._unpriced),
                limits=self.limits,
                reserved_usd=self.reserved_usd,
                reserved_tokens=self.reserved_tokens,
                remaining_usd=self.remaining_usd,
                remaining_tokens=self.remaining_tokens,
            )

    # --- internals -------------------------------------------------------------------------------

    def _rates_of(self, model_id: str, price_key: str) -> Rates | None:
        key = (model_id, price_key)
        try:
            return self._rates[key]
        except KeyError:
            price = self.prices.lookup(model_id, price_key)
            rates = None if price is None else rates_for(price)
            self._rates[key] = rates
            return rates

    def _agent_scope(self, agent: str, cap: AgentCap) -> Scope:
        scope = self._agent_scopes.get(agent)
        if scope is None:
            acc = self._by_agent.setdefault(agent, Acc())
            scope = Scope(
                f"agent:{agent}", _femto_limit(cap.usd), cap.tokens, acc, self._config.warn_at
            )
            self._agent_scopes[agent] = scope
        return scope

    def _record(
        self,
        agent: str,
        model_id: str,
        step_id: str | None,
        usage: Usage,
        femto: int,
        unpriced: bool,
    ) -> None:
        self._total.add(usage, femto, unpriced)
        self._by_agent.setdefault(agent, Acc()).add(usage, femto, unpriced)
        self._by_model.setdefault(model_id, Acc()).add(usage, femto, unpriced)
        if step_id is not None:
            self._by_step.setdefault(step_id, Acc()).add(usage, femto, unpriced)
        if unpriced:
            self._unpriced.add(model_id)

    def _check_warnings(
        self, scopes: Sequence[Scope], agent: str, step_id: str | None, events: list[BaseEvent]
    ) -> None:
        events.extend(warning(s, agent, step_id) for s in scopes if s.should_warn())

    def _emit(self, events: list[BaseEvent]) -> None:
        callback = self.on_event
        if callback is not None:
            for event in events:
                callback(event)

    def __repr__(self) -> str:
        return (
            f"<Budget usd={self._config.usd} tokens={self._config.tokens} "
            f"spent=${self.spent_usd:.4f}/{self.spent_tokens} tokens>"
        )


def _femto_limit(usd: float | None) -> int | None:
    # Exact: never above the float the user wrote, so spent_usd <= usd holds as floats too.
    return None if usd is None else math.floor(Fraction(usd) * FEMTO)


__all__ = ["AgentCap", "Budget", "Reservation"]
