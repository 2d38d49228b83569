"""The end-of-run summary: status, output location, cost per agent and model, what to do next."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from agentorch.cli.state import fmt_usd
from agentorch.cli.view import STATUS_STYLE

if TYPE_CHECKING:
    from agentorch.budget import UsageReport
    from agentorch.store.base import ApprovalRecord
    from agentorch.supervisor import RunResult

_HEADLINES = {
    "succeeded": "✔ Run succeeded",
    "failed": "✖ Run failed",
    "waiting_approval": "⏸ Run is waiting for approval",
    "budget_exceeded": "⏸ Run stopped: budget exhausted",
    "in_doubt": "⏸ Run stopped: a tool call is in doubt",
    "interrupted": "⏸ Run interrupted",
}
_OUTPUT_PREVIEW_LINES = 20
#: Reasons shown per pending escalation in the summary (the rest: ``agentorch show``).
_REASON_LINES = 6


def output_path(output: Any) -> str | None:
    """The file a run's output names (``output.path`` or ``output["path"]``), when it exists."""
    path = getattr(output, "path", None)
    if path is None and isinstance(output, dict):
        path = output.get("path")
    if isinstance(path, str | Path) and Path(path).exists():
        return str(path)
    return None


def run_outcome(output: Any) -> dict[str, Any] | None:
    """The outcome a workflow's final output states, if it has one.

    A final output may carry ``outcome`` with ``kind`` (e.g. "submitted", "not_submitted"),
    ``complete`` (did the job reach its end, e.g. the buyer got the response), ``headline`` and
    ``details``: the summary then says that, not only that the run's steps finished.
    """
    value = getattr(output, "outcome", None)
    if value is None and isinstance(output, dict):
        value = output.get("outcome")
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        value = dump(mode="json")
    if not isinstance(value, dict) or not isinstance(value.get("headline"), str):
        return None
    return {
        "kind": str(value.get("kind") or ""),
        "complete": bool(value.get("complete")),
        "headline": value["headline"],
        "details": [str(d) for d in value.get("details") or []],
    }


def output_text(output: Any) -> str:
    """The output as text: strings as is, structured values as indented JSON."""
    if output is None:
        return ""
    if isinstance(output, str):
        return output
    if hasattr(output, "model_dump"):
        output = output.model_dump(mode="json")
    return json.dumps(output, indent=2, ensure_ascii=False, default=str)


