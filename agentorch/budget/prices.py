"""Model prices: litellm's bundled price map, read offline, plus the user's overrides.

The map ships inside the litellm wheel as ``model_prices_and_context_window_backup.json``. It is
found with ``importlib.util.find_spec`` and parsed with ``json``: importing litellm itself takes
seconds and may try to fetch a fresher map over the network, which a budget must never depend on.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import re
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from agentorch.errors import ConfigError

PRICE_FILE = "model_prices_and_context_window_backup.json"
#: Providers whose models are deterministic test doubles: free unless a price is set for them.
FREE_PROVIDERS = frozenset({"scripted", "function"})
_MTOK = 1_000_000
_TIER_KEY = re.compile(
    r"^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|"
    r"cache_creation_input_token_cost)_above_(\d+)k_tokens$"
)


@dataclass(frozen=True, slots=True)
class Price:
    """USD per token. ``None`` cache rates mean "billed at the input rate".

    ``tiers`` holds the long-context rates some providers charge once a request's input passes a
    threshold: ``((200_000, Price(...)), ...)``, ascending; the highest threshold passed applies.
    """

    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None
    tiers: tuple[tuple[int, Price], ...] = ()

    def for_input(self, input_tokens: int) -> Price:
        """The price that applies to a request with ``input_tokens`` of input (its tier)."""
        chosen = self
        for threshold, tier in self.tiers:
            if input_tokens > threshold:
                chosen = tier
        return chosen

    def to_dict(self) -> dict[str, float]:
        """The per-million-token form used in price files (tiers are not written)."""
        out = {"input_per_mtok": self.input * _MTOK, "output_per_mtok": self.output * _MTOK}
        if self.cached_input is not None:
            out["cached_input_per_mtok"] = self.cached_input * _MTOK
        if self.cache_write is not None:
            out["cache_write_per_mtok"] = self.cache_write * _MTOK
        return out


FREE = Price(0.0, 0.0)


class _PriceSpec(BaseModel):
    """A user-written price: per million tokens (``*_per_mtok``) or per token (``input``...)."""

    model_config = ConfigDict(extra="forbid")

    input_per_mtok: float | None = None
    output_per_mtok: float | None = None
    cached_input_per_mtok: float | None = None
    cache_write_per_mtok: float | None = None
    input: float | None = None
    output: float | None = None
    cached_input: float | None = None
    cache_write: float | None = None

    @model_validator(mode="after")
    def _check(self) -> _PriceSpec:
        values = self.model_dump(exclude_none=True)
        if any(not math.isfinite(v) or v < 0 for v in values.values()):
            raise ValueError("prices must be finite and >= 0")
        per_mtok = any(k.endswith("_per_mtok") for k in values)
        per_token = any(not k.endswith("_per_mtok") for k in values)
        if per_mtok and per_token:
            raise ValueError("use either the *_per_mtok keys or the per-token keys, not both")
        if per_mtok and (self.input_per_mtok is None or self.output_per_mtok is None):
            raise ValueError("input_per_mtok and output_per_mtok are required")
        if not per_mtok and (self.input is None or self.output is None):
            raise ValueError("input_per_mtok and output_per_mtok are required")
        return self

    def to_price(self) -> Price:
        if self.input_per_mtok is not None and self.output_per_mtok is not None:
            return Price(
                input=self.input_per_mtok / _MTOK,
                output=self.output_per_mtok / _MTOK,
                cached_input=_scaled(self.cached_input_per_mtok),
                cache_write=_scaled(self.cache_write_per_mtok),
            )
        assert self.input is not None and self.output is not None  # checked by _check
        return Price(self.input, self.output, self.cached_input, self.cache_write)


def _scaled(per_mtok: float | None) -> float | None:
    return None if per_mtok is None else per_mtok / _MTOK


def parse_price(model: str, value: Price | Mapping[str, Any]) -> Price:
    """Turn one user-given price into a ``Price``, or raise ``ConfigError`` naming the model."""
    if isinstance(value, Price):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"price for {model!r} must be a mapping like "
            "{'input_per_mtok': 0.4, 'output_per_mtok': 1.6}, "
            f"not {type(value).__name__}"
        )
    try:
        return _PriceSpec.model_validate(dict(value)).to_price()
    except ValidationError as exc:
        problems = "; ".join(
            (".".join(str(p) for p in err["loc"]) + ": " if err["loc"] else "") + err["msg"]
            for err in exc.errors()
        )
        raise ConfigError(
            f"bad price for {model!r}: {problems}",
            hint="expected keys: input_per_mtok, output_per_mtok, cached_input_per_mtok, "
            "cache_write_per_mtok (USD per million tokens)",
        ) from None


def litellm_price_file() -> Path | None:
    """Where the installed litellm keeps its bundled price map (``None`` without litellm)."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / PRICE_FILE
    return path if path.is_file() else None


@functools.cache
def _litellm_table() -> Mapping[str, Mapping[str, Any]]:
    path = litellm_price_file()
    if path is None:
        return MappingProxyType({})
    with path.open("rb") as fh:
        data = json.load(fh)
    data.pop("sample_spec", None)
    return MappingProxyType(data)


def _rate(entry: Mapping[str, Any], key: str) -> float | None:
    value = entry.get(key)
    return float(value) if isinstance(value, int | float) else None


