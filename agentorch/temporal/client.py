"""Starting runs on Temporal, following them from the store, and serving them as a worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowHistory
from temporalio.common import WorkflowIDReusePolicy
from temporalio.converter import DataConverter, PayloadCodec
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Worker

from agentorch import errors
from agentorch.errors import ConfigError, UserError
from agentorch.store.base import jsonable_state
from agentorch.temporal import _types as t
from agentorch.temporal._apps import serve
from agentorch.temporal._follow import Follower
from agentorch.temporal._waiting import waiting_result, waits_for_a_person
from agentorch.temporal.codec import (
    KEY_HINT,
    EncryptionCodec,
    KeyMismatchError,
    data_converter,
    default_codec,
    load_keys,
    quiet_key_errors,
    undecryptable,
)
from agentorch.temporal.sandbox import workflow_runner

if TYPE_CHECKING:
    from agentorch.plan import Plan
    from agentorch.result import RunResult
    from agentorch.store.base import Store
    from agentorch.supervisor import Supervisor

#: How often the poller of a client's followed runs reads their new events from the store.
FOLLOW_SECONDS = 0.2
#: How often a client following a run looks whether it waits for a person and nothing else.
WAIT_CHECK_SECONDS = 1.0
#: How often a waiting client first checks that a run making no progress is not stuck on its
#: key; each quiet look that finds it is not doubles the wait, up to ``KEY_CHECK_MAX_SECONDS``.
KEY_CHECK_SECONDS = 4.0
KEY_CHECK_MAX_SECONDS = 60.0
#: How long the run's workflow task must keep failing on a key before the client says so: a
#: worker with the key (just started) gets the retried task within Temporal's 10 s task timeout.
KEY_STUCK_SECONDS = 25.0


@dataclass
class Temporal:
    """A Temporal service to run on: ``Supervisor.run(task, temporal=Temporal("host:7233"))``.

    ``routes`` sends an agent's model and tool calls to its own task queue (e.g. the workers on
    a GPU host serving a local model); ``app`` names the supervisor workers serve (default: its
    ``name``). ``api_key`` (Temporal Cloud; default ``$TEMPORAL_API_KEY``) implies TLS; the
    namespace defaults to ``$TEMPORAL_NAMESPACE``, else ``default``.

    Payloads are encrypted with the key of ``$AGENTORCH_TEMPORAL_KEY`` (or its key file; see
    ``agentorch.temporal.codec``); with no key, connecting is refused unless ``plaintext`` (or
    ``$AGENTORCH_TEMPORAL_PLAINTEXT=1``) accepts plaintext history. ``codec`` replaces
    agentorch's codec with your own (e.g. one whose keys live in a KMS).
    """

    address: str = "localhost:7233"
    namespace: str = field(default_factory=lambda: os.environ.get("TEMPORAL_NAMESPACE", "default"))
    task_queue: str = "agentorch"
    app: str | None = None
    routes: dict[str, str] = field(default_factory=dict)
    approve_all: bool = False
    timeouts: t.Timeouts = field(default_factory=t.Timeouts)
    api_key: str | None = field(default=None, repr=False)
    tls: bool = False
    plaintext: bool = False
    codec: PayloadCodec | None = field(default=None, repr=False)
    #: More modules a worker's workflow sandbox shares (e.g. a library a specialist imports lazily).
    passthrough: tuple[str, ...] = ()
    _client: Client | None = field(default=None, repr=False)
    _followers: dict[int, Follower] = field(default_factory=dict, repr=False)

    def converter(self) -> DataConverter:
        """The data converter clients, workers and replayers of these runs use (the codec on)."""
        if self.codec is None:
            self.codec = default_codec(plaintext=self.plaintext)
        return data_converter(self.codec)

    async def connect(self) -> Client:
        if self._client is None:
            converter = self.converter()
            try:
                api_key = self.api_key or os.environ.get("TEMPORAL_API_KEY") or None
                self._client = await Client.connect(
                    self.address,
                    namespace=self.namespace,
                    data_converter=converter,
                    api_key=api_key,
                    tls=self.tls or api_key is not None,
                )
            except RuntimeError as exc:
                raise ConfigError(
                    f"cannot reach Temporal at {self.address}: {exc}",
                    hint="start one with `temporal server start-dev` or check --temporal HOST:PORT",
                ) from None
        return self._client

    # --- client side -----------------------------------------------------------------------------

    async def start(
        self,
        supervisor: Supervisor,
        task: str,
        *,
        files: Sequence[str | Path] = (),
        inputs: Mapping[str, str] | None = None,
        plan: Plan | None = None,
        state: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        workflow: str | None = None,
    ) -> WorkflowHandle[Any, t.RunOutput]:
        """Record the run in the store and start its workflow (workflow id = run id)."""
        store = _store_of(supervisor)
        new = supervisor.new_run(task, files, inputs, plan, state, run_id, workflow)
        record = new.record
        app = self.app or supervisor.name
        record.spec["temporal"] = {
            "address": self.address,
            "namespace": self.namespace,
            "task_queue": self.task_queue,
            "app": app,
        }
        record.created_at = record.updated_at = time.time()
        client = await self.connect()
        store.create_run(record)
        spec = t.RunInput(
            run_id=record.run_id,
            app=app,
            task=task,
            inputs=dict(new.spec.inputs),
            state=jsonable_state(new.spec.state),
            files=list(record.spec["files"]),
            workflow=workflow,
            plan=record.plan,
            budget=new.budget.to_dict(),
            approve_all=self.approve_all,
            routes=dict(self.routes),
            timeouts=self.timeouts,
        )
        try:
            return await client.start_workflow(
                t.RUN_WORKFLOW,
                spec,
                id=record.run_id,
                task_queue=self.task_queue,
                result_type=t.RunOutput,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except RPCError as exc:
            store.update_run(record.run_id, status="failed", error=f"ConfigError: {exc}")
            raise ConfigError(f"Temporal refused to start run {record.run_id}: {exc}") from None

    async def run(self, supervisor: Supervisor, task: str, **options: Any) -> RunResult:
        """Run on Temporal and wait for the result, or until the run waits for a person (as an
        embedded run ends ``waiting_approval``); the run's events reach ``supervisor``'s
        subscribers as the store receives them."""
        handle = await self.start(supervisor, task, **options)
        return await self.result(supervisor, handle.id, follow=supervisor.callbacks)

    async def result(
        self,
        supervisor: Supervisor,
        run_id: str,
        *,
        follow: Sequence[Callable[[Any], Any]] = (),
        until_finished: bool = False,
    ) -> RunResult:
        """Wait for a run's workflow to end; deliver its stored events to ``follow`` meanwhile.

        A run that can go no further without a person's decision is returned then, with status
        ``waiting_approval`` (``in_doubt`` for a call lost with its worker) while its workflow
        waits on Temporal; ``until_finished`` waits through such decisions for the end.
        """
        client = await self.connect()
        store = _store_of(supervisor)
        handle = client.get_workflow_handle(run_id, result_type=t.RunOutput)
        waiting = asyncio.ensure_future(handle.result())
        # the run's events come from the process's one poller (new events only)
        follower = self._follower(store)
        feed = follower.add(run_id, follow) if follow else None
        checked, stuck_since, progress = time.monotonic(), None, 0.0
        key_every = KEY_CHECK_SECONDS
        idle: tuple[str | None, str] = (None, "")
        try:
            while not waiting.done():
                wake: set[asyncio.Future[Any]] = (
                    {waiting} if feed is None else {waiting, feed.failed}
                )
                await asyncio.wait(wake, timeout=WAIT_CHECK_SECONDS)
                if feed is not None and feed.failed.done():
                    feed.failed.result()  # a subscriber's error ends the wait, as it used to
                if waiting.done():
                    break
                if not until_finished:
                    status, idle = await self._idle_for_a_person(client, store, run_id, idle)
                    if status is not None and not waiting.done():
                        if feed is not None:
                            follower.deliver(feed)
                        return waiting_result(supervisor, store, run_id, status)
                if time.monotonic() - checked > key_every:
                    checked = time.monotonic()
                    updated = store.get_run(run_id).updated_at  # the workers' writes move it
                    if updated != progress:
                        progress, stuck_since, key_every = updated, None, KEY_CHECK_SECONDS
                    else:
                        stuck_since = await self._check_workers_can_decrypt(handle, stuck_since)
                        if stuck_since is None:  # quiet, and not for its key: look less often
                            key_every = min(2 * key_every, KEY_CHECK_MAX_SECONDS)
            if feed is not None:
                follower.deliver(feed)
            try:
                out = waiting.result()
            except WorkflowFailureError as exc:
                raise _agentorch_error(exc) from None
            except KeyMismatchError as exc:
                raise ConfigError(f"run {run_id}'s result is unreadable here: {exc}") from None
        finally:
            if feed is not None:
                follower.remove(feed)
            if not waiting.done():
                waiting.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await waiting
        return _run_result(supervisor, store, out)

    def _follower(self, store: Store) -> Follower:
        """The one poller delivering the events of every run this object follows in ``store``."""
        follower = self._followers.get(id(store))
        if follower is None or follower.store is not store:
            follower = self._followers[id(store)] = Follower(store, FOLLOW_SECONDS)
        return follower

    async def _idle_for_a_person(
        self, client: Client, store: Store, run_id: str, before: tuple[str | None, str]
    ) -> tuple[str | None, tuple[str | None, str]]:
        """The run's waiting status once two looks in a row found it waiting for a person, for
        the same decisions (one look could fall between a step finishing and the next starting);
        and what this look saw, for the next one."""
        now = await waits_for_a_person(client, store, run_id)
        asked = ",".join(sorted(a.request_id for a in store.approvals(run_id, pending_only=True)))
        seen = (now, asked)
        confirmed = now is not None and before == seen
        return (now if confirmed else None), seen

    async def _check_workers_can_decrypt(
        self, handle: WorkflowHandle[Any, Any], since: float | None
    ) -> float | None:
        """Raise a one-line error when the run's workflow task has failed for ``KEY_STUCK_SECONDS``
        because a worker cannot decrypt the run (another key, or none); the run itself waits on
        Temporal for a worker that can. Returns since when it has been failing (``None``: not)."""
        try:
            described = await handle.describe()
        except RPCError:
            return since  # a busy service (a thousand runs followed at once): look next time
        if described.raw_description.pending_workflow_task.attempt < 2:
            return None  # (Temporal records a task's first failure, then retries it quietly)
        now = time.monotonic()
        if since is None or now - since < KEY_STUCK_SECONDS:
            return now if since is None else since
        failure = None
        try:
            async for event in handle.fetch_history_events():
                if event.HasField("workflow_task_failed_event_attributes"):
                    failure = event.workflow_task_failed_event_attributes.failure
        except RPCError:
            return since
        assert self.codec is not None  # set by connect()
        reason = None if failure is None else await undecryptable(self.codec, failure)
        if reason is not None:
            raise ConfigError(
                f"run {handle.id} is waiting on Temporal: its workers cannot decrypt it ({reason})",
                hint=f"{KEY_HINT}; the run continues once a worker has the key",
            )
        return since

    # --- worker side -----------------------------------------------------------------------------

    def _apps(self, supervisors: Sequence[Supervisor]) -> dict[str, Supervisor]:
        return {
            (self.app if len(supervisors) == 1 and self.app else s.name): s for s in supervisors
        }

    async def check_replay(
        self, *supervisors: Supervisor, histories: Iterable[WorkflowHistory] | None = None
    ) -> dict[str, str]:
        """Replay the runs still open on this task queue (or ``histories``) through this
        process's code serving ``supervisors``; return each run that would not replay, with
        why. Run it on new code before its workers take over from the old ones."""
        from agentorch.temporal.replay import open_histories, replay

        if histories is None:
            histories = await open_histories(await self.connect(), self.task_queue)
        apps = self._apps(supervisors)
        return await replay(apps, histories, self.converter(), self.passthrough)

    async def worker(self, *supervisors: Supervisor, **options: Any) -> Worker:
        """A worker serving ``supervisors`` (by ``app``/name) on this task queue; ``await
        worker.run()`` to serve until it is shut down."""
        from agentorch.temporal.activities import RunActivities
        from agentorch.temporal.nested import NestedWorkflow
        from agentorch.temporal.workflows import RunWorkflow

        apps = self._apps(supervisors)
        for name, sup in apps.items():
            if sup.store is None:
                raise ConfigError(
                    f"app {name!r} has no store: a worker writes runs to the store the client reads",
                    hint="pass store='sqlite:///runs.db' (one host) or a postgresql:// URL",
                )
        serve(apps)
        quiet_key_errors()
        from agentorch.temporal._apps import APPS

        activities = RunActivities(
            APPS, heartbeat_every=min(1.0, self.timeouts.heartbeat_seconds / 3)
        )
        return Worker(
            await self.connect(),
            task_queue=self.task_queue,
            workflows=[RunWorkflow, NestedWorkflow],
            activities=activities.definitions(),
            workflow_runner=workflow_runner(apps.values(), self.passthrough),
            graceful_shutdown_timeout=timedelta(seconds=5),
            **options,
        )


async def notify_decision(record_spec: Mapping[str, Any], run_id: str, request_id: str) -> bool:
    """Tell a run waiting on Temporal that a decision is in the store; ``False`` if not a Temporal run."""
    where = record_spec.get("temporal")
    if not isinstance(where, dict) or not where.get("address"):
        return False
    # The signal carries only the request id: with no key here it goes unencrypted, which
    # workers read (a key configured here is used)
    target = Temporal(
        address=where["address"],
        namespace=where.get("namespace", "default"),
        codec=EncryptionCodec(load_keys()),
    )
    client = await target.connect()
    try:
        await client.get_workflow_handle(run_id).signal(t.DECIDED_SIGNAL, request_id)
    except RPCError:
        return False  # the run already ended; the decision stays in the store
    return True


def _store_of(supervisor: Supervisor) -> Store:
    store = supervisor.store
    if store is None:
        raise ConfigError(
            "a run on Temporal needs a store (workers write its events there, the client reads them)",
            hint="pass store='sqlite:///runs.db' (one host) or a postgresql:// URL",
        )
    return store


def _agentorch_error(exc: WorkflowFailureError) -> Exception:
    cause: BaseException | None = exc.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    if cause is None:
        return errors.RunError(f"the run's workflow failed: {exc.cause or exc}")
    message = cause.message
    kind = getattr(errors, cause.type or "", None)
    name = f"{cause.type}: "
    if isinstance(kind, type) and issubclass(kind, UserError):
        return kind(message.removeprefix(name))
    return errors.RunError(message)


def _run_result(supervisor: Supervisor, store: Store, out: t.RunOutput) -> RunResult:
    from agentorch.budget import UsageReport
    from agentorch.plan import Plan
    from agentorch.result import RunResult, StepResult, typed_output

    agents = supervisor.agents
    steps = {
        s["step_id"]: StepResult(
            s["step_id"],
            s["agent"],
            s["status"],
            typed_output(agents.get(s["agent"]), s["output"]),
            s["error"],
            s["revision"],
            s["context_tokens"],
        )
        for s in out.steps
    }
    return RunResult(
        run_id=out.run_id,
        status=out.status,
        output=typed_output(agents.get(out.final_agent or ""), out.output),
        plan=Plan.model_validate(out.plan) if out.plan else None,
        steps=steps,
        usage=UsageReport.model_validate(out.usage),
        error=out.error,
        pending_approvals=store.approvals(out.run_id, pending_only=True),
    )
