"""The app the Temporal tests run: specialists whose model functions and side-effecting tool log
each real execution to files in WORKDIR, so a test can count what ran (and where)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from user_specialists import FramingSummarizer

from agentorch import Agent, Budget, DeferredApprover, FunctionModel, Supervisor, tool
from agentorch.approvals import ApproveAll, Approver
from agentorch.models.testing import text_response, tool_call_response
from agentorch.models.types import ModelRequest, ToolResultMessage
from agentorch.plan import Plan, Step

PRICES = {f"function:{n}": {"input": 1e-6, "output": 2e-6} for n in ("research", "book", "summary")}


def _log(workdir: Path, name: str, line: str) -> None:
    with open(workdir / name, "a") as f:
        f.write(f"{line} pid={os.getpid()}\n")


def make_supervisor(
    store: str,
    workdir: Path,
    *,
    approver: Approver | None = None,
    nested: bool = False,
    usd: float = 1.0,
    user: bool = False,
    deep: bool = False,
) -> Supervisor:
    """The test app; ``nested`` puts the bookkeeper under a nested supervisor (``office``),
    ``deep`` one level further down (``office`` > ``desk`` > bookkeeper); ``user`` makes the
    summarizer the user's own specialist (``user_specialists``)."""

    @tool(risk="write", idempotent=False, requires_approval=True)
    def append_line(text: str) -> str:
        """Append a line to the ledger (a side effect that must happen once)."""
        _log(workdir, "ledger.txt", text)
        return "appended"

    async def research(request: ModelRequest) -> str:
        _log(workdir, "calls.txt", "research")
        deadline = time.monotonic() + 60
        # the kill test holds the call here (heartbeating) until it has killed this worker
        while (workdir / "hold_research").exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return "research notes"

    def book(request: ModelRequest):  # type: ignore[no-untyped-def]
        done = [m for m in request.messages if isinstance(m, ToolResultMessage)]
        _log(workdir, "calls.txt", f"book:{len(done)}")
        if not done:
            return tool_call_response(("append_line", {"text": "invoice 42"}))
        return text_response("booked")

    def summary(request: ModelRequest) -> str:
        _log(workdir, "calls.txt", "summary")
        framed = str(request.messages[-1].content).startswith("[FRAMED]")
        return "all done (framed)" if framed else "all done"

    class Researcher(Agent):
        name = "researcher"
        description = "Researches."
        model = FunctionModel(research, name="research")

    class Bookkeeper(Agent):
        name = "bookkeeper"
        description = "Books invoices."
        model = FunctionModel(book, name="book")
        tools = ["append_line"]

    class Summarizer(FramingSummarizer if user else Agent):  # type: ignore[misc]
        name = "summarizer"
        description = "Summarizes."
        model = FunctionModel(summary, name="summary")

    budget = Budget(usd=usd, prices=PRICES)
    if nested or deep:
        booking_plan = Plan(
            steps=[Step(id="book", agent="bookkeeper", instruction="Book invoice 42.")]
        )
        office = Supervisor(
            [Bookkeeper()],
            tools=[append_line],
            plan=booking_plan,
            name="office",
            description="Keeps the books.",
        )
        if deep:
            desk = Supervisor(
                [Bookkeeper()],
                tools=[append_line],
                plan=booking_plan,
                name="desk",
                description="Books invoices at the front desk.",
            )
            office = Supervisor(
                [desk.as_agent()],
                plan=Plan(steps=[Step(id="desk", agent="desk", instruction="Book invoice 42.")]),
                name="office",
                description="Keeps the books.",
            )
        agents: list[Agent] = [Researcher(), office.as_agent(), Summarizer()]
        booking = Step(
            id="office", agent="office", instruction="Book invoice 42.", depends_on=["research"]
        )
    else:
        agents = [Researcher(), Bookkeeper(), Summarizer()]
        booking = Step(
            id="book", agent="bookkeeper", instruction="Book invoice 42.", depends_on=["research"]
        )
    plan = Plan(
        steps=[
            Step(id="research", agent="researcher", instruction="Research the invoice."),
            booking,
            Step(id="sum", agent="summarizer", instruction="Summarize.", depends_on=[booking.id]),
        ]
    )
    return Supervisor(
        agents,
        tools=[append_line],
        plan=plan,
        budget=budget,
        store=store,
        approver=approver if approver is not None else DeferredApprover(),
        name="books",
    )


__all__ = ["ApproveAll", "make_supervisor"]
