"""Nested supervisors (``inner.as_agent()``): approvals, policies, budgets and resume inside one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentorch import (
    Agent,
    ApproveAll,
    Budget,
    CallbackApprover,
    DeferredApprover,
    FunctionModel,
    Plan,
    Policy,
    Step,
    Supervisor,
    tool,
)
from agentorch.approvals import ApprovalDecision, ApprovalRequest, Approver
from agentorch.errors import PolicyError
from agentorch.models.testing import text_response, tool_call_response
from agentorch.models.types import ModelRequest, ModelResponse, ToolResultMessage

PRICES = {"function:clerk": {"input": 1e-6, "output": 2e-6}}


class Ledger:
    """Counts what really ran: the side effect and each model call."""

    def __init__(self) -> None:
        self.paid: list[int] = []
        self.calls: list[str] = []


def clerk_model(ledger: Ledger, amount: int = 42) -> FunctionModel:
    def clerk(request: ModelRequest) -> ModelResponse:
        results = [m for m in request.messages if isinstance(m, ToolResultMessage)]
        ledger.calls.append(f"clerk:{len(results)}")
        if not results:
            return tool_call_response(("pay", {"amount": amount}))
        return text_response(f"clerk saw: {results[-1].content}")

    return FunctionModel(clerk, name="clerk")


def make_pay(ledger: Ledger, **options: Any) -> Any:
    @tool(risk="external", idempotent=False, **options)
    def pay(amount: int) -> str:
        """Pay an invoice (a side effect that must happen once)."""
        ledger.paid.append(amount)
        return f"paid {amount}"

    return pay


class Clerk(Agent):
    name = "clerk"
    tools = ["pay"]


def team(
    ledger: Ledger,
    *,
    policy: Any = None,
    approver: Approver | None = None,
    pay_options: dict[str, Any] | None = None,
    amount: int = 42,
) -> Supervisor:
    """An inner supervisor named ``ops`` whose one agent, ``clerk``, calls ``pay``."""
    return Supervisor(
        [Clerk(model=clerk_model(ledger, amount))],
        tools=[make_pay(ledger, **(pay_options or {}))],
        plan=Plan(steps=[Step(id="a", agent="clerk", instruction="Pay it")], final_step="a"),
        policy=policy,
        approver=approver,
        name="ops",
        description="The operations team.",
    )


def outer(inner: Supervisor, **kwargs: Any) -> Supervisor:
    """The outer supervisor; it registers the inner team's tools too, unless told otherwise."""
    kwargs.setdefault("budget", Budget(usd=1.0, prices=PRICES))
    kwargs.setdefault("tools", list(inner._tools or []))  # type: ignore[arg-type]
    return Supervisor(
        [inner.as_agent()],
        plan=Plan(steps=[Step(id="ops", agent="ops", instruction="Pay the invoice")]),
        **kwargs,
    )


def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/runs.db"


# --- approvals ---------------------------------------------------------------------------------


