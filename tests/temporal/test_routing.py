"""Routing a specialist to its own task queue (``--route AGENT=QUEUE``): its model and tool calls
run only on that queue's workers, everything else on the run's queue (issue 16)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporal_app import make_supervisor

from agentorch.temporal import Temporal, Timeouts

TIMEOUTS = Timeouts(heartbeat_seconds=2.0, approval_poll_seconds=2.0)


def _calls(path: Path) -> list[tuple[str, int]]:
    """(what ran, the pid of the worker it ran on), from the test app's log."""
    lines = path.read_text().splitlines() if path.exists() else []
    return [(line.split(" pid=")[0], int(line.rsplit("pid=", 1)[1])) for line in lines]


async def test_a_routed_specialist_s_calls_run_only_on_its_own_queue(
    workers, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path}/runs.db"
    (main,) = workers.app("routed-main", store)
    (gpu,) = workers.app("routed-gpu", store)
    supervisor = make_supervisor(store, tmp_path)
    temporal = Temporal(
        workers.address,
        task_queue="routed-main",
        routes={"bookkeeper": "routed-gpu"},
        approve_all=True,
        timeouts=TIMEOUTS,
    )
    result = await asyncio.wait_for(temporal.run(supervisor, "Book invoice 42"), 120)
    assert result.status == "succeeded", result.error
    assert _calls(tmp_path / "calls.txt") == [
        ("research", main), ("book:0", gpu), ("book:1", gpu), ("summary", main),
    ]  # fmt: skip
    assert _calls(tmp_path / "ledger.txt") == [("invoice 42", gpu)]  # its tool, on its queue

    # Temporal's own record: where each activity was scheduled and which worker started it
    client = await temporal.connect()
    history = await client.get_workflow_handle(result.run_id).fetch_history()
    scheduled = {
        e.event_id: e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    ran = []
    for event in history.events:
        if event.HasField("activity_task_started_event_attributes"):
            started = event.activity_task_started_event_attributes
            task = scheduled[started.scheduled_event_id]
            ran.append((task.activity_type.name, task.task_queue.name, started.identity))
    assert sorted((kind, queue) for kind, queue, _ in ran) == [
        ("agentorch.model_call", "routed-gpu"),
        ("agentorch.model_call", "routed-gpu"),
        ("agentorch.model_call", "routed-main"),
        ("agentorch.model_call", "routed-main"),
        ("agentorch.tool_call", "routed-gpu"),
    ]
    for _, queue, identity in ran:
        assert identity.startswith(f"{gpu if queue == 'routed-gpu' else main}@"), identity
    # the run's workflow (and its store writes) stayed on the run's queue
    first = history.events[0].workflow_execution_started_event_attributes
    assert first.task_queue.name == "routed-main"
    workflow_tasks = [
        e.workflow_task_started_event_attributes.identity
        for e in history.events
        if e.HasField("workflow_task_started_event_attributes")
    ]
    assert workflow_tasks and all(i.startswith(f"{main}@") for i in workflow_tasks)