def price_from_litellm(entry: Mapping[str, Any]) -> Price | None:
    """A ``Price`` from one litellm map entry; ``None`` if it has no per-token text rates."""
    input_rate = _rate(entry, "input_cost_per_token")
    output_rate = _rate(entry, "output_cost_per_token")
    if input_rate is None and output_rate is None:
        return None
    base = Price(
        input=input_rate or 0.0,
        output=output_rate or 0.0,
        cached_input=_rate(entry, "cache_read_input_token_cost"),
        cache_write=_rate(entry, "cache_creation_input_token_cost"),
    )
    by_threshold: dict[int, dict[str, float]] = {}
    for key, value in entry.items():
        match = _TIER_KEY.match(key)
        if match and isinstance(value, int | float):
            by_threshold.setdefault(int(match.group(2)) * 1000, {})[match.group(1)] = float(value)
    tiers = []
    for threshold in sorted(by_threshold):
        rates = by_threshold[threshold]
        tiers.append(
            (
                threshold,
                Price(
                    input=rates.get("input_cost_per_token", base.input),
                    output=rates.get("output_cost_per_token", base.output),
                    cached_input=rates.get("cache_read_input_token_cost", base.cached_input),
                    cache_write=rates.get("cache_creation_input_token_cost", base.cache_write),
                ),
            )
        )
    return Price(base.input, base.output, base.cached_input, base.cache_write, tuple(tiers))


class PriceTable:
    """Looks a model's price up: the user's overrides first, then litellm's bundled map.

    Tables are immutable: ``with_overrides`` returns a new one. The litellm map is parsed once per
    process, on the first lookup that needs it.
    """

    _default: PriceTable | None = None
    _default_lock = threading.Lock()

    def __init__(
        self,
        overrides: Mapping[str, Price | Mapping[str, Any]] | None = None,
        *,
        use_litellm: bool = True,
    ) -> None:
        self._overrides: dict[str, Price] = {
            str(model): parse_price(str(model), value) for model, value in (overrides or {}).items()
        }
        self.use_litellm = use_litellm
        self._cache: dict[tuple[str, str], Price | None] = {}

    @classmethod
    def default(cls) -> PriceTable:
        """The shared table of litellm's bundled prices, without overrides."""
        if cls._default is None:
            with cls._default_lock:
                if cls._default is None:
                    cls._default = PriceTable()
        return cls._default

    @classmethod
    def from_file(cls, path: str | Path) -> PriceTable:
        """The default table with overrides from a TOML or JSON file.

        The file maps model ids (or price keys) to prices, at the top level or under ``[prices]``::

            ["openai:gpt-4.1-mini"]
            input_per_mtok = 0.40
            output_per_mtok = 1.60
            cached_input_per_mtok = 0.10
        """
        return cls.default().with_overrides(load_price_file(path))

    @property
    def overrides(self) -> Mapping[str, Price]:
        return MappingProxyType(self._overrides)

    def with_overrides(self, overrides: Mapping[str, Price | Mapping[str, Any]]) -> PriceTable:
        """A new table whose overrides are this one's updated with ``overrides``."""
        merged: dict[str, Price | Mapping[str, Any]] = dict(self._overrides)
        merged.update(overrides)
        return PriceTable(merged, use_litellm=self.use_litellm)

    def lookup(self, model_id: str, price_key: str) -> Price | None:
        """The price of ``model_id`` (``"provider:name"``) whose model's price key is ``price_key``.

        Tried in order: overrides by ``model_id``, ``price_key`` and ``provider/price_key``;
        scripted and function test models (free); litellm's map by ``price_key``,
        ``provider/price_key``, and for ``litellm:`` models the name after the provider prefix
        (``azure/gpt-4o`` -> ``gpt-4o``). ``None`` when nothing matches.
        """
        key = (model_id, price_key)
        try:
            return self._cache[key]
        except KeyError:
            pass
        price = self._find(model_id, price_key)
        self._cache[key] = price
        return price

    def _find(self, model_id: str, price_key: str) -> Price | None:
        provider = model_id.partition(":")[0]
        for name in (model_id, price_key, f"{provider}/{price_key}"):
            if name in self._overrides:
                return self._overrides[name]
        if provider in FREE_PROVIDERS:
            return FREE
        if not self.use_litellm:
            return None
        table = _litellm_table()
        names = [price_key, f"{provider}/{price_key}"]
        if provider == "litellm" and "/" in price_key:
            names.append(price_key.split("/", 1)[1])
        for name in names:
            entry = table.get(name)
            if entry is not None:
                price = price_from_litellm(entry)
                if price is not None:
                    return price
        return None

    def __repr__(self) -> str:
        return f"<PriceTable overrides={len(self._overrides)} litellm={self.use_litellm}>"


def load_price_file(path: str | Path) -> dict[str, Price]:
    """Parse a TOML or JSON price file into ``{model: Price}``; ``ConfigError`` if it is bad."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read price file {str(path)!r}: {exc.strerror or exc}") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"price file {str(path)!r} is not valid: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("prices"), dict) and len(data) == 1:
        data = data["prices"]
    if not isinstance(data, dict):
        raise ConfigError(f"price file {str(path)!r} must map model names to prices")
    return {str(model): parse_price(str(model), value) for model, value in data.items()}