async def test_a_deferred_approval_inside_a_nested_run_waits_and_resumes(tmp_path: Path) -> None:
    ledger = Ledger()
    inner = team(ledger, pay_options={"requires_approval": True})
    first = outer(inner, store=store_url(tmp_path), approver=DeferredApprover())
    result = await first.run("Pay")
    assert result.status == "waiting_approval", result.error
    assert ledger.paid == []
    [pending] = result.pending_approvals
    assert pending.step_id == "ops.a" and pending.tool == "pay"

    # another process decides (`agentorch approve`), then a fresh supervisor resumes the run
    decided = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentorch",
            "approve",
            result.run_id,
            "--store",
            store_url(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert decided.returncode == 0, decided.stderr
    assert "ops.a" in decided.stdout
    other = outer(team(ledger, pay_options={"requires_approval": True}), store=store_url(tmp_path))
    resumed = await other.resume(result.run_id)
    assert resumed.status == "succeeded", resumed.error
    assert ledger.paid == [42]
    assert resumed.output == "clerk saw: paid 42"
    assert ledger.calls == ["clerk:0", "clerk:1"]  # the first model call was replayed, not re-run


async def test_the_inner_approver_decides_the_inner_calls() -> None:
    ledger = Ledger()
    asked: list[str] = []

    def refuse(request: ApprovalRequest) -> ApprovalDecision:
        asked.append(request.tool or "")
        return ApprovalDecision(decision="denied", approver="inner", comment="not today")

    inner = team(ledger, pay_options={"requires_approval": True}, approver=CallbackApprover(refuse))
    result = await outer(inner, approver=ApproveAll()).run("Pay")
    assert asked == ["pay"]
    assert ledger.paid == []
    assert result.output == "clerk saw: Error: a reviewer denied calling 'pay': not today"


async def test_the_inner_tools_are_the_ones_its_agents_reach() -> None:
    ledger = Ledger()
    result = await outer(team(ledger), tools=[]).run("Pay")
    assert result.status == "succeeded", result.error
    assert ledger.paid == [42]


# --- policies ----------------------------------------------------------------------------------


async def test_the_inner_policy_refuses_a_tool_it_denies() -> None:
    ledger = Ledger()
    inner = team(ledger, policy=Policy.from_dict({"agents": {"clerk": {"deny": ["pay"]}}}))
    result = await outer(inner).run("Pay")
    assert ledger.paid == []
    assert "denied by the policy" in str(result.output)


async def test_the_outer_policy_names_a_nested_agent_by_path() -> None:
    ledger = Ledger()
    policy = Policy.from_dict({"agents": {"ops.clerk": {"deny": ["pay"]}}})
    result = await outer(team(ledger), policy=policy).run("Pay")
    assert ledger.paid == []
    assert "denied by the policy" in str(result.output)


async def test_outer_defaults_reach_nested_agents() -> None:
    ledger = Ledger()
    policy = Policy.from_dict({"defaults": {"risk_ceiling": "write"}})
    result = await outer(team(ledger), policy=policy).run("Pay")
    assert ledger.paid == []
    assert "risk ceiling" in str(result.output)


async def test_approval_required_by_either_level_wins_over_allowed() -> None:
    asked: list[str] = []

    def note(request: ApprovalRequest) -> bool:
        asked.append(f"{request.agent}:{request.tool}")
        return True

    # the outer policy requires approval, the inner says nothing
    ledger = Ledger()
    policy = Policy.from_dict({"agents": {"ops.clerk": {"require_approval": {"tools": ["pay"]}}}})
    result = await outer(team(ledger), policy=policy, approver=CallbackApprover(note)).run("Pay")
    assert result.status == "succeeded", result.error
    assert asked == ["ops.clerk:pay"] and ledger.paid == [42]  # the outer level sees the path

    # the inner policy requires approval and the outer auto-approves external tools
    asked.clear()
    ledger = Ledger()
    inner_policy = Policy.from_dict({"defaults": {"require_approval": {"tools": ["pay"]}}})
    outer_policy = Policy.from_dict(
        {
            "defaults": {"require_approval": {"risk": ["external"]}},
            "agents": {"ops.clerk": {"auto_approve": {"risk": ["external"]}}},
        }
    )
    inner = team(ledger, policy=inner_policy)
    result = await outer(inner, policy=outer_policy, approver=CallbackApprover(note)).run("Pay")
    assert asked == ["clerk:pay"] and ledger.paid == [42]


async def test_each_level_whose_policy_requires_approval_asks_its_own_approver() -> None:
    asked: list[str] = []

    def by(who: str, decision: str = "approved") -> CallbackApprover:
        def decide(request: ApprovalRequest) -> ApprovalDecision:
            asked.append(who)
            return ApprovalDecision(decision=decision, approver=who, comment=f"{who} said so")

        return CallbackApprover(decide)

    ledger = Ledger()
    both = Policy.from_dict({"agents": {"clerk": {"require_approval": {"tools": ["pay"]}}}})
    outer_policy = Policy.from_dict(
        {"agents": {"ops.clerk": {"require_approval": {"tools": ["pay"]}}}}
    )
    inner = team(ledger, policy=both, approver=by("inner"))
    result = await outer(inner, policy=outer_policy, approver=by("outer", "denied")).run("Pay")
    assert asked == ["inner", "outer"]
    assert ledger.paid == []  # the outer denial wins over the inner approval
    assert "outer said so" in str(result.output)


def test_an_unknown_nested_path_in_the_outer_policy_is_a_clear_error() -> None:
    ledger = Ledger()
    policy = Policy.from_dict({"agents": {"ops.clark": {"deny": ["pay"]}}})
    sup = outer(team(ledger), policy=policy)
    with pytest.raises(PolicyError) as info:
        sup.registry()
    assert "unknown agent path 'ops.clark'" in str(info.value)
    assert "did you mean 'ops.clerk'" in str(info.value)


def test_a_path_through_an_agent_that_is_not_a_supervisor_is_a_clear_error() -> None:
    ledger = Ledger()
    policy = Policy.from_dict({"agents": {"ops.clerk.x": {"deny": ["pay"]}}})
    sup = outer(team(ledger), policy=policy)
    with pytest.raises(PolicyError) as info:
        sup.registry()
    assert "'ops.clerk' is not a nested supervisor" in str(info.value)


def test_an_unquoted_dotted_toml_key_gets_a_hint(tmp_path: Path) -> None:
    file = tmp_path / "policy.toml"
    file.write_text('[agents.ops.clerk]\ndeny = ["pay"]\n')
    with pytest.raises(PolicyError) as info:
        Policy.load(file)
    assert '[agents."ops.clerk"]' in str(info.value)


def test_a_quoted_path_key_loads(tmp_path: Path) -> None:
    file = tmp_path / "policy.toml"
    file.write_text('[agents."ops.clerk"]\ndeny = ["pay"]\n')
    assert "ops.clerk" in Policy.load(file).data.agents


# --- budget ------------------------------------------------------------------------------------


async def test_a_budget_stop_inside_a_nested_run_is_budget_exceeded(tmp_path: Path) -> None:
    ledger = Ledger()
    sup = outer(team(ledger), budget=Budget(usd=1e-9, prices=PRICES), store=store_url(tmp_path))
    result = await sup.run("Pay")
    assert result.status == "budget_exceeded", result.error
    assert ledger.paid == [] and ledger.calls == []
    assert result.usage.total.cost_usd == 0.0

    # resumed with more money, it finishes, and pays once for each call
    resumed = await outer(team(ledger), store=store_url(tmp_path)).resume(
        result.run_id, budget=Budget(usd=1.0, prices=PRICES)
    )
    assert resumed.status == "succeeded", resumed.error
    assert ledger.paid == [42]
    journal = sup.store.journal(result.run_id, kind="model")  # type: ignore[union-attr]
    spent = sum((e.usage or {}).get("cost_usd", 0.0) for e in journal if e.status == "completed")
    assert resumed.usage.total.cost_usd == pytest.approx(spent)
    assert resumed.usage.total.requests == 2


# --- what a person sees ------------------------------------------------------------------------


async def test_show_and_the_trace_put_nested_steps_under_their_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from agentorch.cli.app import app
    from agentorch.events.trace import build_trace

    ledger = Ledger()
    sup = outer(team(ledger), store=store_url(tmp_path))
    result = await sup.run("Pay")
    assert result.status == "succeeded", result.error
    assert result.steps["ops"].status == "done"
    steps = {s.step_id: s for s in sup.store.get_steps(result.run_id)}  # type: ignore[union-attr]
    assert steps["ops"].usage == steps["ops.a"].usage  # the nested step reports its steps' use

    monkeypatch.setenv("COLUMNS", "160")
    shown = CliRunner().invoke(app, ["show", result.run_id, "--store", store_url(tmp_path)])
    assert shown.exit_code == 0, shown.output
    rows = [line for line in shown.output.splitlines() if "│ ops" in line]
    assert [row.split("│")[1].strip() for row in rows] == ["ops", "ops.a"]

    events = [r.payload for r in sup.store.events(result.run_id)]  # type: ignore[union-attr]
    trace = build_trace(events, run_id=result.run_id)
    [ops] = [n for n in trace.children if n.kind == "step"]
    assert ops.id == "ops"
    [inner] = [n for n in ops.children if n.kind == "step"]
    assert inner.id == "ops.a" and inner.agent == "clerk"
    assert [c.label for c in inner.children if c.kind == "tool_call"] == ["tool pay"]


async def test_two_levels_down_paths_policies_and_resume_compose(tmp_path: Path) -> None:
    ledger = Ledger()

    def build(policy: Any = None) -> Supervisor:
        mid = Supervisor(
            [team(ledger, pay_options={"requires_approval": True}).as_agent()],
            tools=[],
            plan=Plan(steps=[Step(id="m", agent="ops", instruction="Pay")], final_step="m"),
            name="mid",
        )
        return Supervisor(
            [mid.as_agent()],
            tools=[],
            plan=Plan(steps=[Step(id="top", agent="mid", instruction="Pay")]),
            budget=Budget(usd=1.0, prices=PRICES),
            store=store_url(tmp_path),
            approver=DeferredApprover(),
            policy=policy,
        )

    denied = await build(Policy.from_dict({"agents": {"mid.ops.clerk": {"deny": ["pay"]}}})).run(
        "Pay"
    )
    assert denied.status == "succeeded" and ledger.paid == []
    assert "'mid.ops.clerk'" in str(denied.output)

    sup = build()
    waiting = await sup.run("Pay")
    assert waiting.status == "waiting_approval", waiting.error
    [pending] = waiting.pending_approvals
    assert pending.step_id == "top.m.a"
    sup.approve(waiting.run_id, approver="alice")
    resumed = await build().resume(waiting.run_id)
    assert resumed.status == "succeeded", resumed.error
    assert ledger.paid == [42]
    ids = sorted(s.step_id for s in sup.store.get_steps(waiting.run_id))  # type: ignore[union-attr]
    assert ids == ["top", "top.m", "top.m.a"]


def test_options_a_nested_run_cannot_use_are_refused_not_ignored(tmp_path: Path) -> None:
    from agentorch.errors import ConfigError

    inner = Supervisor(
        [Clerk(model=clerk_model(Ledger()))],
        budget=Budget(usd=0.5),
        store=store_url(tmp_path),
        name="ops",
    )
    with pytest.raises(ConfigError) as info:
        inner.as_agent()
    assert "its own budget, store" in str(info.value)
    assert "outermost supervisor" in (info.value.hint or "")


async def test_a_reviewer_sends_a_nested_step_back_and_the_team_revises_with_its_feedback() -> None:
    from agentorch import ScriptedModel, Verdict
    from agentorch.models.testing import json_response
    from agentorch.models.types import UserMessage

    def write(request: ModelRequest) -> str:
        text = "\n".join(m.content for m in request.messages if isinstance(m, UserMessage))
        return "draft with the date" if "add the date" in text else "draft"

    class Writer(Agent):
        name = "writer"

    class Critic(Agent):
        name = "critic"
        output_type = Verdict

    inner = Supervisor(
        [Writer(model=FunctionModel(write))],
        tools=[],
        plan=Plan(steps=[Step(id="w", agent="writer", instruction="Write")], final_step="w"),
        name="team",
    )
    verdicts = ScriptedModel(
        [
            json_response({"verdict": "revise", "reasons": ["add the date"]}),
            json_response({"verdict": "pass", "confidence": 0.9}),
        ],
        name="critic",
    )
    sup = Supervisor(
        [inner.as_agent(), Critic(model=verdicts)],
        tools=[],
        budget=Budget(usd=1.0, allow_unpriced=True),
        plan=Plan(
            steps=[
                Step(id="draft", agent="team", instruction="Draft it"),
                Step(id="review", agent="critic", instruction="Review", reviews="draft"),
            ],
            final_step="draft",
        ),
    )
    result = await sup.run("Draft")
    assert result.status == "succeeded", result.error
    assert result.output == "draft with the date"
    assert result.steps["draft"].revision == 1


async def test_a_budget_stop_midway_inside_keeps_the_tree_exact_and_resume_pays_once(
    tmp_path: Path,
) -> None:
    from agentorch.models.types import ModelSettings

    ledger = Ledger()

    def build() -> Supervisor:
        inner = team(ledger)
        inner.agents["clerk"].settings = ModelSettings(max_tokens=40)
        return outer(inner, store=store_url(tmp_path))

    sup = build()
    sup.budget = Budget(tokens=150, prices=PRICES)  # the first call fits, the second does not
    result = await sup.run("Pay")
    assert result.status == "budget_exceeded", result.error
    assert ledger.paid == [42] and result.usage.total.requests == 1
    first = result.usage.total
    assert first.input_tokens + first.output_tokens <= 150

    resumed = await build().resume(result.run_id, budget=Budget(tokens=10_000, prices=PRICES))
    assert resumed.status == "succeeded", resumed.error
    assert ledger.paid == [42]  # the payment is replayed from the journal, not made again
    assert ledger.calls == ["clerk:0", "clerk:1"]  # the first call is not re-run or re-paid
    assert resumed.usage.total.requests == 2
    journal = sup.store.journal(result.run_id, kind="model")  # type: ignore[union-attr]
    tokens = sum(
        (e.usage or {}).get("input_tokens", 0) + (e.usage or {}).get("output_tokens", 0)
        for e in journal
    )
    total = resumed.usage.total
    assert total.input_tokens + total.output_tokens == tokens
    assert sup.store.verify_audit(result.run_id).ok  # type: ignore[union-attr]


async def test_two_parallel_steps_on_one_team_are_not_a_cycle() -> None:
    import asyncio

    async def slow(request: ModelRequest) -> str:
        await asyncio.sleep(0.05)  # both steps are inside the team at once
        return "done"

    class Writer(Agent):
        name = "writer"

    inner = Supervisor(
        [Writer(model=FunctionModel(slow))],
        tools=[],
        plan=Plan(steps=[Step(id="w", agent="writer", instruction="Write")], final_step="w"),
        name="team",
    )
    sup = Supervisor(
        [inner.as_agent()],
        tools=[],
        budget=Budget(usd=1.0, allow_unpriced=True),
        plan=Plan(
            steps=[
                Step(id="first", agent="team", instruction="Write it"),
                Step(id="second", agent="team", instruction="Write it"),
            ]
        ),
    )
    result = await sup.run("Write twice")
    assert result.status == "succeeded", result.error
    assert {s.status for s in result.steps.values()} == {"done"}
