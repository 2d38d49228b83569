"""What a run has spent according to its journal, for a resumed run's budget.

A model call left ``started`` by a killed process may have been billed: it is charged at its
reservation, and the attempts an entry carries from earlier crashes stay charged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentorch.store.base import JournalEntry

if TYPE_CHECKING:
    from agentorch.budget import Budget
    from agentorch.store.base import Store


def killed_attempts(entry: JournalEntry | None) -> list[dict[str, Any]]:
    """The reservations of earlier attempts of a model call that were killed in flight.

    An entry left ``started`` is an attempt whose outcome is unknown (it may have been billed); the
    attempts an entry already carries (from earlier crashes) stay with it, whatever its status.
    """
    if entry is None:
        return []
    request = entry.request if isinstance(entry.request, dict) else {}
    carried = [dict(k) for k in request.get("killed", ()) if isinstance(k, dict)]
    if entry.status == "started":
        carried.append(
            {
                "reserved_usd": request.get("reserved_usd", 0.0),
                "reserved_tokens": request.get("reserved_tokens", 0),
            }
        )
    return carried


def restore_spend(budget: Budget, store: Store, run_id: str) -> None:
    """On resume: charge what the journal says was spent, and what may have been (calls in doubt)."""
    from agentorch.models.types import Usage

    for entry in store.journal(run_id, kind="model"):
        agent = (entry.request or {}).get("agent", "unknown")
        # every attempt killed in flight, in this crash or an earlier one, at its reservation
        for attempt in killed_attempts(entry):
            budget.charge(
                agent=agent,
                model_id=entry.name,
                step_id=entry.step_id,
                usage=Usage(
                    input_tokens=attempt["reserved_tokens"],
                    cost_usd=attempt["reserved_usd"],
                    requests=1,
                ),
            )
        if entry.status == "completed" and entry.usage:
            budget.charge(
                agent=agent,
                model_id=entry.name,
                step_id=entry.step_id,
                usage=Usage.model_validate(entry.usage),
            )
