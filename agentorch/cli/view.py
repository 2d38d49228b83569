"""The live terminal view of a run: plan tree with step states, spend bar, per-agent cost, streamed text.

``LiveView`` is a subscriber of the run's event stream. Its ``Console`` is injectable, so tests
render it to a string; ``pause()``/``resume()`` stop the live display while a prompt is shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from agentorch.cli.state import (
    APPROVAL,
    DONE,
    FAILED,
    RUNNING,
    SKIPPED,
    WAITING,
    RunState,
    StepView,
    fmt_elapsed,
    fmt_usd,
)
from agentorch.events.redact import Redactor
from agentorch.events.types import BaseEvent

#: (icon, style) per step state; plain ASCII-safe fallbacks are not needed: rich degrades.
STATE_STYLE: dict[str, tuple[str, str]] = {
    WAITING: ("·", "dim"),
    RUNNING: ("▶", "bold cyan"),
    DONE: ("✔", "green"),
    FAILED: ("✖", "bold red"),
    SKIPPED: ("↷", "yellow"),
    APPROVAL: ("⏸", "bold magenta"),
}
STATUS_STYLE = {
    "succeeded": "bold green",
    "failed": "bold red",
    "waiting_approval": "bold magenta",
    "budget_exceeded": "bold yellow",
    "in_doubt": "bold yellow",
    "interrupted": "bold yellow",
    "cancelled": "yellow",
    "running": "cyan",
    "pending": "dim",
}
_STREAM_LINES = 6


def render_step(step: StepView, *, final: bool = False) -> Text:
    """One line of the plan tree: state, id, agent, model, cost, note."""
    icon, style = STATE_STYLE.get(step.state, ("?", ""))
    line = Text()
    line.append(f"{icon} ", style=style)
    line.append(step.id, style="bold")
    line.append(f"  {step.agent}", style="cyan")
    if step.model:
        line.append(f"  {step.model}", style="dim")
    line.append(f"  {step.state}", style=style)
    if step.revision:
        line.append(f" (rev {step.revision})", style="yellow")
    if step.tokens or step.cost_usd:
        line.append(f"  {fmt_usd(step.cost_usd)} · {step.tokens:,} tok", style="dim")
    if step.risk == "high":
        line.append("  high risk", style="red")
    if final:
        line.append("  ★ final", style="dim")
    if step.note and step.state != DONE:
        line.append(f"  — {step.note}", style="italic dim")
    return line


def render_plan(state: RunState) -> RenderableType:
    """The plan as a tree; reviewer steps hang under the step they review."""
    counts = state.counts()
    done = counts.get(DONE, 0)
    title = Text("Plan", style="bold")
    if state.steps:
        title.append(f"  {done}/{len(state.steps)} done", style="dim")
        if state.plan_source:
            title.append(f"  ({state.plan_source})", style="dim")
    else:
        title.append("  planning…", style="dim")
    tree = Tree(title, guide_style="dim")
    nodes: dict[str, Tree] = {}
    for step in state.ordered_steps():
        parent = nodes.get(step.reviews or "", tree)
        nodes[step.id] = parent.add(render_step(step, final=step.id == state.final_step))
    return tree


def render_spend(state: RunState, width: int = 30) -> RenderableType:
    """The spend bar against the budget (dollars, else tokens), plus the elapsed time."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_column()
    spent, tokens = state.total.cost_usd, state.total.tokens
    if state.limit_usd:
        fraction = spent / state.limit_usd
        bar = ProgressBar(
            total=state.limit_usd,
            completed=min(spent, state.limit_usd),
            width=width,
            complete_style=_bar_style(fraction),
            finished_style="red",
        )
        grid.add_row(
            "Spend", bar, Text(f"{fmt_usd(spent)} / {fmt_usd(state.limit_usd)} ({fraction:.0%})")
        )
    if state.limit_tokens:
        fraction = tokens / state.limit_tokens
        bar = ProgressBar(
            total=state.limit_tokens,
            completed=min(tokens, state.limit_tokens),
            width=width,
            complete_style=_bar_style(fraction),
            finished_style="red",
        )
        grid.add_row("Tokens", bar, Text(f"{tokens:,} / {state.limit_tokens:,} ({fraction:.0%})"))
    if not state.limit_usd and not state.limit_tokens:
        grid.add_row(
            "Spend",
            Text(f"{fmt_usd(spent)} · {tokens:,} tokens"),
            Text("(no budget limit)", style="dim"),
        )
    grid.add_row("Elapsed", Text(fmt_elapsed(state.elapsed)), Text(""))
    return grid


