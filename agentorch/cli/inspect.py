"""``agentorch runs``, ``show`` (with ``--trace``) and ``approve``: looking at runs and deciding for them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer

from agentorch.cli.errors import handle_errors
from agentorch.cli.run import DebugOpt, JsonOpt, StoreOpt
from agentorch.store.base import RunStatus

RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.tree import Tree

    from agentorch.events.trace import TraceNode
    from agentorch.store.base import RunRecord, StepRecord, Store


def _store(url: str | None) -> Store:
    from agentorch.cli.prepare import open_cli_store, resolve_store

    return open_cli_store(resolve_store(url))


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


def _cost(usage: dict[str, Any] | None) -> float:
    usage = usage or {}
    total = usage.get("total", usage)
    value = total.get("cost_usd", 0.0) if isinstance(total, dict) else 0.0
    return float(value or 0.0)


def _tokens(usage: dict[str, Any] | None) -> int:
    usage = usage or {}
    total = usage.get("total", usage)
    if not isinstance(total, dict):
        return 0
    return int(total.get("input_tokens", 0) or 0) + int(total.get("output_tokens", 0) or 0)


def _preview(value: Any, limit: int = 200) -> str:
    from agentorch.cli.summary import output_text

    text = " ".join(output_text(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- runs ------------------------------------------------------------------------------------------


def runs(
    limit: Annotated[
        int, typer.Option(metavar="N", min=1, help="How many runs to list, newest first.")
    ] = 20,
    status: Annotated[
        RunStatus | None,
        typer.Option(
            metavar="STATUS", help=f"Only runs with this status: {', '.join(RUN_STATUSES)}."
        ),
    ] = None,
    store: StoreOpt = None,
    json_output: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List recent runs: id, status, outcome, task, cost and age."""
    from rich.table import Table
    from rich.text import Text

    from agentorch.cli.errors import write_json
    from agentorch.cli.state import fmt_age, fmt_usd
    from agentorch.cli.summary import run_outcome
    from agentorch.cli.view import STATUS_STYLE

    with handle_errors(debug, json_output=json_output):
        records = _store(store).list_runs(limit=limit, status=status)
        if json_output:
            write_json(
                {
                    "runs": [
                        {
                            "run_id": r.run_id,
                            "status": r.status,
                            "outcome": _outcome_kind(run_outcome(r.output)),
                            "task": r.task,
                            "workflow": r.workflow,
                            "cost_usd": _cost(r.usage),
                            "created_at": r.created_at,
                            "updated_at": r.updated_at,
                        }
                        for r in records
                    ]
                }
            )
            return
        console = _console()
        if not records:
            console.print("No runs yet. Start one with: agentorch run examples/rfp")
            return
        table = Table(header_style="bold")
        for name in ("id", "status", "outcome"):
            table.add_column(name, no_wrap=True)
        table.add_column("task", overflow="fold")
        table.add_column("cost", justify="right", no_wrap=True)
        table.add_column("age", justify="right", no_wrap=True)
        now = time.time()
        for r in records:
            task = r.workflow.rsplit("/", 1)[-1] + ": " + r.task if r.workflow else r.task
            table.add_row(
                r.run_id,
                Text(r.status, style=STATUS_STYLE.get(r.status, "")),
                _outcome_text(run_outcome(r.output)),
                Text(_preview(task, 40)),
                fmt_usd(_cost(r.usage)),
                fmt_age(now - (r.created_at or now)),
            )
        console.print(table)


def _outcome_kind(outcome: dict[str, Any] | None) -> str | None:
    """The outcome a finished run's output states ("submitted", "not_submitted", ...), if any."""
    return outcome["kind"] or None if outcome else None


def _outcome_text(outcome: dict[str, Any] | None) -> Any:
    """The outcome in words for the runs table: steps can all succeed while the job did not."""
    from rich.text import Text

    if not outcome or not outcome["kind"]:
        return Text("")
    return Text(
        outcome["kind"].replace("_", " "), style="green" if outcome["complete"] else "yellow"
    )


# --- show ------------------------------------------------------------------------------------------


