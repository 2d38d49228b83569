"""Budget configuration: validated limits, per-agent caps and the price-table argument."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from agentorch.budget.prices import PriceTable
from agentorch.errors import ConfigError


@dataclass(frozen=True, slots=True)
class AgentCap:
    """One agent's cap: dollars, tokens, or both (``None`` = no cap on that dimension)."""

    usd: float | None = None
    tokens: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"usd": self.usd, "tokens": self.tokens}


class BudgetConfig(BaseModel):
    """The persisted form of a budget's configuration (``Budget.to_dict()``)."""

    model_config = ConfigDict(extra="forbid")

    usd: float | None = None
    tokens: int | None = None
    per_agent: dict[str, dict[str, Any]] = {}
    warn_at: float = 0.8
    allow_unpriced: bool = False
    min_output_tokens: int = 256
    prices: dict[str, dict[str, float]] = {}
    use_litellm_prices: bool = True

    @classmethod
    def checked(
        cls,
        *,
        usd: float | None,
        tokens: int | None,
        warn_at: float,
        allow_unpriced: bool,
        min_output_tokens: int,
    ) -> BudgetConfig:
        """Validate constructor arguments, raising ``ConfigError`` with the offending value."""
        _check_usd("usd", usd)
        _check_tokens("tokens", tokens)
        if isinstance(warn_at, bool) or not isinstance(warn_at, int | float):
            raise ConfigError(f"warn_at must be a number between 0 and 1, not {warn_at!r}")
        if not 0 < warn_at <= 1:
            raise ConfigError(f"warn_at must be in (0, 1], got {warn_at!r}")
        if isinstance(min_output_tokens, bool) or not isinstance(min_output_tokens, int):
            raise ConfigError(f"min_output_tokens must be an int, not {min_output_tokens!r}")
        if min_output_tokens < 1:
            raise ConfigError(f"min_output_tokens must be >= 1, got {min_output_tokens}")
        return cls.model_construct(
            usd=None if usd is None else float(usd),
            tokens=tokens,
            warn_at=float(warn_at),
            allow_unpriced=bool(allow_unpriced),
            min_output_tokens=min_output_tokens,
        )

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BudgetConfig:
        """Parse stored budget data, raising ``ConfigError`` if it is malformed."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise ConfigError(f"bad budget configuration: {exc}") from None


def _check_usd(name: str, usd: Any) -> None:
    if usd is None:
        return
    if isinstance(usd, bool) or not isinstance(usd, int | float):
        raise ConfigError(f"{name} must be a number of dollars or None, not {usd!r}")
    if not math.isfinite(usd) or usd < 0:
        raise ConfigError(f"{name} must be a finite amount >= 0, got {usd!r}")


def _check_tokens(name: str, tokens: Any) -> None:
    if tokens is None:
        return
    if isinstance(tokens, bool) or not isinstance(tokens, int):
        raise ConfigError(f"{name} must be an int or None, not {tokens!r}")
    if tokens < 0:
        raise ConfigError(f"{name} must be >= 0, got {tokens}")


def parse_caps(
    per_agent: Mapping[str, float | AgentCap | Mapping[str, Any]] | None,
) -> dict[str, AgentCap]:
    """Normalise ``per_agent``: a float is a dollar cap; an ``AgentCap`` or mapping sets both."""
    caps: dict[str, AgentCap] = {}
    for agent, value in (per_agent or {}).items():
        if isinstance(value, AgentCap):
            cap = value
        elif isinstance(value, Mapping):
            unknown = set(value) - {"usd", "tokens"}
            if unknown:
                raise ConfigError(
                    f"per_agent[{agent!r}] has unknown key(s) {sorted(unknown)}: use usd, tokens"
                )
            cap = AgentCap(usd=value.get("usd"), tokens=value.get("tokens"))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            cap = AgentCap(usd=float(value))
        else:
            raise ConfigError(
                f"per_agent[{agent!r}] must be a dollar amount or AgentCap(usd=..., tokens=...), "
                f"not {value!r}"
            )
        _check_usd(f"per_agent[{agent!r}].usd", cap.usd)
        _check_tokens(f"per_agent[{agent!r}].tokens", cap.tokens)
        caps[str(agent)] = cap
    return caps


def resolve_prices(prices: PriceTable | Mapping[str, Any] | str | Path | None) -> PriceTable:
    """The price table for a ``prices=`` argument (a table, overrides, or a file path)."""
    if prices is None:
        return PriceTable.default()
    if isinstance(prices, PriceTable):
        return prices
    if isinstance(prices, str | Path):
        return PriceTable.from_file(prices)
    if isinstance(prices, Mapping):
        return PriceTable.default().with_overrides(prices)
    raise ConfigError(
        f"prices must be a PriceTable, a mapping of model -> price, or a file path, not "
        f"{type(prices).__name__}"
    )
