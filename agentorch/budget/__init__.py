"""The run-wide budget: token counting, prices, reservations before calls, settlement after.

``Budget`` is the one object every model call of a run goes through: ``reserve`` before the call
(refusing it if its worst case does not fit), ``settle`` after it with the provider's usage.
"""

from __future__ import annotations

from agentorch.budget.budget import Budget, Reservation
from agentorch.budget.config import AgentCap
from agentorch.budget.prices import Price, PriceTable
from agentorch.budget.report import UsageReport
from agentorch.budget.tokens import count_request, count_text

__all__ = [
    "AgentCap",
    "Budget",
    "Price",
    "PriceTable",
    "Reservation",
    "UsageReport",
    "count_request",
    "count_text",
]
