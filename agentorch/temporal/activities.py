"""The activities of a run: store writes, model calls, tool calls and approvals, on any worker.

Each one finds what it needs by name in the worker's copy of the app. Model and tool calls are
journaled in the store under the run's journal key (the idempotency key), so an attempt retried
after its worker was lost knows it: a completed tool call is replayed, a side-effecting one that
may have run is put to a person (never run twice), a killed model call's reservation is charged.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from agentorch._spend import killed_attempts
from agentorch.approvals import ApprovalDecision, ApprovalRequest, decided_automatically
from agentorch.approvals_gate import approval_record
from agentorch.errors import AgentOrchError, AuditError, ConfigError, ProviderError, UserError
from agentorch.models.types import ModelRequest, ModelResponse
from agentorch.models.wrappers import TimeoutModel, has_timeout
from agentorch.store.base import ApprovalRecord, JournalEntry, StepRecord, Store
from agentorch.store.redacting import RedactingStore
from agentorch.temporal import _types as t
from agentorch.temporal._tree import find_model, level
from agentorch.tools._bounded import ToolAbandoned
from agentorch.tools.base import ToolContext, render_result
from agentorch.tools.registry import _cut, run_tool_guarded

if TYPE_CHECKING:
    from agentorch.supervisor import Supervisor


def _fail(exc: BaseException) -> ApplicationError:
    """An error no retry fixes, named so the workflow raises the same agentorch error."""
    kind = next(
        (
            k.__name__
            for k in (ProviderError, AuditError, ConfigError, UserError)
            if isinstance(exc, k)
        ),
        "ProviderError",
    )
    message = str(exc) if isinstance(exc, AgentOrchError) else f"{type(exc).__name__}: {exc}"
    return ApplicationError(message, type=kind, non_retryable=True)


@contextlib.asynccontextmanager
async def _heartbeating(every: float) -> AsyncIterator[None]:
    """Heartbeat while the call runs: a lost worker's call is retried once the heartbeats stop."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every)

    task = asyncio.ensure_future(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class RunActivities:
    """The activities a worker serves for its apps (one ``Supervisor`` each, by name)."""

    def __init__(self, apps: dict[str, Supervisor], *, heartbeat_every: float = 1.0) -> None:
        self.apps = apps
        self.heartbeat_every = heartbeat_every

    def definitions(self) -> list[Callable[..., Any]]:
        return [
            self.budget_op,
            self.store_write,
            self.model_call,
            self.tool_call,
            self.approval_open,
            self.approval_ask,
            self.approval_check,
        ]

    def _app(self, name: str) -> Supervisor:
        sup = self.apps.get(name)
        if sup is None:
            raise ApplicationError(
                f"ConfigError: this worker does not serve app {name!r} (it serves: "
                f"{', '.join(sorted(self.apps)) or 'none'})",
                type="ConfigError",
                non_retryable=True,
            )
        return sup

    def _store(self, name: str) -> Store:
        store = self._app(name).store
        if store is None:
            raise ApplicationError(
                "ConfigError: a worker needs a store (the same one the client uses)",
                type="ConfigError",
                non_retryable=True,
            )
        return store

    # --- store writes ----------------------------------------------------------------------------

    def _apply(self, app: str, batch: t.StoreOps) -> None:
        """Apply a batch of the workflow's writes once, in order, in one transaction."""
        if not batch.ops and not batch.secrets:
            return
        sup = self._app(app)
        store = self._store(app)
        sup.redactor.add(*batch.secrets)
        log = store.inner if isinstance(store, RedactingStore) else store
        marker = f"flushed:{activity.info().workflow_id}"
        with store.transaction():
            record = store.get_run(batch.run_id)
            engine = dict(record.spec.get("temporal", {}))
            if int(engine.get(marker, 0)) >= batch.seq:
                return  # an earlier attempt of this activity committed it
            for op in batch.ops:
                self._apply_one(sup, store, log, batch.run_id, op)
            engine[marker] = batch.seq
            store.update_run(batch.run_id, spec={**record.spec, "temporal": engine})

    def _apply_one(
        self, sup: Supervisor, store: Store, log: Store, run_id: str, op: dict[str, Any]
    ) -> None:
        kind = op["op"]
        if kind == "event":
            payload = sup.redactor.redact_value(op["payload"])
            log.append_event(run_id, op["kind"], op["ts"], payload)
        elif kind == "step":
            store.save_step(StepRecord.model_validate(op["record"]))
        elif kind == "run":
            store.update_run(run_id, **op["fields"])
        elif kind == "journal_finish":
            result = op["result"]
            store.journal_finish(
                run_id,
                op["key"],
                status="failed"
                if isinstance(result, dict) and result.get("is_error")
                else "completed",
                result=result,
                usage=op.get("usage"),
                finished_at=op["finished_at"],
            )
        elif kind == "decide":
            decision = ApprovalDecision.model_validate(op["decision"])
            with contextlib.suppress(UserError):  # decided elsewhere first: that one is stored
                store.decide_approval(
                    op["request_id"],
                    status=decision.decision,
                    approver=decision.approver,
                    decided_arguments=decision.arguments,
                    comment=decision.comment,
                    decided_at=op["decided_at"],
                )
        else:
            raise ApplicationError(
                f"unknown store op {kind!r}", type="ConfigError", non_retryable=True
            )

    @activity.defn(name=t.STORE_WRITE)
    async def store_write(self, batch: t.StoreOps) -> None:
        self._apply(batch.app, batch)

    @activity.defn(name=t.BUDGET_OP)
    async def budget_op(self, op: t.BudgetOp) -> dict[str, Any]:
        """Send a child workflow's ledger operation to the run's workflow (applied once per id)."""
        handle = activity.client().get_workflow_handle(op.root_id)
        try:
            result: dict[str, Any] = await handle.execute_update(
                t.BUDGET_UPDATE, op, id=op.op_id, result_type=dict
            )
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError):
                raise ApplicationError(cause.message, type=cause.type, non_retryable=True) from None
            raise
        return result

    # --- model calls -----------------------------------------------------------------------------

    @activity.defn(name=t.MODEL_CALL)
    async def model_call(self, call: t.ModelCallInput) -> t.ModelCallOutput:
        sup = self._app(call.app)
        store = self._store(call.app)
        run_id = call.flush.run_id
        try:
            model = find_model(sup, call.agent, call.model_id)
        except ConfigError as exc:
            raise _fail(exc) from None
        entry = store.journal_get(run_id, call.key)
        if entry is not None and entry.status == "completed" and entry.result is not None:
            return t.ModelCallOutput(response=entry.result)
        killed = killed_attempts(entry)
        request: dict[str, Any] = {
            "agent": call.agent,
            "reserved_usd": call.reserved_usd,
            "reserved_tokens": call.reserved_tokens,
        }
        if killed:
            request["killed"] = killed
        store.journal_start(
            JournalEntry(
                run_id=run_id,
                key=call.key,
                kind="model",
                step_id=call.step_id,
                name=call.model_id,
                status="started",
                idempotent=True,
                started_at=call.started_at,
                request=request,
            )
        )
        bounded = model if has_timeout(model) else TimeoutModel(model)
        t0 = time.perf_counter()
        try:
            async with _heartbeating(self.heartbeat_every):
                response: ModelResponse = await bounded.request(
                    ModelRequest.model_validate(call.request)
                )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            store.journal_finish(
                run_id,
                call.key,
                status="failed",
                error=f"{type(exc).__name__}: {exc}",
                finished_at=time.time(),
            )
            raise _fail(exc) from None
        return t.ModelCallOutput(
            response=response.model_dump(mode="json"),
            latency_ms=(time.perf_counter() - t0) * 1000,
            killed=killed,
        )

    # --- tool calls ------------------------------------------------------------------------------

    @activity.defn(name=t.TOOL_CALL)
    async def tool_call(self, call: t.ToolCallInput) -> t.ToolCallOutput:
        sup = self._app(call.app)
        store = self._store(call.app)
        run_id = call.flush.run_id
        try:
            registry = level(sup, call.level).registry()
        except ConfigError as exc:
            raise _fail(exc) from None
        tool = registry.find(call.tool)
        if tool is None:
            raise _fail(ConfigError(f"this worker's app has no tool {call.tool!r}"))
        entry = store.journal_get(run_id, call.key)
        if entry is not None and entry.status in ("completed", "failed") and entry.result:
            return t.ToolCallOutput(
                content=entry.result["content"],
                is_error=bool(entry.result["is_error"]),
                replayed=True,
            )
        fresh = call.run_again > 0 and activity.info().attempt == 1
        if entry is not None and entry.status == "started" and not tool.idempotent and not fresh:
            raise ApplicationError(
                f"tool call {call.tool!r} ({call.key}) started on a lost worker: its outcome is unknown",
                type=t.IN_DOUBT,
                non_retryable=True,
            )
        arguments = tool.validate(call.arguments)
        context = ToolContext(
            run_id=run_id,
            step_id=call.step_id,
            agent=call.agent,
            idempotency_key=call.key.removeprefix("tool:"),
            state=call.state,
            approval=ApprovalDecision.model_validate(call.approval) if call.approval else None,
        )

        async def run() -> Any:
            result = await tool.invoke(arguments, context)
            return _cut(render_result(result), registry.max_result_bytes)

        store.journal_start(
            JournalEntry(
                run_id=run_id,
                key=call.key,
                kind="tool",
                step_id=call.step_id,
                name=tool.name,
                request_hash=call.request_hash,
                status="started",
                idempotent=tool.idempotent,
                request={"agent": call.agent, "arguments": call.stored_arguments},
                started_at=call.started_at,
            )
        )
        try:
            async with _heartbeating(self.heartbeat_every):
                content, is_error = await run_tool_guarded(tool, run)
        except ToolAbandoned as exc:  # still running past its timeout: left in doubt
            return t.ToolCallOutput(content=f"Error: {exc}", is_error=True)
        store.journal_finish(
            run_id,
            call.key,
            status="failed" if is_error else "completed",
            result={"content": content, "is_error": is_error},
            error=content if is_error else None,
            finished_at=time.time(),
        )
        return t.ToolCallOutput(content=content, is_error=is_error)

    # --- approvals -------------------------------------------------------------------------------

    def _decided(self, store: Store, run_id: str, request_id: str) -> dict[str, Any] | None:
        """A decision the store holds, acted on only when the run's audit log vouches for it."""
        try:
            record = store.get_approval(request_id)
        except (UserError, KeyError):
            return None
        if record.status == "pending":
            return None
        verdict = store.verify_audit(run_id)
        if not verdict.ok:
            raise _fail(
                AuditError(
                    f"refused the decision on approval {request_id}: run {run_id}'s audit log "
                    f"disagrees with the store ({verdict.problem})"
                )
            )
        return _decision(record).model_dump(mode="json")

    @activity.defn(name=t.APPROVAL_OPEN)
    async def approval_open(self, ask: t.ApprovalInput) -> t.ApprovalOutput:
        self._apply(ask.app, ask.flush)
        store = self._store(ask.app)
        request = ApprovalRequest.model_validate(ask.request)
        found = self._decided(store, request.run_id, request.request_id)
        if found is not None:
            return t.ApprovalOutput(decision=found, recorded=True)
        try:
            store.get_approval(request.request_id)
            return t.ApprovalOutput()
        except (UserError, KeyError):
            pass
        store.create_approval(approval_record(request, request.run_id, ask.now))
        return t.ApprovalOutput(created=True)

    @activity.defn(name=t.APPROVAL_ASK)
    async def approval_ask(self, ask: t.ApprovalInput) -> t.ApprovalOutput:
        self._apply(ask.app, ask.flush)
        store = self._store(ask.app)
        request = ApprovalRequest.model_validate(ask.request)
        approver = level(self._app(ask.app), ask.level).approver
        if approver is None:
            raise _fail(
                ConfigError(
                    f"{request.subject} approval needed ({request.reason}) but the worker's "
                    "supervisor has no approver"
                )
            )
        async with _heartbeating(self.heartbeat_every):
            decision = await approver.decide(request)
        if decision is None:
            return t.ApprovalOutput()
        try:
            store.decide_approval(
                request.request_id,
                status=decision.decision,
                approver=decision.approver,
                decided_arguments=decision.arguments,
                comment=decision.comment,
                decided_at=time.time(),
            )
        except UserError:  # someone decided first (``agentorch approve``): that decision wins
            first = self._decided(store, request.run_id, request.request_id)
            if first is not None:
                return t.ApprovalOutput(decision=first, recorded=True)
            raise
        return t.ApprovalOutput(decision=decision.model_dump(mode="json"))

    @activity.defn(name=t.APPROVAL_CHECK)
    async def approval_check(self, ask: t.ApprovalInput) -> t.ApprovalOutput:
        self._apply(ask.app, ask.flush)
        store = self._store(ask.app)
        request = ApprovalRequest.model_validate(ask.request)
        found = self._decided(store, request.run_id, request.request_id)
        return t.ApprovalOutput(decision=found, recorded=found is not None)


def _decision(record: ApprovalRecord) -> ApprovalDecision:
    return ApprovalDecision(
        decision=record.status,  # type: ignore[arg-type]
        approver=record.approver or "unknown",
        comment=record.comment,
        arguments=record.decided_arguments,
        automatic=decided_automatically(record.comment),
    )
