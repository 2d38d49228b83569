"""Encrypted history on a real Temporal dev server: nothing readable reaches the service, runs
still succeed and replay, a worker without the key fails clearly, keys rotate (issue 16)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.message import Message
from temporal_app import make_supervisor
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory

from agentorch import changes
from agentorch.errors import ConfigError
from agentorch.temporal import Temporal, Timeouts
from agentorch.temporal._apps import serve
from agentorch.temporal.client import workflow_runner
from agentorch.temporal.codec import ENCODING, KEY_ID, EncryptionCodec, key_id

TIMEOUTS = Timeouts(heartbeat_seconds=2.0, approval_poll_seconds=2.0)
MARKER = "ZEBRA-7731-CONFIDENTIAL"
#: What the test app's model answers, tool arguments and tool results say, in plain text.
PLAIN = [MARKER, "research notes", "invoice 42", "appended", "all done"]
OTHER = "another-key-entirely-" + "9" * 40


def _payloads(message: Message) -> Iterator[Payload]:
    """Every payload anywhere in a history event."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if isinstance(value, Message):
            values = [value]
        elif field.message_type.GetOptions().map_entry:
            values = value.values()
        else:
            values = value
        for item in values:
            if isinstance(item, Message):
                yield from _payloads(item)


async def _history(temporal: Temporal, run_id: str) -> WorkflowHistory:
    client = await temporal.connect()
    return await client.get_workflow_handle(run_id).fetch_history()


#: The SDK's own record of a local activity (a store write) in its marker: no run content.
LOCAL_ACTIVITY_FIELDS = {
    "seq", "attempt", "activity_id", "activity_type", "complete_time", "backoff",
    "original_schedule_time", "activation_index",
}  # fmt: skip


def _patch_marker(event: Any) -> bool:
    """Whether ``event`` is ``workflow.patched``'s own record (its marker, or its search
    attribute ``TemporalChangeVersion``): it names only change ids of ``agentorch.changes``."""
    if event.HasField("upsert_workflow_search_attributes_event_attributes"):
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        assert set(fields.indexed_fields) == {"TemporalChangeVersion"}
        for payload in _payloads(event):
            assert set(json.loads(payload.data)) <= set(changes.ALL)
        return True
    if not event.HasField("marker_recorded_event_attributes"):
        return False
    if event.marker_recorded_event_attributes.marker_name != "core_patch":
        return False
    for payload in _payloads(event):
        data = json.loads(payload.data)
        assert set(data) <= {"id", "deprecated"} and data["id"] in changes.ALL, data
    return True


def _key_ids(history: WorkflowHistory) -> set[str]:
    """The key ids of the history's payloads (every one must be encrypted)."""
    ids = set()
    for event in history.events:
        sdk_own = set()
        if _patch_marker(event):
            continue
        if event.HasField("marker_recorded_event_attributes"):
            for payload in event.marker_recorded_event_attributes.details["data"].payloads:
                assert set(json.loads(payload.data)) <= LOCAL_ACTIVITY_FIELDS
                sdk_own.add(payload.SerializeToString())
        for payload in _payloads(event):
            if payload.SerializeToString() in sdk_own:
                continue
            assert payload.metadata.get("encoding") == ENCODING, (event.event_type, payload)
            ids.add(payload.metadata[KEY_ID].decode())
    return ids


async def _replay(temporal: Temporal, history: WorkflowHistory, supervisor: object) -> None:
    from temporalio.worker import Replayer

    from agentorch.temporal.workflows import RunWorkflow

    serve({"books": supervisor})  # type: ignore[dict-item]
    replayer = Replayer(
        workflows=[RunWorkflow],
        workflow_runner=workflow_runner(),
        data_converter=temporal.converter(),
    )
    await replayer.replay_workflow(history)


async def test_history_holds_no_prompt_answer_or_tool_argument_in_plaintext(
    workers, tmp_path: Path, temporal_key: str
) -> None:
    store = f"sqlite:///{tmp_path}/runs.db"
    workers.app("sealed", store)
    supervisor = make_supervisor(store, tmp_path)
    temporal = Temporal(workers.address, task_queue="sealed", approve_all=True, timeouts=TIMEOUTS)
    result = await asyncio.wait_for(temporal.run(supervisor, f"Book invoice 42 ({MARKER})"), 120)
    assert result.status == "succeeded", result.error
    assert result.output == "all done"
    history = await _history(temporal, result.run_id)
    raw = b"".join(event.SerializeToString() for event in history.events)
    for text in PLAIN:
        assert text.encode() not in raw, text
    assert temporal_key.encode() not in raw
    assert _key_ids(history) == {key_id(temporal_key)}
    kinds = {event.event_type for event in history.events}
    assert len(kinds) > 5 and len(history.events) > 20  # activities, markers, results: all sealed
    await _replay(temporal, history, supervisor)
    with pytest.raises(Exception, match="KeyMismatchError"):  # its message is sealed too
        await _replay(Temporal(codec=EncryptionCodec([OTHER])), history, supervisor)


