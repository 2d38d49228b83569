"""TerminalApprover driven by a scripted input function and a console that renders to a string."""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from rich.console import Console

from agentorch.approvals import ApprovalRequest, Approver
from agentorch.cli.approver import MASK, TerminalApprover, mask_arguments


class Script:
    """Answers prompts from a list, recording each prompt and the thread it was asked on."""

    def __init__(self, answers: Iterable[str]) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []
        self.threads: set[int] = set()

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        self.threads.add(threading.get_ident())
        if not self.answers:
            raise EOFError
        return self.answers.pop(0)


def approver(answers: Iterable[str]) -> tuple[TerminalApprover, Script, Callable[[], str]]:
    script = Script(answers)
    console = Console(file=io.StringIO(), width=110, color_system=None)
    term = TerminalApprover(console, input=script, name="terminal:tester")
    return term, script, lambda: console.file.getvalue()  # type: ignore[attr-defined]


def tool_request(**changes: Any) -> ApprovalRequest:
    fields: dict[str, Any] = {
        "request_id": "run-1:k1",
        "run_id": "run-1",
        "step_id": "s2",
        "agent": "editor",
        "tool": "send_email",
        "arguments": {
            "to": "ceo@example.com",
            "body": "Hello [bold]",
            "api_token": "sk-secret-123",
        },
        "risk": "external",
        "reason": "the policy requires approval for external tools",
        "details": {"secret_args": ["api_token"]},
    }
    fields.update(changes)
    return ApprovalRequest(**fields)


async def test_shows_the_request_with_secrets_masked_and_approves() -> None:
    term, script, output = approver(["a"])
    decision = await term.decide(tool_request())
    assert decision is not None
    assert decision.decision == "approved" and decision.approver == "terminal:tester"
    assert decision.arguments is None
    text = output()
    for shown in (
        "editor",
        "send_email",
        "external",
        "s2",
        "run-1",
        '"to": "ceo@example.com"',
        '"body": "Hello [bold]"',
        "the policy requires approval for external tools",
    ):
        assert shown in text
    assert "sk-secret-123" not in text
    assert f'"api_token": "{MASK}"' in text
    assert script.prompts == ["[a]pprove / [d]eny / [e]dit arguments: "]


async def test_runs_the_prompt_in_a_worker_thread() -> None:
    term, script, _ = approver(["yes"])
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    blocking = threading.Event()

    def slow_input(prompt: str) -> str:
        blocking.wait(5)  # the loop keeps ticking while the person "thinks"
        return script(prompt)

    term._input = slow_input
    task = asyncio.create_task(ticker())
    decide = asyncio.create_task(term.decide(tool_request()))
    while ticks < 50:
        await asyncio.sleep(0)
    blocking.set()
    decision = await decide
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert decision is not None and decision.approved
    assert threading.get_ident() not in script.threads


async def test_deny_asks_for_a_reason() -> None:
    term, script, _ = approver(["maybe", "d", "  not to the CEO  "])
    decision = await term.decide(tool_request())
    assert decision is not None
    assert decision.decision == "denied" and decision.comment == "not to the CEO"
    assert not decision.approved
    assert script.prompts[1] == script.prompts[0]  # "maybe" was asked again


async def test_deny_without_reason_gets_a_default() -> None:
    term, _, _ = approver(["n", ""])
    decision = await term.decide(tool_request())
    assert decision is not None and decision.comment == "denied at the terminal"


async def test_edit_reprompts_on_bad_json_and_keeps_masked_secrets() -> None:
    term, _, output = approver([
        "e", "{not json", "[1, 2]",
        '{"to": "team@example.com", "body": "Hi", "api_token": "***"}',
    ])  # fmt: skip
    decision = await term.decide(tool_request())
    assert decision is not None
    assert decision.decision == "edited" and decision.approved
    assert decision.arguments == {
        "to": "team@example.com", "body": "Hi", "api_token": "sk-secret-123",
    }  # fmt: skip
    text = output()
    assert "That is not valid JSON" in text
    assert "Expected a JSON object, got list" in text
    assert "sk-secret-123" not in text


async def test_edit_with_empty_answer_goes_back_to_the_menu() -> None:
    term, script, _ = approver(["e", "", "a"])
    decision = await term.decide(tool_request())
    assert decision is not None and decision.decision == "approved"
    assert len(script.prompts) == 3


async def test_edit_to_the_same_arguments_is_a_plain_approval() -> None:
    request = tool_request(arguments={"to": "a"}, details={})
    term, _, _ = approver(["e", '{"to": "a"}'])
    decision = await term.decide(request)
    assert decision is not None and decision.decision == "approved" and decision.arguments is None


