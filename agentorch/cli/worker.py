"""``agentorch worker``: serve runs from a Temporal service (the other half of ``run --temporal``)."""

from __future__ import annotations

from typing import Annotated

import typer

from agentorch.cli.errors import handle_errors
from agentorch.cli.run import DebugOpt, QueueOpt, StoreOpt


def worker(
    target: Annotated[
        str | None,
        typer.Argument(
            help="The workflow folder or .py file the runs use (e.g. examples/rfp); "
            "none: the project's agents, for free-text tasks.",
            metavar="WORKFLOW",
            show_default=False,
        ),
    ] = None,
    temporal: Annotated[
        str,
        typer.Option("--temporal", metavar="HOST:PORT", help="The Temporal service to serve."),
    ] = "localhost:7233",
    task_queue: QueueOpt = "agentorch",
    namespace: Annotated[
        str | None,
        typer.Option(
            "--namespace",
            metavar="NAME",
            help="The Temporal namespace (default: $TEMPORAL_NAMESPACE, else default).",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", metavar="MODEL", help="The same --model the runs are started with."
        ),
    ] = None,
    router_model: Annotated[
        str | None,
        typer.Option("--router-model", metavar="MODEL", help="The same --router-model, if any."),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy", metavar="FILE", help="The same --policy the runs are started with."
        ),
    ] = None,
    store: StoreOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Serve runs started with `agentorch run ... --temporal` until Ctrl-C (approvals wait for
    `agentorch approve`, unless a run was started with --approve-all)."""
    from agentorch.cli.serve_worker import serve_worker

    with handle_errors(debug):
        serve_worker(
            target,
            address=temporal,
            task_queue=task_queue,
            namespace=namespace,
            model=model,
            router_model=router_model,
            policy=policy,
            store=store,
        )