def save_output(output: Any, directory: str | Path, run_id: str) -> str:
    """Write the output into ``directory`` (``result-<run id>.md`` or ``.json``); return the path."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".md" if isinstance(output, str) else ".json"
    path = folder / f"result-{run_id}{suffix}"
    path.write_text(output_text(output), encoding="utf-8")
    return str(path)


def usage_table(report: UsageReport, groups: Sequence[str] = ("agent", "model")) -> Table:
    """Cost and tokens per agent and per model, then the total against the budget's limits."""
    table = Table(title="Cost", title_justify="left", title_style="bold", header_style="bold")
    table.add_column("by", no_wrap=True)
    table.add_column("name", overflow="fold")
    table.add_column("calls", justify="right", no_wrap=True)
    table.add_column("input tok", justify="right", no_wrap=True)
    table.add_column("output tok", justify="right", no_wrap=True)
    table.add_column("cost", justify="right", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    rows = report.table(groups)  # type: ignore[arg-type]
    previous = None
    for row in rows:
        group = row["group"]
        if group != previous and previous is not None:
            table.add_section()
        previous = group
        cost = fmt_usd(row["cost_usd"]) + (" (unpriced)" if row["unpriced"] else "")
        style = "bold" if group == "total" else None
        table.add_row(
            "" if group == "total" else group,
            row["name"],
            str(row["requests"]),
            f"{row['input_tokens']:,}",
            f"{row['output_tokens']:,}",
            cost,
            f"{row['share']:.0%}",
            style=style,
        )
    limits = []
    if report.limits.get("usd"):
        limits.append(f"{fmt_usd(report.total.cost_usd)} of {fmt_usd(report.limits['usd'])}")
    if report.limits.get("tokens"):
        limits.append(f"{report.total.total_tokens:,} of {report.limits['tokens']:,} tokens")
    if limits:
        table.caption = "budget: " + " · ".join(limits)
        table.caption_justify = "left"
    return table


def _more_budget(error: str | None) -> str:
    """The resume flags for the limit that stopped the run, read from its budget message."""
    remaining = (error or "").rpartition("but only ")[2]
    tokens, usd = "tokens" in remaining, "$" in remaining
    if tokens and not usd:
        return "--budget-tokens <more>"
    if tokens and usd:
        return "--budget-usd <more> --budget-tokens <more>"
    return "--budget-usd <more>"


def next_commands(
    run_id: str, status: str, store_flag: str = "", pending: int = 1, error: str | None = None
) -> list[str]:
    """The commands that inspect (and, when it can continue, resume) a run."""
    cmds = [
        f"agentorch show {run_id}{store_flag} --trace",
        f"agentorch audit verify {run_id}{store_flag}",
    ]
    if status == "waiting_approval" and pending <= 1:
        cmds[:0] = [
            f"agentorch approve {run_id}{store_flag} --resume",
            f'agentorch approve {run_id}{store_flag} --deny --reason "..." --resume',
        ]
    elif status == "waiting_approval":
        cmds[:0] = [
            f'agentorch approve {run_id}{store_flag} --request ID [--deny --reason "..."]',
            f"agentorch approve {run_id}{store_flag} --all --resume",
        ]
    elif status == "in_doubt":
        cmds.insert(
            0,
            f"agentorch approve {run_id}{store_flag} --decision run_again|skipped|mark_done --resume",
        )
    elif status == "budget_exceeded":
        cmds.insert(0, f"agentorch resume {run_id}{store_flag} {_more_budget(error)}")
    elif status in ("interrupted", "failed"):
        cmds.insert(0, f"agentorch resume {run_id}{store_flag}")
    return cmds


def pending_lines(pending: Sequence[ApprovalRecord]) -> list[Text]:
    lines = []
    for record in pending:
        what = f"tool {record.tool}" if record.tool else record.subject
        line = Text(f"  • {record.request_id}", style="magenta")
        line.append(f"  step {record.step_id}: {what}")
        if record.reason and record.subject == "escalation":
            # an escalation's reasons are what a person judges: one per line, not one clipped run
            lines.append(line)
            parts = [p.strip() for p in record.reason.split("; ") if p.strip()]
            for part in parts[:_REASON_LINES]:
                clipped = part if len(part) <= 150 else part[:149] + "…"
                lines.append(Text(f"      - {clipped}", style="dim"))
            if len(parts) > _REASON_LINES:
                lines.append(
                    Text(f"      … {len(parts) - _REASON_LINES} more (agentorch show)", style="dim")
                )
            continue
        if record.reason:
            reason = record.reason if len(record.reason) <= 160 else record.reason[:159] + "…"
            line.append(f" - {reason}", style="dim")
        lines.append(line)
    return lines


def render_summary(
    result: RunResult,
    *,
    output_location: str | None = None,
    store_flag: str = "",
    credential_errors: Sequence[str] = (),
) -> RenderableType:
    """Everything the person needs after a run: status, output, cost, run id, next commands."""
    parts: list[RenderableType] = [Text("")]
    style = STATUS_STYLE.get(result.status, "bold")
    outcome = run_outcome(result.output) if result.status == "succeeded" else None
    status = result.status
    if outcome is None:
        parts.append(Text(_HEADLINES.get(result.status, f"Run {result.status}"), style=style))
    else:
        # The steps finished; what matters is whether the job got done (e.g. submitted).
        mark, style = ("✔", style) if outcome["complete"] else ("⚠", "bold yellow")
        parts.append(Text(f"{mark} {outcome['headline']}", style=style))
        parts += [Text(f"  {line}") for line in outcome["details"]]
        status = f"{result.status} · {outcome['kind'].replace('_', ' ')}"
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("Run id", Text(result.run_id, style="cyan"))
    facts.add_row("Status", Text(status, style=style))
    if output_location:
        facts.add_row("Output", Text(output_location, style="green"))
    if result.error:
        facts.add_row("Error", Text(result.error, style="red"))
    if credential_errors:
        facts.add_row("Provider", Text(credential_errors[0], style="red"))
    parts.append(facts)
    if result.pending_approvals:
        parts.append(Text("Pending approvals:", style="bold magenta"))
        parts.extend(pending_lines(result.pending_approvals))
    if result.status == "succeeded" and output_location is None and result.output is not None:
        lines = output_text(result.output).splitlines()
        shown = "\n".join(lines[:_OUTPUT_PREVIEW_LINES])
        if len(lines) > _OUTPUT_PREVIEW_LINES:
            shown += f"\n… ({len(lines) - _OUTPUT_PREVIEW_LINES} more lines; use --output DIR to save it)"
        parts += [Text("Output:", style="bold"), Text(shown)]
    parts.append(usage_table(result.usage))
    parts.append(Text("Next:", style="bold"))
    parts += [
        Text(f"  {cmd}", style="cyan")
        for cmd in next_commands(
            result.run_id,
            result.status,
            store_flag,
            len(result.pending_approvals),
            error=result.error,
        )
    ]
    return Group(*parts)


def result_json(
    result: RunResult, *, output_location: str | None, exit_code: int
) -> dict[str, Any]:
    """The one JSON object ``--json`` prints."""
    output = result.output
    if hasattr(output, "model_dump"):
        output = output.model_dump(mode="json")
    return {
        "run_id": result.run_id,
        "status": result.status,
        "exit_code": exit_code,
        "output_path": output_location,
        "outcome": run_outcome(result.output) if result.status == "succeeded" else None,
        "output": output,
        "usage": result.usage.model_dump(mode="json"),
        "error": result.error,
        "pending_approvals": [
            {
                "request_id": a.request_id,
                "step_id": a.step_id,
                "subject": a.subject,
                "tool": a.tool,
                "reason": a.reason,
            }
            for a in result.pending_approvals
        ],
    }


__all__ = [
    "next_commands",
    "output_path",
    "output_text",
    "render_summary",
    "result_json",
    "run_outcome",
    "save_output",
    "usage_table",
]
