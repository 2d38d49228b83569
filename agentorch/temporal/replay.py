"""Will the runs in flight replay on new code? Checked before the new code serves them.

A worker replays a run's recorded history through its own code whenever it picks the run up; a
change that makes the code take other steps fails those runs' workflow tasks (Temporal calls it
nondeterminism) until the old code serves them again. ``Temporal.check_replay`` replays the
histories of the runs still open (or histories saved to files) through the code of this process
and names every run that would not replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from agentorch.temporal import _types as t

if TYPE_CHECKING:
    from temporalio.converter import DataConverter

    from agentorch.supervisor import Supervisor


async def open_histories(client: Client, task_queue: str | None = None) -> list[WorkflowHistory]:
    """The recorded histories of every run (and nested supervisor's child workflow) still open
    on ``client``'s namespace, on ``task_queue`` if given."""
    query = (
        f"ExecutionStatus = 'Running' AND WorkflowType IN "
        f"('{t.RUN_WORKFLOW}', '{t.NESTED_WORKFLOW}')"
    )
    if task_queue:
        query += f" AND TaskQueue = '{task_queue}'"
    histories = []
    async for execution in client.list_workflows(query):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        histories.append(await handle.fetch_history())
    return histories


def load_history(path: str) -> WorkflowHistory:
    """A history saved as JSON (``temporal workflow show -w ID --output json``, or
    ``WorkflowHistory.to_json``); its workflow id is the file's name without ``.json``."""
    from pathlib import Path

    file = Path(path)
    return WorkflowHistory.from_json(file.stem, file.read_text())


async def replay(
    apps: Mapping[str, Supervisor],
    histories: Iterable[WorkflowHistory],
    converter: DataConverter,
    passthrough: Iterable[str] = (),
) -> dict[str, str]:
    """Replay ``histories`` through this process's code serving ``apps``; return the workflow id
    and the reason of each one that does not replay (empty: all of them do)."""
    from agentorch.temporal._apps import serve
    from agentorch.temporal.nested import NestedWorkflow
    from agentorch.temporal.sandbox import workflow_runner
    from agentorch.temporal.workflows import RunWorkflow

    serve(dict(apps))
    replayer = Replayer(
        workflows=[RunWorkflow, NestedWorkflow],
        workflow_runner=workflow_runner(apps.values(), passthrough),
        data_converter=converter,
    )
    problems = {}
    for history in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            reason = str(result.replay_failure).strip().splitlines()
            problems[history.workflow_id] = reason[0] if reason else "does not replay"
    return problems
