"""Price lookup: litellm's bundled map read offline, overrides from code and files."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from agentorch.budget import Budget, Price, PriceTable
from agentorch.budget.prices import litellm_price_file
from agentorch.errors import ConfigError


def test_default_table_loads_without_importing_litellm() -> None:
    code = textwrap.dedent(
        """
        import sys
        from agentorch.budget import PriceTable
        price = PriceTable.default().lookup("openai:gpt-4.1-mini", "gpt-4.1-mini")
        assert price is not None and price.input > 0, price
        assert "litellm" not in sys.modules, "litellm was imported"
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_default_is_cached() -> None:
    assert PriceTable.default() is PriceTable.default()
    assert litellm_price_file() is not None


def test_openai_price_from_litellm_map() -> None:
    price = PriceTable.default().lookup("openai:gpt-4.1-mini", "gpt-4.1-mini")
    assert price == Price(input=4e-07, output=1.6e-06, cached_input=1e-07)


def test_anthropic_price_has_cache_rates() -> None:
    price = PriceTable.default().lookup("anthropic:claude-sonnet-4-5", "claude-sonnet-4-5")
    assert price is not None
    assert (price.input, price.output) == (3e-06, 1.5e-05)
    assert (price.cached_input, price.cache_write) == (3e-07, 3.75e-06)


def test_litellm_provider_prefixed_key() -> None:
    table = PriceTable.default()
    price = table.lookup("litellm:azure/gpt-4o", "azure/gpt-4o")
    assert price is not None and price.input == 2.5e-06
    # A litellm route the map does not list falls back to the bare model name.
    bare = table.lookup("litellm:my_proxy/gpt-4o", "my_proxy/gpt-4o")
    assert bare == table.lookup("openai:gpt-4o", "gpt-4o")


def test_long_context_tiers() -> None:
    key = "bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0"
    price = PriceTable.default().lookup(f"litellm:{key}", key)
    assert price is not None and price.tiers
    threshold, tier = price.tiers[0]
    assert threshold == 200_000 and tier.input > price.input
    assert price.for_input(200_000) is price
    assert price.for_input(200_001) is tier


def test_test_models_are_free_unless_overridden() -> None:
    table = PriceTable.default()
    assert table.lookup("scripted:router", "router") == Price(0.0, 0.0)
    assert table.lookup("function:writer", "writer") == Price(0.0, 0.0)
    priced = table.with_overrides({"scripted:router": {"input": 1e-6, "output": 2e-6}})
    assert priced.lookup("scripted:router", "router") == Price(1e-6, 2e-6)


def test_unknown_model_is_none() -> None:
    assert PriceTable.default().lookup("openai:no-such-model-x", "no-such-model-x") is None


def test_override_order_model_id_then_price_key() -> None:
    table = PriceTable.default().with_overrides(
        {
            "gpt-4.1-mini": {"input_per_mtok": 1, "output_per_mtok": 2},
            "openai:gpt-4.1-mini": {"input_per_mtok": 3, "output_per_mtok": 4},
        }
    )
    assert table.lookup("openai:gpt-4.1-mini", "gpt-4.1-mini") == Price(3e-06, 4e-06)
    assert table.lookup("litellm:gpt-4.1-mini", "gpt-4.1-mini") == Price(1e-06, 2e-06)


def test_with_overrides_returns_new_table() -> None:
    base = PriceTable.default()
    new = base.with_overrides({"openai:x": Price(1e-6, 1e-6)})
    assert new is not base
    assert base.lookup("openai:x", "x") is None
    assert new.lookup("openai:x", "x") == Price(1e-6, 1e-6)


def test_override_per_mtok_with_cache_rates() -> None:
    table = PriceTable(
        {
            "acme:m": {
                "input_per_mtok": 2.0,
                "output_per_mtok": 6.0,
                "cached_input_per_mtok": 0.5,
                "cache_write_per_mtok": 2.5,
            }
        },
        use_litellm=False,
    )
    assert table.lookup("acme:m", "m") == Price(2e-06, 6e-06, 5e-07, 2.5e-06)


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ({"input_per_mtok": 1.0}, "required"),
        ({"input_per_mtok": 1.0, "output_per_mtok": -1}, ">= 0"),
        ({"input_per_mtok": 1.0, "output_per_mtok": 1.0, "input": 1e-6}, "not both"),
        ({"input_per_mtok": 1.0, "output_per_mtok": 1.0, "colour": "red"}, "colour"),
        (3.0, "must be a mapping"),
    ],
)
def test_bad_override_is_a_config_error(value: object, needle: str) -> None:
    with pytest.raises(ConfigError, match="acme:m") as info:
        PriceTable({"acme:m": value})  # type: ignore[dict-item]
    assert needle in str(info.value)


def test_prices_from_toml_file(tmp_path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        '["openai:gpt-4.1-mini"]\ninput_per_mtok = 0.5\noutput_per_mtok = 2.0\n'
        "cached_input_per_mtok = 0.125\n"
    )
    table = PriceTable.from_file(path)
    assert table.lookup("openai:gpt-4.1-mini", "gpt-4.1-mini") == Price(5e-07, 2e-06, 1.25e-07)
    # Everything else still comes from litellm's map.
    assert table.lookup("openai:gpt-4o", "gpt-4o") is not None


def test_prices_from_json_file_under_prices_key(tmp_path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"prices": {"local-llm": {"input": 0, "output": 0}}}))
    budget = Budget(usd=1.0, prices=str(path))
    assert budget.prices.lookup("litellm:ollama/local-llm", "local-llm") == Price(0.0, 0.0)


def test_missing_or_broken_price_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot read price file"):
        PriceTable.from_file(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[[")
    with pytest.raises(ConfigError, match="not valid"):
        PriceTable.from_file(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must map model names"):
        PriceTable.from_file(wrong)


def test_price_to_dict_round_trips() -> None:
    price = Price(4e-07, 1.6e-06, 1e-07)
    table = PriceTable({"m": price.to_dict()}, use_litellm=False)
    again = table.lookup("x:m", "m")
    assert again is not None
    assert again.input == pytest.approx(price.input)
    assert again.cached_input == pytest.approx(price.cached_input)
