"""``agentorch approve``: decide a waiting run's approvals from any terminal, then resume it."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from agentorch.cli.errors import handle_errors
from agentorch.cli.inspect import _console, _store
from agentorch.cli.run import DebugOpt, JsonOpt, StoreOpt


def approve(
    run_id: Annotated[
        str,
        typer.Argument(
            help="The waiting run's id (or an unambiguous prefix).",
            metavar="RUN_ID",
            show_default=False,
        ),
    ],
    step: Annotated[
        str | None, typer.Option("--step", metavar="STEP", help="Decide the approval of this step.")
    ] = None,
    request: Annotated[
        str | None,
        typer.Option("--request", metavar="ID", help="Decide this request id (or its suffix)."),
    ] = None,
    all_pending: Annotated[
        bool, typer.Option("--all", help="Decide every pending approval of the run.")
    ] = False,
    deny: Annotated[
        bool, typer.Option("--deny", help="Deny instead of approve (needs --reason).")
    ] = False,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            metavar="TEXT",
            help="Why (recorded in the audit log; the agent sees a denial's).",
        ),
    ] = "",
    decision: Annotated[
        str | None,
        typer.Option(
            "--decision",
            metavar="DECISION",
            help="For a call in doubt: run_again, skipped or mark_done.",
        ),
    ] = None,
    arguments: Annotated[
        str | None,
        typer.Option(
            "--arguments",
            metavar="JSON",
            help="Approve with these arguments instead (a JSON object).",
        ),
    ] = None,
    resume_run: Annotated[
        bool, typer.Option("--resume", help="Resume the run after deciding.")
    ] = False,
    store: StoreOpt = None,
    json_output: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Decide a waiting run's pending approval from any terminal (then resume it)."""
    from agentorch.cli.errors import write_json

    with handle_errors(debug, json_output=json_output):
        from agentorch.approvals_store import decide_pending
        from agentorch.errors import UserError

        args = _json_object(arguments)
        db = _store(store)
        run = db.get_run(run_id)
        if all_pending:
            if request or step or args is not None:
                raise UserError(
                    "--all decides every pending approval; drop --request, --step and --arguments"
                )
            targets: list[str | None] = [
                a.request_id for a in db.approvals(run.run_id, pending_only=True)
            ]
            if not targets:
                raise UserError(
                    f"run {run.run_id} has no pending approvals",
                    hint=f"agentorch show {run.run_id}",
                )
        else:
            targets = [request]
        if not json_output:  # what is being decided, in words, before the decision line
            _show_escalations(db, run, targets, step)
        decided = [
            decide_pending(
                db,
                run.run_id,
                request_id=target,
                step=None if all_pending else step,
                deny=deny,
                reason=reason,
                approver=f"cli:{_user()}",
                arguments=args,
                decision=decision,
            )
            for target in targets
        ]
        on_temporal = _notify_temporal(run, decided)  # its waiting workflow continues by itself
        if not resume_run or on_temporal:
            left = db.approvals(run.run_id, pending_only=True)
            if json_output:
                write_json(
                    {
                        "run_id": run.run_id,
                        "pending": len(left),
                        "decided": [
                            {
                                "request_id": d.request_id,
                                "status": d.status,
                                "step_id": d.step_id,
                                "approver": d.approver,
                            }
                            for d in decided
                        ],
                    }
                )
                return
            _print_decided(decided, left, run.run_id, store, on_temporal)
            return
        from agentorch.cli.prepare import RunOptions
        from agentorch.cli.session import resume_session

        code = resume_session(run.run_id, RunOptions(store=store, json=json_output, debug=debug))
    raise typer.Exit(code)


def _notify_temporal(run: Any, decided: list[Any]) -> bool:
    """Signal a run waiting on Temporal that its decisions are in the store (``False``: embedded)."""
    if "temporal" not in run.spec:
        return False
    from agentorch._loop import run_sync
    from agentorch.temporal import notify_decision

    async def notify() -> None:
        for record in decided:
            await notify_decision(run.spec, run.run_id, record.request_id)

    run_sync(notify())
    return True


def _json_object(text: str | None) -> dict[str, Any] | None:
    from agentorch.errors import UserError

    if text is None:
        return None
    example = 'pass one JSON object, e.g. --arguments \'{"path": "out/a.md"}\''
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"--arguments is not valid JSON: {exc}", hint=example) from None
    if not isinstance(value, dict):
        raise UserError("--arguments must be a JSON object", hint=example)
    return value


def _print_decided(
    decided: list[Any], left: list[Any], run_id: str, store: str | None, on_temporal: bool = False
) -> None:
    from rich.text import Text

    from agentorch.cli.prepare import resolve_store, store_flag

    console = _console()
    for d in decided:
        what = f"tool {d.tool}" if d.tool else d.subject
        line = Text(f"{d.status}: ", style="bold red" if d.status == "denied" else "bold green")
        line.append(f"{d.request_id} (step {d.step_id}, {what}) by {d.approver}")
        console.print(line)
    flag = store_flag(resolve_store(store))
    if left:
        console.print(f"{len(left)} approval(s) still pending: agentorch show {run_id}{flag}")
    elif on_temporal:
        console.print(Text(f"Run {run_id} continues on its Temporal workers", style="cyan"))
    else:
        console.print(Text(f"Continue the run with: agentorch resume {run_id}{flag}", style="cyan"))


def _show_escalations(db: Any, run: Any, targets: list[str | None], step: str | None) -> None:
    """Each escalation about to be decided: the reviewers' points, as the terminal prompt shows them."""
    from rich.text import Text

    from agentorch.approvals_store import escalation_review
    from agentorch.cli.approver import _clip, escalation_points

    console = _console()
    pending = db.approvals(run.run_id, pending_only=True)
    chosen = [
        a
        for a in pending
        if a.subject == "escalation"
        and (
            a.request_id in targets
            or any(t and a.request_id.endswith(t) for t in targets)
            or (targets == [None] and (step is None or a.step_id == step))
        )
    ]
    for approval in chosen:
        verdicts, points = escalation_review(db, run, approval)
        width = max(60, min(console.width, 120))
        console.print(Text(f"Escalation of step {approval.step_id}", style="bold magenta"))
        if not points:
            console.print(Text(approval.reason))
            continue
        console.print(Text("\n".join(_clip(approval.reason, width, 2))))  # the points follow
        for line in escalation_points(points, {"verdicts": verdicts}, width):
            console.print(line)
        console.print()


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "user"