def show(
    run_id: Annotated[
        str,
        typer.Argument(
            help="The run id (or an unambiguous prefix).", metavar="RUN_ID", show_default=False
        ),
    ],
    trace: Annotated[
        bool, typer.Option("--trace", help="Show the run as a tree of steps, model and tool calls.")
    ] = False,
    store: StoreOpt = None,
    json_output: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show a run: plan, steps, outputs and pending approvals (--trace: timings, tokens, cost)."""
    from agentorch.cli.errors import write_json

    with handle_errors(debug, json_output=json_output):
        db = _store(store)
        record = db.get_run(run_id)
        if trace:
            from agentorch.events.trace import build_trace

            events = [r.payload for r in db.events(record.run_id)]
            if not events:
                from agentorch.errors import UserError

                raise UserError(f"run {record.run_id} has no recorded events")
            root = build_trace(events, run_id=record.run_id)
            if json_output:
                write_json(root.to_dict())
            else:
                _console().print(render_trace(root))
            return
        if json_output:
            write_json(
                {
                    "run": record.model_dump(mode="json"),
                    "steps": [s.model_dump(mode="json") for s in db.get_steps(record.run_id)],
                    "pending_approvals": [
                        a.model_dump(mode="json")
                        for a in db.approvals(record.run_id, pending_only=True)
                    ],
                }
            )
            return
        _console().print(render_run(record, db))


def render_run(record: RunRecord, db: Store) -> RenderableType:
    """A run as the ``show`` command prints it."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from agentorch.cli.state import fmt_usd
    from agentorch.cli.summary import pending_lines, run_outcome
    from agentorch.cli.view import STATUS_STYLE

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("Run", Text(record.run_id, style="cyan"))
    facts.add_row("Status", Text(record.status, style=STATUS_STYLE.get(record.status, "")))
    outcome = run_outcome(record.output)
    if outcome:
        facts.add_row(
            "Outcome",
            Text(outcome["headline"], style="green" if outcome["complete"] else "yellow"),
        )
    facts.add_row("Task", Text(record.task))
    if record.workflow:
        facts.add_row("Workflow", Text(record.workflow))
    facts.add_row(
        "Started", Text(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created_at)))
    )
    limit = (record.budget or {}).get("usd")
    facts.add_row(
        "Cost",
        Text(
            fmt_usd(_cost(record.usage))
            + (f" of {fmt_usd(limit)}" if limit else "")
            + f" · {_tokens(record.usage):,} tokens"
        ),
    )
    if record.policy_hash:
        facts.add_row("Policy", Text(record.policy_hash[:16], style="dim"))
    if record.error:
        facts.add_row("Error", Text(record.error, style="red"))
    parts: list[Any] = [facts]
    steps = {s.step_id: s for s in db.get_steps(record.run_id)}
    plan_steps = (record.plan or {}).get("steps") or [
        {"id": sid, "agent": s.agent} for sid, s in steps.items()
    ]
    if plan_steps:
        table = Table(title="Steps", title_justify="left", title_style="bold", header_style="bold")
        for col in ("step", "agent", "status", "rev", "cost"):
            table.add_column(col, no_wrap=True)
        table.add_column("output / error", overflow="fold")
        for step_id, agent in _with_nested(plan_steps, steps):
            s = steps.get(step_id)
            status = s.status if s else "pending"
            shown = _preview(s.error or s.output, 48) if s else ""
            table.add_row(
                step_id,
                agent,
                Text(status, style=_STEP_STYLE.get(status, "")),
                str(s.revision) if s else "",
                fmt_usd(_cost(s.usage)) if s else "",
                shown,
            )
        parts.append(table)
    if record.output is not None:
        from agentorch.cli.summary import output_path

        location = output_path(record.output)
        parts.append(
            Text("Output: ", style="bold") + Text(location or _preview(record.output, 400))
        )
    pending = db.approvals(record.run_id, pending_only=True)
    if pending:
        parts.append(Text("Pending approvals:", style="bold magenta"))
        parts.extend(pending_lines(pending))
        parts.append(
            Text(
                f"  decide with: agentorch approve {record.run_id} --request ID [--deny --reason ...]",
                style="dim",
            )
        )
    return Group(*parts)


def _with_nested(
    plan_steps: list[dict[str, Any]], steps: dict[str, StepRecord]
) -> list[tuple[str, str]]:
    """(step id, agent) of each planned step, each followed by its nested supervisor's steps."""
    rows = []
    for raw in plan_steps:
        rows.append((raw["id"], raw.get("agent", "")))
        inner = [s for sid, s in steps.items() if sid.startswith(raw["id"] + ".")]
        inner.sort(key=lambda s: (s.started_at or float("inf"), s.step_id))
        rows.extend((s.step_id, s.agent) for s in inner)
    return rows


_STEP_STYLE = {
    "done": "green",
    "failed": "red",
    "waiting": "magenta",
    "skipped": "yellow",
    "running": "cyan",
}


def render_trace(root: TraceNode) -> Tree:
    """The trace tree: each node with status, duration, tokens and cost."""
    from rich.tree import Tree

    tree = Tree(_trace_label(root), guide_style="dim")

    def add(parent: Tree, node: TraceNode) -> None:
        branch = parent.add(_trace_label(node))
        for note in node.notes:
            branch.add(f"[dim italic]{_escape(note)}[/]")
        for child in node.children:
            add(branch, child)

    for note in root.notes:
        tree.add(f"[dim italic]{_escape(note)}[/]")
    for child in root.children:
        add(tree, child)
    return tree


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _trace_label(node: TraceNode) -> Any:
    from rich.text import Text

    from agentorch.cli.state import fmt_usd

    ok = node.status in ("ok",)
    style = "green" if ok else "red" if node.status == "error" else "yellow"
    label = Text()
    label.append(node.label, style="bold" if node.kind in ("run", "step") else "")
    label.append(f"  {node.status}", style=style)
    if node.duration is not None:
        label.append(f"  {node.duration:.2f}s", style="dim")
    if node.input_tokens or node.output_tokens:
        label.append(f"  {node.input_tokens:,} in / {node.output_tokens:,} out", style="dim")
    if node.cost_usd or node.kind == "model_call":
        label.append(f"  {fmt_usd(node.cost_usd)}", style="dim")
    if node.replayed:
        label.append("  replayed", style="cyan")
    if node.error:
        label.append(f"  {node.error}", style="red")
    return label