def _bar_style(fraction: float) -> str:
    return "red" if fraction >= 0.9 else "yellow" if fraction >= 0.7 else "green"


def render_agents(state: RunState) -> RenderableType | None:
    """Cost per agent so far."""
    if not state.by_agent:
        return None
    table = Table(box=None, padding=(0, 2), show_edge=False, header_style="bold dim")
    table.add_column("agent")
    table.add_column("calls", justify="right")
    table.add_column("tokens", justify="right")
    table.add_column("cost", justify="right")
    for name, spend in sorted(
        state.by_agent.items(), key=lambda kv: (-kv[1].cost_usd, -kv[1].tokens)
    ):
        table.add_row(name, str(spend.calls), f"{spend.tokens:,}", fmt_usd(spend.cost_usd))
    return table


def render_stream(state: RunState, redactor: Redactor | None = None) -> RenderableType | None:
    """The last lines of the text the model is writing for the current step (redacted whole,
    so a secret split across deltas is caught here too)."""
    sid = state.streaming_step
    if sid is None:
        return None
    step = state.steps.get(sid)
    if step is not None and step.state not in (RUNNING, APPROVAL):
        return None
    text = state.streams.get(sid, "")
    if redactor is not None:
        text = redactor.redact_text(text)
    lines = text.rstrip().splitlines()[-_STREAM_LINES:]
    if not lines:
        return None
    return Panel(
        Text("\n".join(lines)),
        title=f"{sid} is writing",
        title_align="left",
        border_style="dim",
        padding=(0, 1),
    )


def render_header(state: RunState) -> Text:
    header = Text()
    header.append("agentorch ", style="bold")
    header.append(f"run {state.run_id or '…'}", style="bold cyan")
    if state.workflow:
        header.append(f"  {state.workflow}", style="dim")
    if state.engine:
        header.append(f"  [{state.engine} engine]", style="dim")
    style = STATUS_STYLE.get(state.status, "cyan")
    header.append(f"  {state.status}", style=style)
    if state.task and not state.workflow:
        header.append(f"\n{_short(state.task, 100)}", style="italic")
    return header


def render_state(state: RunState, redactor: Redactor | None = None) -> RenderableType:
    """The whole live view of a run."""
    with state.lock:
        parts: list[RenderableType] = [render_header(state), render_plan(state)]
        stream = render_stream(state, redactor)
        if stream is not None:
            parts.append(stream)
        parts.append(render_spend(state))
        agents = render_agents(state)
        if agents is not None:
            parts.append(agents)
        if state.pending:
            waiting = Text("Waiting for approval: ", style="bold magenta")
            waiting.append(", ".join(state.pending.values()))
            parts.append(waiting)
        return Group(*parts)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class LiveView:
    """The rich live display of a run, fed by its events.

    Args:
        console: where to draw (inject ``Console(file=StringIO(), force_terminal=True)`` in tests).
        state: the folded run state (one is made when not given).
        refresh_per_second: how often the live display redraws.
    """

    def __init__(
        self,
        console: Console | None = None,
        *,
        state: RunState | None = None,
        refresh_per_second: float = 8.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console = console if console is not None else Console()
        self.state = state if state is not None else RunState(clock=clock)
        self.refresh_per_second = refresh_per_second
        #: Redacts the streamed text shown (the CLI sets the run's redactor).
        self.redactor: Redactor | None = None
        self._live: Live | None = None
        self._paused = 0

    # --- the event subscriber ------------------------------------------------------------------

    def __call__(self, event: BaseEvent) -> None:
        self.state.apply(event)

    # --- rendering -----------------------------------------------------------------------------

    def render(self) -> RenderableType:
        return render_state(self.state, self.redactor)

    def start(self) -> None:
        """Start the live display (no-op when already running)."""
        if self._live is None:
            self._live = Live(
                get_renderable=self.render,
                console=self.console,
                refresh_per_second=self.refresh_per_second,
                transient=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()

    def stop(self) -> None:
        """Stop the display, leaving the last frame on screen."""
        live, self._live = self._live, None
        if live is not None:
            live.refresh()
            live.stop()

    def pause(self) -> None:
        """Stop drawing while a prompt is on screen (nested pauses are counted)."""
        self._paused += 1
        if self._paused == 1 and self._live is not None:
            self._live.refresh()
            self._live.stop()

    def resume(self) -> None:
        self._paused = max(0, self._paused - 1)
        if self._paused == 0 and self._live is not None:
            self._live.start()

    def __enter__(self) -> LiveView:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


__all__ = ["LiveView", "render_plan", "render_spend", "render_state", "render_step"]
