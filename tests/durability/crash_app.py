"""A small workflow run in a subprocess by the crash tests; it kills itself with SIGKILL at a chosen point.

usage: crash_app.py STORE_URL WORKDIR (run|resume RUN_ID), the kill point in $CRASH_AT.
Research, then book an invoice through a side-effecting tool that needs approval, then summarise
(the shared parts are in ``_crash_parts.py``).
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

plan = Plan(
    steps=[
        Step(id="research", agent="researcher", instruction="Research"),
        Step(
            id="book", agent="bookkeeper", instruction="Book the invoice", depends_on=["research"]
        ),
        Step(id="sum", agent="summarizer", instruction="Summarise", depends_on=["book"]),
    ],
    final_step="sum",
)
sup = Supervisor(
    [
        Researcher(model=FunctionModel(research, delay=0.05)),
        Bookkeeper(model=FunctionModel(bookkeeper)),
        Summarizer(model=FunctionModel(summary)),
    ],
    tools=[append_line],
    plan=plan,
    store=store_url,
    budget=Budget(usd=1.0, prices=PRICES),
    approver=CallbackApprover(decide),
)
run_or_resume(sup, "crash")
