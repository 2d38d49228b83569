"""Planning, scheduling, review and escalation: the supervisor's deterministic core.

Everything here talks to the world only through the ``Runtime`` seam, so the same logic runs in
the embedded runtime and, later, as a durable workflow on Temporal.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from agentorch._slots import StepSlots
from agentorch.agent import Agent, Dependency, StepContext, render_value
from agentorch.approvals import ApprovalDecision
from agentorch.changes import ESCALATION_ALONGSIDE, SLOT_RELEASE
from agentorch.errors import (
    ApprovalPending,
    BudgetExceeded,
    DelegationCycleError,
    InDoubtError,
    LeaseLostError,
    MaxStepsExceeded,
    RunError,
    UserError,
)
from agentorch.events.types import (
    ReviewVerdictEvent,
    StepFailed,
    StepFinished,
    StepSkipped,
    StepStarted,
    StepWaiting,
)
from agentorch.limits import MAX_PLAN_STEPS as MAX_PLAN_STEPS  # re-exported
from agentorch.limits import Limits
from agentorch.models.base import Model
from agentorch.models.types import (
    ModelRequest,
    SystemMessage,
    UserMessage,
)
from agentorch.plan import Plan, Step, Verdict
from agentorch.result import typed_output
from agentorch.review import EscalationPolicy, Reviewing
from agentorch.runtime import ModelCall, Runtime
from agentorch.store.base import StepRecord


@dataclass
class RunSpec:
    task: str
    inputs: dict[str, str] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    status: str
    plan: Plan | None
    steps: dict[str, StepRecord]
    outputs: dict[str, Any]
    error: str | None = None
    final_step: str | None = None
    waiting: list[str] = field(default_factory=list)
    exception: BaseException | None = None


class Orchestrator(Reviewing):
    """Runs one plan to a terminal state through a ``Runtime``."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        agents: Mapping[str, Agent],
        models: Mapping[str, Model],
        synthesizer: Model | None,
        limits: Limits,
        escalation: EscalationPolicy,
        spec: RunSpec,
    ) -> None:
        self.rt = runtime
        self.agents = agents
        self.models = models
        self.synthesizer = synthesizer
        self.limits = limits
        self.escalation = escalation
        self.spec = spec
        self.records: dict[str, StepRecord] = {}
        self._plan: Plan | None = None
        # steps whose readiness may have changed since the scheduler last looked (by position)
        self._dirty: list[int] = []
        self._dirty_set: set[int] = set()
        # steps found ready that wait for a free slot (by position: they start in plan order)
        self._queued: list[int] = []
        self._queued_set: set[int] = set()
        self.concurrency = limits.concurrent_steps(spec.state)
        self._slots = StepSlots(self.concurrency)
        #: Whether a step waiting for a person gives its slot back (a run recorded on Temporal
        #: before that change keeps its slot, as it did then: its history must replay).
        self._release = self.concurrency is not None and runtime.uses_change(SLOT_RELEASE)
        self._alongside = runtime.uses_change(ESCALATION_ALONGSIDE)
        self._deciding: dict[str, asyncio.Task[ApprovalDecision]] = {}
        self.executions = 0
        self.total_revisions = 0
        #: step id -> (stored output, typed output): a finished step's output is typed once, not
        #: once per dependant (a large plan's steps all read the same parse result at once).
        self._typed: dict[str, tuple[Any, Any]] = {}
        self._last_outputs: dict[str, str] = {}

    # --- scheduling ----------------------------------------------------------------------------

    async def execute(self, plan: Plan) -> Outcome:
        # a nested supervisor's steps are stored in the same run under this level's step ids
        # (``ops.book`` under ``ops``): they are its own to schedule, not this level's
        ids = {step.id for step in plan.steps}
        self.records = {sid: r for sid, r in self.rt.load_steps().items() if sid in ids}
        self._plan = plan
        self._dirty, self._dirty_set = list(range(len(plan.steps))), set(range(len(plan.steps)))
        for step in plan.steps:
            record = self.records.get(step.id)
            if record is None:
                record = StepRecord(
                    run_id=self.rt.run_id,
                    step_id=step.id,
                    agent=step.agent,
                    instruction=step.instruction,
                )
                self.records[step.id] = record
            elif record.status in ("running", "waiting", "failed", "skipped"):
                # resumed: interrupted, waiting or failed steps run again; their journal replays
                # every model and tool call that already finished
                record.status = "pending"
        running: dict[str, asyncio.Task[Any]] = {}
        stop: BaseException | None = None
        try:
            # resumed: settle what finished but waited for review or a person before any step
            # starts (its decision is usually recorded already: every dependant can start at once)
            for step in plan.steps:
                if (
                    not step.reviews
                    and self.records[step.id].status == "done"
                    and not self.records[step.id].settled
                ):
                    with contextlib.suppress(ApprovalPending):
                        await self._review(plan, step)
            while True:
                if stop is None:
                    for step in self._startable(plan, running):
                        self.executions += 1
                        cap = self.limits.step_cap(len(plan.steps))
                        if self.executions > cap:
                            stop = MaxStepsExceeded(
                                f"the run reached its cap of {cap} step executions"
                            )
                            break
                        self._slots.take()
                        running[step.id] = asyncio.create_task(
                            self._run_step(plan, step), name=step.id
                        )
                if not running and not self._deciding:
                    break
                waits: list[asyncio.Future[Any]] = [*running.values(), *self._deciding.values()]
                if self._release:  # a step that waits for a person frees a slot for another
                    waits.append(self._slots.woken())
                done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                # in the order the steps started, not the set's (a replayed workflow must agree)
                for step_id in [sid for sid, task in running.items() if task in done]:
                    task = running.pop(step_id)
                    self._slots.release()
                    error = await self._finish_step(plan, plan.step(step_id), task)
                    if error is not None and stop is None:
                        stop = error
                # then the decided escalations, in the order they were asked
                for step_id in [sid for sid, task in self._deciding.items() if task in done]:
                    self._take_decision(plan, plan.step(step_id), self._deciding.pop(step_id))
        except asyncio.CancelledError:
            for task in running.values():
                task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)
            for step_id in running:
                self._save(self.records[step_id].model_copy(update={"status": "pending"}))
            raise
        except LeaseLostError:
            # Another process owns the run now: stop every step here, record nothing.
            for task in running.values():
                task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)
            raise
        finally:
            # an escalation still undecided when the run stops is asked again when it resumes
            # (its step stays done and unsettled); nothing of it was written yet
            deciding, self._deciding = list(self._deciding.values()), {}
            for pending in deciding:
                pending.cancel()
            if deciding:
                await asyncio.gather(*deciding, return_exceptions=True)
        return self._outcome(plan, stop)

    def _startable(self, plan: Plan, running: Mapping[str, Any]) -> list[Step]:
        """Ready steps to start now: at most the free slots' worth, the first in plan order.

        Deterministic (a replayed Temporal workflow starts the same steps in the same order): the
        order depends only on the plan and the order in which steps finished. A queued step is
        looked at again before it starts, as a revision may have made it wait again.
        """
        for pos in self._ready(plan, running):
            if pos not in self._queued_set:
                self._queued_set.add(pos)
                heapq.heappush(self._queued, pos)
        slots = self._slots.free()
        free = len(self._queued) if slots is None else slots
        start: list[Step] = []
        while self._queued and len(start) < free:
            pos = heapq.heappop(self._queued)
            self._queued_set.discard(pos)
            if self._is_ready(plan, plan.steps[pos], running):
                start.append(plan.steps[pos])
        return start

    def _ready(self, plan: Plan, running: Mapping[str, Any]) -> list[int]:
        """Positions of steps that could start now; only steps touched since the last call are looked at.

        A step's readiness changes only when a record it depends on changes (``_save`` marks the
        dependants), so the scheduler's cost per completion is independent of the plan's size.
        Skipping a step marks its dependants in turn; they are examined in the same call.
        """
        ready: list[int] = []
        while self._dirty:
            pos = heapq.heappop(self._dirty)
            self._dirty_set.discard(pos)
            step = plan.steps[pos]
            if self._is_ready(plan, step, running):
                ready.append(pos)
        return ready

    def _is_ready(self, plan: Plan, step: Step, running: Mapping[str, Any]) -> bool:
        record = self.records[step.id]
        if record.status != "pending" or step.id in running:
            return False
        deps = [d for d in step.depends_on if d != step.reviews]
        if step.reviews:
            target = self.records[step.reviews]
            if target.status != "done" or target.settled:
                if target.status in ("failed", "skipped"):
                    self._skip(step, f"the step it reviews ({step.reviews}) did not finish")
                return False
        failed = [d for d in deps if self.records[d].status in ("failed", "skipped")]
        if failed and not step.continue_on_failed_deps:
            self._skip(step, f"dependency {', '.join(failed)} did not finish")
            return False
        return all(
            self._settled(plan, d) or self.records[d].status in ("failed", "skipped") for d in deps
        )

    def _mark(self, step_id: str) -> None:
        """``step_id``'s record changed: re-examine it and every step whose readiness reads it."""
        plan = self._plan
        if plan is None:
            return
        stack = [step_id]
        seen: set[str] = set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            for sid in (current, *plan.direct_dependants(current)):
                pos = plan.position(sid)
                if pos not in self._dirty_set:
                    self._dirty_set.add(pos)
                    heapq.heappush(self._dirty, pos)
            # a reviewer counts as settled when the step it reviews is: its dependants read that too
            stack.extend(r.id for r in plan.reviewers_of(current))

    def _settled(self, plan: Plan, step_id: str) -> bool:
        record = self.records[step_id]
        if record.status != "done":
            return False
        step = plan.step(step_id)
        if step.reviews:
            # a reviewer of a step that failed (e.g. at the revision cap, on resume) has nothing
            # left to settle: it must not hold the steps that wait for it forever
            if self.records[step.reviews].status in ("failed", "skipped"):
                return True
            return self._settled(plan, step.reviews)
        return record.settled

    def _skip(self, step: Step, reason: str) -> None:
        with self.rt.checkpoint():
            self._save(
                self.records[step.id].model_copy(update={"status": "skipped", "error": reason})
            )
            self.rt.emit(StepSkipped(step_id=step.id, agent=step.agent, reason=reason))

    def _save(self, record: StepRecord) -> None:
        self.records[record.step_id] = record
        self.rt.save_step(record)
        self._mark(record.step_id)

    # --- one step ------------------------------------------------------------------------------

    def context_for(self, plan: Plan, step: Step) -> StepContext:
        record = self.records[step.id]
        deps = {}
        decisions = list(record.decisions)
        for dep_id in step.all_dependencies():
            dep = self.records[dep_id]
            deps[dep_id] = Dependency(
                step_id=dep_id,
                agent=dep.agent,
                status=dep.status,
                output=self._typed_output(plan.step(dep_id), dep.output)
                if dep.status == "done"
                else None,
                error=dep.error,
            )
            decisions.extend(d for d in dep.decisions if d not in decisions)
        inputs = {name: self.spec.inputs[name] for name in step.inputs if name in self.spec.inputs}
        return StepContext(
            run_id=self.rt.run_id,
            task=self.spec.task,
            step=step,
            dependencies=deps,
            inputs=inputs,
            decisions=decisions,
            feedback=list(record.feedback),
            revision=record.revision,
            state=self.spec.state,
        )

    def _typed_output(self, step: Step, value: Any) -> Any:
        cached = self._typed.get(step.id)
        if cached is not None and cached[0] is value:
            return cached[1]
        typed = typed_output(self.agents.get(step.agent), value)
        self._typed[step.id] = (value, typed)
        return typed

    async def _run_step(self, plan: Plan, step: Step) -> Any:
        if self._release:
            self._slots.enter()  # (this task's own context: approvals find the step's slots)
        agent = self.agents[step.agent]
        model = self.models[step.id]
        context = self.context_for(plan, step)
        messages = agent.build_messages(context)
        context_tokens = sum(
            self.rt.count_tokens(model, getattr(m, "content", "") or "") for m in messages
        )
        record = self.records[step.id].model_copy(
            update={
                "status": "running",
                "started_at": self.rt.now(),
                "context_tokens": context_tokens,
                "error": None,
                "settled": False,
            }
        )
        with self.rt.holding():  # committed with the step's first call's intent
            self._save(record)
            self.rt.emit(
                StepStarted(
                    step_id=step.id,
                    agent=agent.name,
                    model=model.id,
                    instruction=step.instruction[:500],
                    revision=record.revision,
                    context_tokens=context_tokens,
                )
            )
        return await agent.execute(context, self.rt, model)

    async def _finish_step(
        self, plan: Plan, step: Step, task: asyncio.Task[Any]
    ) -> BaseException | None:
        """Record a finished step task; return an error that stops the whole run, if any."""
        record = self.records[step.id]
        try:
            result = task.result()
        except ApprovalPending as exc:
            self._save(record.model_copy(update={"status": "waiting"}))
            self.rt.emit(
                StepWaiting(
                    step_id=step.id, agent=step.agent, request_id=exc.request_id, reason=str(exc)
                )
            )
            return None
        except LeaseLostError:
            raise
        except InDoubtError as exc:
            self._save(record.model_copy(update={"status": "waiting", "error": str(exc)}))
            self.rt.emit(
                StepWaiting(step_id=step.id, agent=step.agent, request_id=exc.key, reason=str(exc))
            )
            return None
        except (BudgetExceeded, UserError) as exc:
            self._fail(plan, step, exc)
            return exc
        except (RunError, Exception) as exc:
            self._fail(plan, step, exc)
            if step.reviews:  # a reviewer that failed does not hold its target forever
                target = plan.step(step.reviews)
                escalation = self._review_now(plan, target)
                if escalation is not None:
                    await self._put_to_person(plan, target, escalation)
            return None
        finally:
            # A step's error carries this frame in its traceback, and the task holds the error:
            # dropped here, so a failed step leaves no task -> error -> frame -> task cycle.
            del task
        output = result.output
        dumped = output.model_dump(mode="json") if isinstance(output, BaseModel) else output
        rendered = render_value(output)
        previous = self._last_outputs.get(step.id)
        if (
            previous is not None
            and previous == rendered
            and record.revision > 0
            and not step.reviews
        ):
            self._fail(
                plan,
                step,
                DelegationCycleError(
                    f"step {step.id!r} came back unchanged after a revision request: the same request is "
                    f"bouncing between {step.agent!r} and its reviewers"
                ),
            )
            return None
        self._last_outputs[step.id] = rendered
        record = record.model_copy(
            update={
                "status": "done",
                "output": dumped,
                "finished_at": self.rt.now(),
                "usage": result.usage.model_dump(),
                "settled": False,
            }
        )
        target = plan.step(step.reviews or step.id)
        with self.rt.holding():  # the step's result, its verdict and what it settles
            self._save(record)
            self.rt.emit(
                StepFinished(
                    step_id=step.id,
                    agent=step.agent,
                    output_preview=rendered[:300],
                    usage=result.usage.model_dump(),
                    revision=record.revision,
                )
            )
            if isinstance(output, Verdict) and step.reviews:
                self.rt.emit(
                    ReviewVerdictEvent(
                        step_id=step.id,
                        agent=step.agent,
                        target_step=step.reviews,
                        verdict=output.verdict,
                        confidence=output.confidence,
                        reasons=output.reasons,
                    )
                )
            escalation = self._review_now(plan, target)
        if escalation is not None:
            await self._put_to_person(plan, target, escalation)
        return None

    def _fail(self, plan: Plan, step: Step, exc: BaseException) -> None:
        message = str(exc) or type(exc).__name__
        blocked = [
            s for s in plan.dependants_of(step.id) if not plan.step(s).continue_on_failed_deps
        ]
        with self.rt.checkpoint():
            self._save(
                self.records[step.id].model_copy(
                    update={
                        "status": "failed",
                        "error": f"{type(exc).__name__}: {message}",
                        "finished_at": self.rt.now(),
                    }
                )
            )
            self.rt.emit(
                StepFailed(
                    step_id=step.id,
                    agent=step.agent,
                    error_type=type(exc).__name__,
                    message=message,
                    dependants_skipped=blocked,
                )
            )

    # --- the end -------------------------------------------------------------------------------

    def _outcome(self, plan: Plan, stop: BaseException | None) -> Outcome:
        outputs = {sid: r.output for sid, r in self.records.items() if r.status == "done"}
        waiting = [
            sid
            for sid, r in self.records.items()
            if r.status == "waiting"
            or (r.status == "done" and not self._settled(plan, sid) and not plan.step(sid).reviews)
        ]
        final = plan.final_step
        if stop is not None:
            status = "budget_exceeded" if isinstance(stop, BudgetExceeded) else "failed"
            return Outcome(
                status,
                plan,
                self.records,
                outputs,
                error=f"{type(stop).__name__}: {stop}",
                final_step=final,
                waiting=waiting,
                exception=stop,
            )
        if waiting:
            in_doubt = any(
                self.records[s].error and "in doubt" in (self.records[s].error or "")
                for s in waiting
            )
            return Outcome(
                "in_doubt" if in_doubt else "waiting_approval",
                plan,
                self.records,
                outputs,
                final_step=final,
                waiting=waiting,
            )
        failed = [sid for sid, r in self.records.items() if r.status in ("failed", "skipped")]
        if final is not None and self.records[final].status != "done":
            return Outcome(
                "failed",
                plan,
                self.records,
                outputs,
                error=f"final step {final!r} did not finish; "
                f"failed or skipped: {', '.join(failed)}",
                final_step=final,
            )
        if failed and all(self.records[s.id].status != "done" for s in plan.sinks()):
            return Outcome(
                "failed",
                plan,
                self.records,
                outputs,
                error=f"no result: failed or skipped: {', '.join(failed)}",
                final_step=final,
            )
        return Outcome(
            "succeeded",
            plan,
            self.records,
            outputs,
            final_step=final,
            error=(f"some steps did not finish: {', '.join(failed)}" if failed else None),
        )

    async def synthesize(self, plan: Plan, outcome: Outcome) -> Any:
        """The run's output: the final step's, or one model call over the finished sink steps."""
        if outcome.final_step is not None:
            return outcome.outputs.get(outcome.final_step)
        sinks = [s for s in plan.sinks() if s.id in outcome.outputs]
        if len(sinks) == 1 or self.synthesizer is None:
            return outcome.outputs[sinks[-1].id] if sinks else None
        parts = "\n\n".join(
            f"## {s.id} ({s.agent})\n{render_value(outcome.outputs[s.id])}" for s in sinks
        )
        request = ModelRequest(
            messages=(
                SystemMessage(
                    content="Combine the results of your specialists into one final answer to the task."
                ),
                UserMessage(content=f"## Task\n{self.spec.task}\n\n{parts}"),
            )
        )
        response = await self.rt.call_model(
            ModelCall(
                key="synthesize",
                agent="supervisor",
                step_id=None,
                model=self.synthesizer,
                request=request,
            )
        )
        return response.text