async def test_a_worker_without_the_key_fails_clearly_and_the_run_waits_for_one_with_it(
    workers, tmp_path: Path, temporal_key: str
) -> None:
    store = f"sqlite:///{tmp_path}/runs.db"
    (wrong,) = workers.app("wrong-key", store, env={"AGENTORCH_TEMPORAL_KEY": OTHER})
    supervisor = make_supervisor(store, tmp_path)
    temporal = Temporal(
        workers.address, task_queue="wrong-key", approve_all=True, timeouts=TIMEOUTS
    )
    handle = await temporal.start(supervisor, "Book invoice 42")
    with pytest.raises(ConfigError) as refused:
        await asyncio.wait_for(temporal.result(supervisor, handle.id), 90)
    message = str(refused.value)
    assert message == (
        f"run {handle.id} is waiting on Temporal: its workers cannot decrypt it (its workers "
        f"encrypt with key id {key_id(OTHER)}, this process has key id(s) {key_id(temporal_key)})"
    )
    assert "AGENTORCH_TEMPORAL_KEY" in (refused.value.hint or "")
    log = (tmp_path / "worker-0.log").read_text()
    assert f"encrypted with key id {key_id(temporal_key)}, this process has key id(s) " in log
    assert "Traceback" not in log and OTHER not in log and temporal_key not in log
    workers.kill(wrong)
    workers.app("wrong-key", store)  # a worker with the key: the run was not lost
    result = await asyncio.wait_for(temporal.result(supervisor, handle.id), 120)
    assert result.status == "succeeded", result.error


async def test_keys_rotate_while_runs_go_on(workers, tmp_path: Path, temporal_key: str) -> None:
    store = f"sqlite:///{tmp_path}/runs.db"
    new = "the-next-key-" + "5" * 40
    supervisor = make_supervisor(store, tmp_path)

    def on(keys: list[str]) -> Temporal:
        return Temporal(
            workers.address,
            task_queue="rotate",
            approve_all=True,
            timeouts=TIMEOUTS,
            codec=EncryptionCodec(keys),
        )

    (first,) = workers.app("rotate", store)  # the old key only
    before = await asyncio.wait_for(on([temporal_key]).run(supervisor, "Book invoice 42"), 120)
    assert before.status == "succeeded", before.error
    workers.kill(first)
    # the rollout: workers encrypt with the new key; a client not yet switched still reads it
    rotated = f"{new},{temporal_key}"
    count = len(list(tmp_path.glob("ready-*")))
    workers.app("rotate", store, env={"AGENTORCH_TEMPORAL_KEY": rotated})
    assert len(list(tmp_path.glob("ready-*"))) == count + 1
    mixed = await asyncio.wait_for(on([temporal_key, new]).run(supervisor, "Book invoice 42"), 120)
    assert mixed.status == "succeeded", mixed.error
    after = await asyncio.wait_for(on([new, temporal_key]).run(supervisor, "Book invoice 42"), 120)
    assert after.status == "succeeded", after.error
    reader = on([new, temporal_key])
    histories = [await _history(reader, r.run_id) for r in (before, mixed, after)]
    assert [_key_ids(h) for h in histories] == [
        {key_id(temporal_key)},
        {key_id(temporal_key), key_id(new)},
        {key_id(new)},
    ]
    for history in histories:  # old runs stay readable (and replayable) with the old key listed
        await _replay(reader, history, supervisor)
    with pytest.raises(ConfigError, match="result is unreadable here"):  # a client left behind
        await on([temporal_key]).result(supervisor, after.run_id)


async def test_approve_without_a_key_still_wakes_an_encrypted_run(workers, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from agentorch.store import open_store

    store = f"sqlite:///{tmp_path}/runs.db"
    workers.app("approve-nokey", store)
    supervisor = make_supervisor(store, tmp_path)
    slow = Timeouts(heartbeat_seconds=2.0, approval_poll_seconds=600.0)  # only a signal wakes it
    temporal = Temporal(workers.address, task_queue="approve-nokey", timeouts=slow)
    handle = await temporal.start(supervisor, f"Book invoice 42 ({MARKER})")
    db = open_store(store)
    for _ in range(600):
        if db.get_run(handle.id).status == "waiting_approval":
            break
        await asyncio.sleep(0.1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTORCH_TEMPORAL")}
    env["XDG_CONFIG_HOME"] = str(tmp_path)  # no key file either
    decided = subprocess.run(
        [sys.executable, "-m", "agentorch", "approve", handle.id, "--store", store, "--json"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert decided.returncode == 0, decided.stdout + decided.stderr
    result = await asyncio.wait_for(temporal.result(supervisor, handle.id), 120)
    assert result.status == "succeeded", result.error
    raw = b"".join(e.SerializeToString() for e in (await _history(temporal, handle.id)).events)
    assert MARKER.encode() not in raw and b"invoice 42" not in raw
