"""``--review-plan``: show the plan before anything is spent; approve, drop or edit steps, or cancel."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from agentorch.errors import RunCancelled
from agentorch.plan import Plan, Step, validate_plan

if TYPE_CHECKING:
    pass

MENU = "[a]pprove / [d]rop STEP / [e]dit STEP / [c]ancel: "


class PlanCancelled(RunCancelled):
    """The person cancelled the run at the plan review; nothing was spent on steps."""


def plan_table(plan: Plan) -> Table:
    """The plan as a table: one row per step, with what it needs and its instruction."""
    table = Table(title="Plan", title_justify="left", title_style="bold", header_style="bold")
    table.add_column("step", style="bold")
    table.add_column("agent", style="cyan")
    table.add_column("risk")
    table.add_column("after")
    table.add_column("instruction", overflow="fold")
    for step in plan.steps:
        after = ", ".join(step.depends_on)
        if step.reviews:
            after = (after + ", " if after else "") + f"reviews {step.reviews}"
        name = step.id + (" ★" if step.id == plan.final_step else "")
        risk = Text(step.risk, style="red" if step.risk == "high" else "")
        table.add_row(name, step.agent, risk, after, step.instruction)
    return table


def drop_step(plan: Plan, step_id: str) -> Plan:
    """The plan without ``step_id``, its reviewers, and the links to them."""
    plan.step(step_id)  # KeyError when unknown
    dropped = {step_id} | {s.id for s in plan.steps if s.reviews == step_id}
    steps = [
        s.model_copy(update={"depends_on": [d for d in s.depends_on if d not in dropped]})
        for s in plan.steps
        if s.id not in dropped
    ]
    final = plan.final_step if plan.final_step not in dropped else None
    return plan.model_copy(update={"steps": steps, "final_step": final})


def edit_step(plan: Plan, step_id: str, instruction: str) -> Plan:
    """The plan with a new instruction for ``step_id``."""
    plan.step(step_id)
    steps: list[Step] = [
        s.model_copy(update={"instruction": instruction}) if s.id == step_id else s
        for s in plan.steps
    ]
    return plan.model_copy(update={"steps": steps})


def review_plan(
    plan: Plan,
    agents: Iterable[str],
    *,
    console: Console,
    ask: Callable[[str], str],
) -> Plan:
    """Show ``plan`` and let the person approve, drop or edit steps, or cancel.

    Raises:
        PlanCancelled: the person cancelled (also at end of input).
    """
    known = list(agents)
    console.print(plan_table(plan))
    while True:
        try:
            answer = ask(MENU).strip()
        except EOFError:
            raise PlanCancelled("plan review ended without an answer; nothing was run") from None
        word, _, arg = answer.partition(" ")
        word, arg = word.lower(), arg.strip()
        if word in ("a", "approve", "y", "yes"):
            errors = validate_plan(plan, known)
            if errors:
                console.print(Text("The plan is not valid: " + "; ".join(errors), style="red"))
                continue
            return plan
        if word in ("c", "cancel", "q", "quit"):
            raise PlanCancelled("run cancelled at the plan review; nothing was run")
        if word in ("d", "drop", "e", "edit"):
            step_id = arg or ask("Step id: ").strip()
            if step_id not in plan.ids:
                console.print(
                    Text(f"No step {step_id!r}; steps: {', '.join(plan.ids)}", style="yellow")
                )
                continue
            if word.startswith("d"):
                if len(plan.steps) == 1:
                    console.print(Text("That is the only step; cancel instead.", style="yellow"))
                    continue
                plan = drop_step(plan, step_id)
            else:
                console.print(Text(f"Current: {plan.step(step_id).instruction}", style="dim"))
                text = ask("New instruction (empty: keep): ").strip()
                if text:
                    plan = edit_step(plan, step_id, text)
            console.print(plan_table(plan))
            continue
        console.print(Text(f"Please answer: {MENU.rstrip(': ')}", style="yellow"))


__all__ = [
    "PlanCancelled",
    "drop_step",
    "edit_step",
    "plan_table",
    "review_plan",
]
