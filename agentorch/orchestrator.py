"""Planning, scheduling, review and escalation: the supervisor's deterministic core.

Everything here talks to the world only through the ``Runtime`` seam, so the same logic runs in
the embedded runtime and, later, as a durable workflow on Temporal.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from agentorch.agent import Agent, Dependency, StepContext, render_value
from agentorch.approvals import ApprovalRequest
from agentorch.errors import (
    ApprovalPending,
    BudgetExceeded,
    DelegationCycleError,
    InDoubtError,
    MaxStepsExceeded,
    RunError,
    UserError,
)
from agentorch.events.types import (
    Escalated,
    ReviewVerdictEvent,
    RevisionRequested,
    StepFailed,
    StepFinished,
    StepSkipped,
    StepStarted,
    StepWaiting,
)
from agentorch.models.base import Model
from agentorch.models.types import (
    ModelRequest,
    SystemMessage,
    UserMessage,
)
from agentorch.plan import Plan, Step, Verdict
from agentorch.runtime import ModelCall, Runtime
from agentorch.store.base import StepRecord

if TYPE_CHECKING:
    pass


class EscalationPolicy(BaseModel):
    """When a result goes to a person before the run moves on."""

    risk_levels: list[str] = Field(default_factory=lambda: ["high"])
    min_confidence: float = 0.5
    flags: list[str] = Field(default_factory=lambda: ["pricing_commitment", "legal_exposure"])
    on_reviewer_escalate: bool = True


@dataclass
class Limits:
    max_steps: int = 60  # step executions, revisions included
    max_revisions: int = 2  # per step
    max_total_revisions: int = 12
    max_plan_attempts: int = 3
    max_plan_steps: int = 30


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


class Orchestrator:
    """Runs one plan to a terminal state through a ``Runtime``."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        agents: Mapping[str, Agent],
        models: Mapping[str, Model],
        router: Model | None,
        synthesizer: Model | None,
        limits: Limits,
        escalation: EscalationPolicy,
        spec: RunSpec,
    ) -> None:
        self.rt = runtime
        self.agents = agents
        self.models = models
        self.router = router
        self.synthesizer = synthesizer
        self.limits = limits
        self.escalation = escalation
        self.spec = spec
        self.records: dict[str, StepRecord] = {}
        self.executions = 0
        self.total_revisions = 0
        self._last_outputs: dict[str, str] = {}

    # --- scheduling ----------------------------------------------------------------------------

    async def execute(self, plan: Plan) -> Outcome:
        self.records = self.rt.load_steps()
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
        for (
            step
        ) in plan.steps:  # resumed: settle what finished but was waiting for review or a person
            if (
                not step.reviews
                and self.records[step.id].status == "done"
                and not self.records[step.id].settled
            ):
                with contextlib.suppress(ApprovalPending):
                    await self._review(plan, step)
        try:
            while True:
                if stop is None:
                    for step in self._ready(plan, running):
                        self.executions += 1
                        if self.executions > self.limits.max_steps:
                            stop = MaxStepsExceeded(
                                f"the run reached its cap of {self.limits.max_steps} step executions"
                            )
                            break
                        running[step.id] = asyncio.create_task(
                            self._run_step(plan, step), name=step.id
                        )
                if not running:
                    break
                done, _ = await asyncio.wait(running.values(), return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    step_id = task.get_name()
                    del running[step_id]
                    error = await self._finish_step(plan, plan.step(step_id), task)
                    if error is not None and stop is None:
                        stop = error
        except asyncio.CancelledError:
            for task in running.values():
                task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)
            for step_id in running:
                self._save(self.records[step_id].model_copy(update={"status": "pending"}))
            raise
        return self._outcome(plan, stop)

    def _ready(self, plan: Plan, running: Mapping[str, Any]) -> list[Step]:
        ready = []
        for step in plan.steps:
            record = self.records[step.id]
            if record.status != "pending" or step.id in running:
                continue
            deps = [d for d in step.depends_on if d != step.reviews]
            if step.reviews:
                target = self.records[step.reviews]
                if target.status != "done" or target.settled:
                    if target.status in ("failed", "skipped"):
                        self._skip(step, f"the step it reviews ({step.reviews}) did not finish")
                    continue
            if (
                any(self.records[d].status in ("failed", "skipped") for d in deps)
                and not step.continue_on_failed_deps
            ):
                failed = [d for d in deps if self.records[d].status in ("failed", "skipped")]
                self._skip(step, f"dependency {', '.join(failed)} did not finish")
                continue
            if all(
                self._settled(plan, d) or self.records[d].status in ("failed", "skipped")
                for d in deps
            ):
                ready.append(step)
        return ready

    def _settled(self, plan: Plan, step_id: str) -> bool:
        record = self.records[step_id]
        if record.status != "done":
            return False
        step = plan.step(step_id)
        if step.reviews:
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
        agent = self.agents.get(step.agent)
        if agent is None or value is None or not agent.structured or isinstance(value, BaseModel):
            return value
        try:
            return agent.output_type.model_validate(value)
        except ValidationError:
            return value

    async def _run_step(self, plan: Plan, step: Step) -> Any:
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
        with self.rt.checkpoint():
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
                await self._review_guarded(plan, plan.step(step.reviews))
            return None
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
        with self.rt.checkpoint():
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
        target = step.reviews or step.id
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
        await self._review_guarded(plan, plan.step(target))
        return None

    async def _review_guarded(self, plan: Plan, target: Step) -> None:
        try:
            await self._review(plan, target)
        except ApprovalPending as exc:
            self.rt.emit(
                StepWaiting(
                    step_id=target.id,
                    agent=target.agent,
                    request_id=exc.request_id,
                    reason=str(exc),
                )
            )

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

    # --- review and escalation -----------------------------------------------------------------

    async def _review(self, plan: Plan, target: Step) -> None:
        """Once a step and all its reviewers are done, settle it, revise it, or escalate it."""
        record = self.records[target.id]
        if record.status != "done" or record.settled:
            return
        reviewers = plan.reviewers_of(target.id)
        if any(self.records[r.id].status not in ("done", "failed", "skipped") for r in reviewers):
            return
        verdicts: list[tuple[Step, Verdict]] = []
        for reviewer in reviewers:
            out = self._typed_output(reviewer, self.records[reviewer.id].output)
            if self.records[reviewer.id].status == "done" and isinstance(out, Verdict):
                verdicts.append((reviewer, out))
        revise = [(r, v) for r, v in verdicts if v.verdict == "revise"]
        if revise:
            reasons = [
                f"{r.agent}: {reason}"
                for r, v in revise
                for reason in (v.reasons or ["(no reason given)"])
            ]
            self._revise_or_fail(plan, target, reasons, reviewer_step=revise[0][0].id)
            return
        reasons = self._escalation_reasons(target, verdicts)
        if reasons:
            await self._escalate(plan, target, reasons, verdicts)
            return
        notes = [
            f"{r.agent} reviewed {target.id}: {v.verdict} (confidence {v.confidence:.2f})"
            for r, v in verdicts
        ]
        self._save(
            record.model_copy(
                update={"settled": True, "decisions": _merge(record.decisions, notes)}
            )
        )

    def _escalation_reasons(self, target: Step, verdicts: list[tuple[Step, Verdict]]) -> list[str]:
        policy = self.escalation
        reasons = []
        if target.risk in policy.risk_levels:
            reasons.append(f"step {target.id!r} is {target.risk} risk")
        for reviewer, v in verdicts:
            if v.verdict == "escalate" and policy.on_reviewer_escalate:
                reasons.append(
                    f"{reviewer.agent} escalated: {'; '.join(v.reasons) or 'no reason given'}"
                )
            if v.confidence < policy.min_confidence:
                reasons.append(
                    f"{reviewer.agent}'s confidence {v.confidence:.2f} is below {policy.min_confidence}"
                )
            flagged = sorted(set(v.flags) & set(policy.flags))
            if flagged:
                reasons.append(f"{reviewer.agent} flagged {', '.join(flagged)}")
        return reasons

    async def _escalate(
        self, plan: Plan, target: Step, reasons: list[str], verdicts: list[tuple[Step, Verdict]]
    ) -> None:
        record = self.records[target.id]
        request = ApprovalRequest(
            request_id=f"{self.rt.run_id}:{target.id}:r{record.revision}:escalation",
            run_id=self.rt.run_id,
            subject="escalation",
            step_id=target.id,
            agent=target.agent,
            reason="; ".join(reasons),
            details={
                "reasons": reasons,
                "preview": render_value(record.output)[:1200],
                "verdicts": [
                    {
                        "reviewer": r.agent,
                        "verdict": v.verdict,
                        "confidence": v.confidence,
                        "reasons": v.reasons,
                        "flags": v.flags,
                    }
                    for r, v in verdicts
                ],
            },
        )
        self.rt.emit(
            Escalated(
                step_id=target.id,
                agent=target.agent,
                reasons=reasons,
                request_id=request.request_id,
            )
        )
        decision = await self.rt.request_approval(request)
        who = decision.approver
        if decision.approved:
            note = f"escalation of {target.id} approved by {who}" + (
                f": {decision.comment}" if decision.comment else ""
            )
            self._save(
                record.model_copy(
                    update={"settled": True, "decisions": _merge(record.decisions, [note])}
                )
            )
            return
        note = f"escalation of {target.id} denied by {who}: {decision.comment or 'no reason given'}"
        self._save(record.model_copy(update={"decisions": _merge(record.decisions, [note])}))
        self._revise_or_fail(
            plan,
            target,
            [f"reviewer {who} denied: {decision.comment or 'no reason given'}"],
            reviewer_step=None,
        )

    def _revise_or_fail(
        self, plan: Plan, target: Step, reasons: list[str], *, reviewer_step: str | None
    ) -> None:
        record = self.records[target.id]
        if (
            record.revision >= self.limits.max_revisions
            or self.total_revisions >= self.limits.max_total_revisions
        ):
            cap = MaxStepsExceeded(
                f"revision cap reached for step {target.id!r} after {record.revision} revision(s); "
                f"still asked to change: {'; '.join(reasons)[:500]}"
            )
            self._fail(plan, target, cap)
            for reviewer in plan.reviewers_of(target.id):
                self._settle_reviewer_terminal(reviewer)
            return
        self.total_revisions += 1
        revision = record.revision + 1
        self.rt.emit(
            RevisionRequested(
                step_id=target.id,
                agent=target.agent,
                reviewer_step=reviewer_step or "person",
                reasons=reasons,
                revision=revision,
            )
        )
        self._save(
            record.model_copy(
                update={
                    "status": "pending",
                    "revision": revision,
                    "feedback": reasons,
                    "settled": False,
                }
            )
        )
        for reviewer in plan.reviewers_of(target.id):
            r = self.records[reviewer.id]
            self._save(r.model_copy(update={"status": "pending", "revision": r.revision + 1}))

    def _settle_reviewer_terminal(self, reviewer: Step) -> None:
        r = self.records[reviewer.id]
        if r.status == "pending":
            self._save(
                r.model_copy(update={"status": "skipped", "error": "the reviewed step failed"})
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


def _merge(existing: list[str], new: list[str]) -> list[str]:
    return existing + [n for n in new if n not in existing]
