"""``agentorch audit verify`` and ``audit export``: the run's hash-chained audit log."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agentorch.cli.errors import EXIT_FAILED, handle_errors
from agentorch.cli.run import DebugOpt, JsonOpt, StoreOpt
from agentorch.store.base import AuditVerification

audit_app = typer.Typer(
    help="Check and export a run's tamper-evident audit log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@audit_app.command()
def verify(
    run_id: Annotated[
        str,
        typer.Argument(
            help="The run id (or an unambiguous prefix).", metavar="RUN_ID", show_default=False
        ),
    ],
    store: StoreOpt = None,
    json_output: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Check the log: its hash chain, the tables against it, and the head's key signature.

    Says which guarantees held; exits 1 and names the first problem when any failed.
    """
    from rich.console import Console
    from rich.text import Text

    from agentorch.cli.errors import write_json
    from agentorch.cli.prepare import open_cli_store, resolve_store

    with handle_errors(debug, json_output=json_output):
        db = open_cli_store(resolve_store(store))
        run = db.get_run(run_id)
        result = db.verify_audit(run.run_id)
        if json_output:
            write_json({"run_id": run.run_id, **result.model_dump(mode="json")})
        else:
            console = Console(highlight=False)
            if result.ok:
                console.print(
                    Text("✔ ", style="bold green")
                    + Text(f"audit log of run {run.run_id} is intact: {result.records} records")
                )
            else:
                console.print(
                    Text("✖ ", style="bold red")
                    + Text(
                        f"audit log of run {run.run_id} was TAMPERED WITH: "
                        + (
                            f"first bad record #{result.first_bad_seq}: "
                            if result.first_bad_seq is not None
                            else ""
                        )
                        + (result.problem or ""),
                        style="red",
                    )
                )
            for held, line in _guarantees(result):
                mark = {True: ("✔", "green"), False: ("✖", "red"), None: ("!", "yellow")}[held]
                console.print(Text(f"  {mark[0]} ", style=mark[1]) + Text(line))
            for problem in result.problems[1:]:
                console.print(Text(f"    - {problem}", style="red"))
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def _guarantees(result: AuditVerification) -> list[tuple[bool | None, str]]:
    """Each guarantee ``verify`` checks, and whether it held (``None``: could not be checked)."""
    chain = (
        (True, "hash chain intact: no record was altered, inserted, reordered or removed")
        if result.chain_intact
        else (False, "hash chain broken")
    )
    tables = {
        True: (True, "runs, steps, journal and approvals match the chain"),
        False: (False, "runs, steps, journal or approvals differ from the chain"),
        None: (None, "tables not checked"),
    }[result.tables_consistent]
    anchor = {
        "verified": (True, "head signed with the audit key: nothing was cut from the end"),
        "no_key": (
            None,
            "head not checked: no audit key here (AGENTORCH_AUDIT_KEY or the key file), so "
            "records cut from the end with a fixed-up head are undetectable",
        ),
        "missing": (False, "head carries no key signature (removed: the end may be cut)"),
        "mismatch": (
            False,
            "head does not match its key signature: cut or rewritten without the key, or "
            "signed with another key",
        ),
        "not_checked": (None, "head signature not checked"),
    }[result.anchor]
    return [chain, tables, anchor]


@audit_app.command("export")
def export(
    run_id: Annotated[
        str,
        typer.Argument(
            help="The run id (or an unambiguous prefix).", metavar="RUN_ID", show_default=False
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write to this file (default: stdout)."
        ),
    ] = None,
    store: StoreOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Export the audit log as JSONL: one record per line (seq, kind, ts, payload, prev_hash, hash)."""
    from agentorch.cli.outputs import check_output_file
    from agentorch.cli.prepare import open_cli_store, resolve_store

    with handle_errors(debug):
        check_output_file("--output", output, "the audit log")
        db = open_cli_store(resolve_store(store))
        run = db.get_run(run_id)
        lines = [record.model_dump_json() + "\n" for record in db.events(run.run_id)]
        if output is None:
            sys.stdout.writelines(lines)
            sys.stdout.flush()
        else:
            path = Path(output)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("".join(lines), encoding="utf-8")
            except OSError as exc:
                from agentorch.errors import UserError

                raise UserError(
                    f"cannot write the audit log to {output}: {exc.strerror or exc}",
                    hint="pass a file in a folder you can write to, or leave out -o for stdout",
                ) from exc
            from rich.console import Console

            Console(stderr=True, highlight=False).print(f"wrote {len(lines)} records to {path}")
