"""What the budget tells the world: ``BudgetWarning`` and ``BudgetExceeded`` (error and event)."""

from __future__ import annotations

from collections.abc import Sequence

from agentorch.budget._ledger import Rates, Scope, to_usd
from agentorch.errors import BudgetExceeded
from agentorch.events.types import BudgetExceededEvent, BudgetWarning

RESUME_HINT = (
    "raise the budget and resume the run, e.g. supervisor.resume(run_id, budget=Budget(usd=...)),"
    " or shorten the prompt"
)


def fmt_usd(usd: float) -> str:
    return f"${usd:.2e}" if 0 < usd < 0.0001 else f"${usd:,.4f}"


def warning(scope: Scope, agent: str, step_id: str | None) -> BudgetWarning:
    """The event for ``scope`` crossing its ``warn_at`` fraction (``run_id``/``ts`` left unset)."""
    return BudgetWarning(
        scope=scope.name,
        agent=agent,
        step_id=step_id,
        spent_usd=to_usd(scope.acc.femto),
        spent_tokens=scope.acc.tokens,
        limit_usd=None if scope.limit_femto is None else to_usd(scope.limit_femto),
        limit_tokens=scope.limit_tokens,
        fraction=scope.fraction_spent(),
    )


def exceeded(
    scope: Scope,
    *,
    agent: str,
    step_id: str | None,
    prompt_tokens: int,
    requested: int,
    priced: Sequence[Rates],
    min_output_tokens: int,
) -> tuple[BudgetExceeded, BudgetExceededEvent]:
    """The error and event for a call that does not fit in ``scope``: requested vs remaining."""
    need_femto = max(prompt_tokens * r.worst_input + requested * r.output for r in priced)
    need_tokens = prompt_tokens + requested
    left_femto, left_tokens = scope.left_femto(), scope.left_tokens()
    left_usd = None if left_femto is None else to_usd(max(left_femto, 0))
    left_tok = None if left_tokens is None else max(left_tokens, 0)
    remaining = []
    if left_usd is not None:
        remaining.append(fmt_usd(left_usd))
    if left_tok is not None:
        remaining.append(f"{left_tok:,} tokens")
    where = "the run" if scope.name == "run" else f"agent {agent!r}"
    message = (
        f"budget exceeded for {where}: this call needs up to {fmt_usd(to_usd(need_femto))} "
        f"and {need_tokens:,} tokens ({prompt_tokens:,} prompt + {requested:,} max output) "
        f"but only {' and '.join(remaining)} remain, too little for the prompt plus "
        f"min_output_tokens={min_output_tokens:,}"
    )
    error = BudgetExceeded(message, scope=scope.name, hint=RESUME_HINT)
    event = BudgetExceededEvent(
        scope=scope.name,
        agent=agent,
        step_id=step_id,
        requested_usd=to_usd(need_femto),
        remaining_usd=left_usd,
        requested_tokens=need_tokens,
        remaining_tokens=left_tok,
        message=message,
    )
    return error, event