async def test_escalation_shows_reasons_and_preview() -> None:
    request = ApprovalRequest(
        request_id="r2", run_id="run-1", subject="escalation", step_id="s4", agent="writer",
        reason="high risk",
        details={
            "reasons": ["pricing commitment", "compliance failed"],
            "preview": "We guarantee a 40% discount.",
            "verdicts": [{"reviewer": "compliance", "passed": False}],
            "confidence": 0.3,
        },
    )  # fmt: skip
    term, script, output = approver(["a"])
    decision = await term.decide(request)
    assert decision is not None and decision.decision == "approved"
    text = output()
    for shown in (
        "Review needed: escalated result",
        "pricing commitment",
        "compliance failed",
        "We guarantee a 40% discount.",
        '"passed": false',
        '"confidence": 0.3',
    ):
        assert shown in text
    assert script.prompts == ["[a]pprove / [d]eny: "]


async def test_escalation_cannot_be_edited() -> None:
    request = ApprovalRequest(
        request_id="r", run_id="x", subject="escalation", details={"reasons": "x"}
    )
    term, script, _ = approver(["e", "d", "rewrite the intro"])
    decision = await term.decide(request)
    assert decision is not None and decision.decision == "denied"
    assert decision.comment == "rewrite the intro"
    assert len(script.prompts) == 3


@pytest.mark.parametrize(
    ("answer", "decision", "approved"),
    [("r", "run_again", True), ("run again", "run_again", True), ("s", "skipped", False),
     ("m", "mark_done", True), ("Mark Done", "mark_done", True)],
)  # fmt: skip
async def test_in_doubt_choices(answer: str, decision: str, approved: bool) -> None:
    request = tool_request(subject="in_doubt", reason="started before the crash; no outcome")
    term, script, output = approver([answer])
    result = await term.decide(request)
    assert result is not None and result.decision == decision and result.approved == approved
    assert script.prompts == ["[r]un again / [s]kip / [m]ark done: "]
    assert "outcome was not recorded" in output()


async def test_plan_approve_or_cancel() -> None:
    plan = ApprovalRequest(
        request_id="p", run_id="run-1", subject="plan", reason="the plan has a destructive step",
        details={"steps": [{"id": "s1", "agent": "writer", "instruction": "Draft"}]},
    )  # fmt: skip
    term, script, output = approver(["a"])
    decision = await term.decide(plan)
    assert decision is not None and decision.decision == "approved"
    assert "Approval needed: plan" in output() and '"instruction": "Draft"' in output()
    assert script.prompts == ["[a]pprove / [c]ancel: "]
    term, _, _ = approver(["c", ""])
    cancelled = await term.decide(plan)
    assert cancelled is not None and cancelled.decision == "denied"
    assert cancelled.comment == "plan cancelled at the terminal"


async def test_end_of_input_defers_the_decision() -> None:
    term, _, output = approver([])
    assert await term.decide(tool_request()) is None
    assert "deferred" in output()


async def test_concurrent_requests_are_asked_one_at_a_time() -> None:
    term, script, _ = approver(["a", "d", "no"])
    first, second = await asyncio.gather(
        term.decide(tool_request(request_id="one")), term.decide(tool_request(request_id="two"))
    )
    assert first is not None and second is not None
    assert {first.decision, second.decision} == {"approved", "denied"}
    assert len(script.prompts) == 3


def test_is_an_approver_with_defaults() -> None:
    term = TerminalApprover()
    assert isinstance(term, Approver)
    assert term.name.startswith("terminal:")
    assert isinstance(term.console, Console)


def test_mask_arguments() -> None:
    masked = mask_arguments({"token": "abc", "empty": "", "q": "x"}, ["token", "empty"])
    assert masked == {"token": MASK, "empty": "", "q": "x"}
    assert mask_arguments({"q": 1}, None) == {"q": 1}


async def test_a_prompt_decided_elsewhere_is_withdrawn_and_the_next_waits_for_it() -> None:
    release = threading.Event()
    answers = ["a"]

    def slow(prompt: str) -> str:  # the first prompt: a person who has not answered yet
        if not release.is_set():
            release.wait(10)
            return ""
        return answers.pop(0)

    console = Console(file=io.StringIO(), width=110, color_system=None)
    term = TerminalApprover(console, input=slow, name="terminal:tester")
    asking = asyncio.ensure_future(term.decide(tool_request(request_id="one")))
    await asyncio.sleep(0.05)
    asking.cancel()  # what the runtime does when the decision arrives from elsewhere
    term.withdraw(tool_request(request_id="one"))
    with contextlib.suppress(asyncio.CancelledError):
        await asking
    assert "decided elsewhere" in console.file.getvalue()  # type: ignore[attr-defined]
    second = asyncio.ensure_future(term.decide(tool_request(request_id="two")))
    await asyncio.sleep(0.05)
    assert not second.done()  # the withdrawn prompt still owns the terminal until Enter
    release.set()
    decision = await asyncio.wait_for(second, 10)
    assert decision is not None and decision.decision == "approved"
