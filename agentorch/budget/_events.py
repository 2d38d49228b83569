"""What the budget tells the world: ``BudgetWarning`` and ``BudgetExceeded`` (error and event)."""

from __future__ import annotations

from collections.abc import Sequence

from agentorch.budget._ledger import Rates, Reservation, Scope, to_usd
from agentorch.errors import BudgetExceeded
from agentorch.events.types import BudgetExceededEvent, BudgetOverrun, BudgetWarning
from agentorch.models.types import Usage

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


def overrun(
    reservation: Reservation, usage: Usage, femto: int, *, model: str, call_key: str
) -> tuple[BudgetExceeded | None, BudgetOverrun] | None:
    """The event (and, under a limit, the error that stops the run) for a call charged more
    than its reservation; ``None`` when it stayed within it."""
    tokens = usage.input_tokens + usage.output_tokens
    over_usd = femto > reservation._femto
    over_tokens = tokens > reservation.tokens
    if not (over_usd or over_tokens):
        return None
    scopes = reservation._scopes
    stops = (over_usd and any(s.limit_femto is not None for s in scopes)) or (
        over_tokens and any(s.limit_tokens is not None for s in scopes)
    )
    estimated = " (estimated: the provider reported no usage)" if usage.estimated else ""
    message = (
        f"model call {call_key or reservation.id} of agent {reservation.agent!r} ({model}) was "
        f"charged {fmt_usd(to_usd(femto))} and {tokens:,} tokens{estimated} but reserved only "
        f"{fmt_usd(reservation.usd)} and {reservation.tokens:,} tokens"
    )
    if stops:
        message += ": the run stops so that spending stays bounded"
    event = BudgetOverrun(
        agent=reservation.agent,
        step_id=reservation.step_id,
        call_key=call_key,
        model=model,
        reserved_usd=reservation.usd,
        charged_usd=to_usd(femto),
        reserved_tokens=reservation.tokens,
        charged_tokens=tokens,
        stopped=stops,
        message=message,
    )
    error = BudgetExceeded(message, hint=RESUME_HINT) if stops else None
    return error, event
