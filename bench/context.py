"""Measure 5: context economy on the RFP workflow (``examples/rfp``, offline engine).

agentorch shows each step only its instruction, the task and the outputs of the steps it depends
on (or reviews). A naive supervisor forwards the whole transcript instead (a shared message list,
as in a supervisor graph whose specialists all append to one conversation): every step's prompt
with everything said before it prepended. Two naive figures are reported, both counted with
tiktoken (cl100k_base) on the same run, so the outputs are identical and only the context differs:

- ``transcript``: earlier steps' whole transcripts (their prompts, tool calls, tool results and
  outputs). A step's transcript is its last model call's input plus that call's output. This is
  the naive supervisor the benchmark's target is about.
- ``outputs only``: a more generous naive supervisor that forwards only earlier steps' final
  outputs. What a step already sees (its dependencies' outputs) is never counted twice.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from bench._env import ROOT

ENCODING = "cl100k_base"


def check_health(result: Any, events: list[Any]) -> dict[str, Any]:
    """Refuse to measure a broken run: the library loaded, tools worked, requirements covered.

    A run whose tools fail (e.g. no answer library) makes every prompt smaller and the saving
    look better than it is; its figure would measure nothing.
    """
    from agentorch.events.types import ToolCallFinished

    calls = [e for e in events if isinstance(e, ToolCallFinished)]
    failed = [e for e in calls if e.is_error]

    def plain(value: Any) -> dict[str, Any]:
        value = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
        return value if isinstance(value, dict) else {}

    parsed = result.steps.get("parse")
    requirements = len(plain(parsed.output).get("requirements", [])) if parsed else 0
    rows = [
        row
        for sid, step in result.steps.items()
        if sid.startswith("compliance_")
        for row in plain(step.output).get("matrix", [])
    ]
    covered = sum(1 for row in rows if row.get("status") == "covered")
    answered = sum(1 for row in rows if row.get("status") not in ("missing", None))
    health = {
        "tool_calls": len(calls),
        "failed_tool_calls": len(failed),
        "requirements": requirements,
        "matrix_rows": len(rows),
        "covered": covered,
        "answered": answered,
    }
    problems = []
    if not calls or len(failed) > len(calls) * 0.05:
        errors = sorted({(e.error or "")[:120] for e in failed})[:3]
        problems.append(f"{len(failed)} of {len(calls)} tool calls failed: {errors}")
    if requirements == 0 or len(rows) < requirements:
        problems.append(f"{requirements} requirements parsed, {len(rows)} matrix rows")
    if answered < requirements // 2:  # conflicts and partial answers still read the library
        problems.append(f"only {answered} of {requirements} requirements answered from the library")
    if problems:
        raise AssertionError("the measured RFP run is not healthy: " + "; ".join(problems))
    return health


def measure(workflow_dir: Path | None = None) -> dict[str, Any]:
    """Run the RFP workflow once offline; return its input tokens and the naive supervisor's."""
    from agentorch.agent import render_value
    from agentorch.approvals import ApproveAll
    from agentorch.budget.tokens import count_text
    from agentorch.events.types import BaseEvent, ModelCallFinished, StepFinished, StepStarted
    from agentorch.workflow import load_workflow

    workflow = load_workflow(workflow_dir or ROOT / "examples" / "rfp")
    events: list[BaseEvent] = []
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # the workflow writes out/response.md under the current directory
        try:
            # Workflow.run passes the workflow's state (its answer library, output folder)
            result = asyncio.run(
                workflow.run(engine="offline", approver=ApproveAll(), on_event=events.append)
            )
        finally:
            os.chdir(cwd)
    plan = result.plan
    if plan is None:
        raise AssertionError(f"the RFP workflow ran without a plan: {result.error}")
    health = check_health(result, events)
    output_tokens = {
        sid: count_text(render_value(step.output), ENCODING)
        for sid, step in result.steps.items()
        if step.status == "done"
    }
    finished: list[str] = []
    transcript: dict[str, int] = {}  # step -> tokens of everything said in it (last call in + out)
    extra_of: dict[str, int] = {}  # step -> tokens of earlier outputs the generous naive adds
    full_extra_of: dict[str, int] = {}  # step -> tokens of earlier transcripts the naive adds
    scoped = naive = full_naive = calls = first = first_naive = 0
    for event in events:
        if isinstance(event, StepFinished) and event.step_id and event.step_id not in finished:
            finished.append(event.step_id)
        elif isinstance(event, StepStarted) and event.step_id:
            step = plan.step(event.step_id)
            # already in the step's own prompt: its dependencies' and its review target's outputs
            own = {*step.depends_on, *([step.reviews] if step.reviews else []), step.id}
            extra_of[step.id] = sum(output_tokens.get(sid, 0) for sid in finished if sid not in own)
            full_extra_of[step.id] = sum(
                transcript.get(sid, 0) - (output_tokens.get(sid, 0) if sid in own else 0)
                for sid in finished
                if sid != step.id
            )
            first += event.context_tokens
            first_naive += event.context_tokens + extra_of[step.id]
        elif isinstance(event, ModelCallFinished):
            sid = event.step_id or ""
            scoped += event.input_tokens
            naive += event.input_tokens + extra_of.get(sid, 0)
            full_naive += event.input_tokens + full_extra_of.get(sid, 0)
            transcript[sid] = event.input_tokens + event.output_tokens
            calls += 1
    return {
        "health": health,
        "model_calls": calls,
        "steps": len(extra_of),
        "agentorch_tokens": scoped,
        "naive_tokens": full_naive,
        "saving_pct": (1 - scoped / full_naive) * 100 if full_naive else 0.0,
        "outputs_only_naive_tokens": naive,
        "outputs_only_saving_pct": (1 - scoped / naive) * 100 if naive else 0.0,
        # the part the supervisor decides: each step's first prompt (before its own tool results)
        "first_turn_tokens": first,
        "first_turn_naive_tokens": first_naive,
        "first_turn_saving_pct": (1 - first / first_naive) * 100 if first_naive else 0.0,
    }
