"""A nested workflow run in a subprocess by the crash tests; it kills itself with SIGKILL at a chosen point.

usage: nested_crash_app.py STORE_URL WORKDIR (run|resume RUN_ID), the kill point in $CRASH_AT.
The outer supervisor delegates to an inner one (``ops``: research, then book an invoice through a
side-effecting tool that needs approval), then summarises (shared parts in ``_crash_parts.py``).
"""

from __future__ import annotations

from _crash_parts import (
    PRICES,
    Bookkeeper,
    Researcher,
    Summarizer,
    append_line,
    bookkeeper,
    decide,
    research,
    run_or_resume,
    store_url,
    summary,
)

from agentorch import Budget, CallbackApprover, FunctionModel, Plan, Step, Supervisor

inner = Supervisor(
    [Researcher(model=FunctionModel(research)), Bookkeeper(model=FunctionModel(bookkeeper))],
    tools=[append_line],
    plan=Plan(
        steps=[
            Step(id="research", agent="researcher", instruction="Research"),
            Step(id="book", agent="bookkeeper", instruction="Book it", depends_on=["research"]),
        ],
        final_step="book",
    ),
    approver=CallbackApprover(decide),
    name="ops",
    description="Researches and books invoices.",
)
sup = Supervisor(
    [inner.as_agent(), Summarizer(model=FunctionModel(summary))],
    tools=[append_line],  # registered on both, as a user may; the inner registry governs ops
    approver=CallbackApprover(decide),
    plan=Plan(
        steps=[
            Step(id="ops", agent="ops", instruction="Book the invoice"),
            Step(id="sum", agent="summarizer", instruction="Summarise", depends_on=["ops"]),
        ],
        final_step="sum",
    ),
    store=store_url,
    budget=Budget(usd=1.0, prices=PRICES),
)
run_or_resume(
    sup,
    "nested",
    steps=lambda result: sorted(s.step_id for s in sup.store.get_steps(result.run_id)),  # type: ignore[union-attr]
)
