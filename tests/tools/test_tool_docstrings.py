"""A tool's description and argument descriptions come from its docstring, in any common style."""

from __future__ import annotations

from typing import Any

import pytest

from agentorch import tool


def google(sku: str, qty: int = 1) -> float:
    """Look up the list price of a SKU.

    Prices come from the current rate card.

    Args:
        sku: The stock-keeping unit,
            as printed on the quote.
        qty: How many units.

    Returns:
        The price in dollars.
    """
    return 0.0


def numpy(sku: str, qty: int = 1) -> float:
    """Look up the list price of a SKU.

    Prices come from the current rate card.

    Parameters
    ----------
    sku : str
        The stock-keeping unit,
        as printed on the quote.
    qty : int, optional
        How many units.

    Returns
    -------
    float
        The price in dollars.
    """
    return 0.0


def sphinx(sku: str, qty: int = 1) -> float:
    """Look up the list price of a SKU.

    Prices come from the current rate card.

    :param sku: The stock-keeping unit,
        as printed on the quote.
    :param qty: How many units.
    :returns: The price in dollars.
    """
    return 0.0


def epydoc(sku: str, qty: int = 1) -> float:
    """Look up the list price of a SKU.

    Prices come from the current rate card.

    @param sku: The stock-keeping unit,
        as printed on the quote.
    @param qty: How many units.
    @return: The price in dollars.
    """
    return 0.0


@pytest.mark.parametrize("function", [google, numpy, sphinx, epydoc])
def test_every_docstring_style_gives_the_same_schema(function: Any) -> None:
    schema = tool(risk="read")(function).schema()
    assert schema.description == (
        "Look up the list price of a SKU.\n\nPrices come from the current rate card."
    )
    properties = schema.parameters["properties"]
    assert properties["sku"]["description"] == "The stock-keeping unit, as printed on the quote."
    assert properties["qty"]["description"] == "How many units."


def test_a_one_line_docstring_and_none() -> None:
    @tool(risk="read")
    def ping() -> str:
        """Answer pong."""
        return "pong"

    @tool(risk="read")
    def bare() -> str:
        return ""

    assert ping.schema().description == "Answer pong."
    assert bare.schema().description == "bare"  # no docstring: the name stands in
