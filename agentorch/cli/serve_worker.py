"""The worker process behind ``agentorch worker``: the same supervisor ``run`` builds, served."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from agentorch.cli.prepare import (
    RunOptions,
    Target,
    app_name,
    choose,
    open_cli_store,
    prepare_task,
    prepare_workflow,
    resolve_store,
    resolve_target,
)
from agentorch.cli.runner import Interrupted, drive


def serve_worker(
    target: str | None,
    *,
    address: str,
    task_queue: str,
    namespace: str | None,
    model: str | None,
    router_model: str | None,
    policy: str | None,
    store: str | None,
) -> None:
    from agentorch.approvals import DeferredApprover
    from agentorch.temporal import Temporal

    console = Console(highlight=False, stderr=True)
    engine, explanation = choose(model)
    opts = RunOptions(model=model, router_model=router_model, policy=policy, store=store)
    url = resolve_store(store)
    db = open_cli_store(url)
    approver = DeferredApprover()  # a person decides with `agentorch approve`
    if target is None:
        where = Target("task", "")
        prepared = prepare_task("", engine, opts, approver, None, db, None)
    else:
        where = resolve_target(target)
        if where.kind != "workflow":
            from agentorch.errors import UserError

            raise UserError(
                f"{target} is not a workflow folder or .py file",
                hint="agentorch worker examples/rfp --temporal HOST:PORT",
            )
        prepared = prepare_workflow(where.value, engine, opts, approver, None, db, None)
    app = app_name(where)
    temporal = Temporal(address, task_queue=task_queue, app=app)
    if namespace:
        temporal.namespace = namespace

    async def serve() -> None:
        worker = await temporal.worker(prepared.supervisor)
        console.print(
            Text(
                f"worker serving {app!r} ({engine} engine) on task queue {task_queue!r} at "
                f"{address}; store {url}. Ctrl-C stops it.",
                style="bold",
            )
        )
        if engine == "offline":
            console.print(Text(explanation, style="yellow"))
        await worker.run()

    try:
        drive(serve())
    except Interrupted:
        console.print(Text("worker stopped", style="yellow"))
