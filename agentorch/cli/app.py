"""The ``agentorch`` typer app: every command, registered from its module."""

from __future__ import annotations

from typing import Annotated

import typer

from agentorch.cli import approve, audit, inspect, project, run, serve, worker

app = typer.Typer(
    name="agentorch",
    help="Run supervisor-agent workflows: plan, delegate, review, escalate; hard budgets, audit log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from agentorch import __version__

        typer.echo(f"agentorch {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """agentorch: a supervisor-agent runtime for business workflows."""


app.command(rich_help_panel="Runs")(run.run)
app.command(rich_help_panel="Runs")(run.resume)
app.command(rich_help_panel="Runs")(inspect.runs)
app.command(rich_help_panel="Runs")(inspect.show)
app.command(rich_help_panel="Runs")(approve.approve)
app.command(rich_help_panel="Runs")(worker.worker)
app.add_typer(audit.audit_app, name="audit", rich_help_panel="Runs")
app.command(rich_help_panel="Review inbox")(serve.serve)
app.add_typer(serve.users_app, name="users", rich_help_panel="Review inbox")
app.command(rich_help_panel="Project")(project.agents)
app.command(rich_help_panel="Project")(project.tools)
app.add_typer(project.policy_app, name="policy", rich_help_panel="Project")
app.command(rich_help_panel="Project")(project.init)
