"""The supervisor: planning, routing, context, parallelism, review, escalation, caps."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from pydantic import BaseModel

from agentorch import (
    Agent,
    Budget,
    CallbackApprover,
    FunctionModel,
    Plan,
    ScriptedModel,
    Step,
    Supervisor,
    Verdict,
)
from agentorch.approvals import ApprovalDecision, ApprovalRequest
from agentorch.errors import SyncInAsyncError, UnknownAgentError
from agentorch.models.testing import json_response, text_response
from agentorch.models.types import ModelRequest, UserMessage
from agentorch.orchestrator import Limits

FREE = {"scripted:router": {"input": 0, "output": 0}}


class Requirements(BaseModel):
    items: list[str]


class Parser(Agent):
    name = "parser"
    description = "Extracts requirements."
    output_type = Requirements


class Writer(Agent):
    name = "writer"
    description = "Writes answers."


class Critic(Agent):
    name = "critic"
    description = "Reviews drafts."
    output_type = Verdict


def user_text(request: ModelRequest) -> str:
    return "\n".join(m.content for m in request.messages if isinstance(m, UserMessage))


def budget() -> Budget:
    return Budget(usd=10.0, allow_unpriced=True)


async def test_user_specialist_is_planned_routed_and_typed_output_flows_downstream() -> None:
    plan = Plan(
        steps=[
            Step(id="parse", agent="parser", instruction="Extract requirements"),
            Step(id="write", agent="writer", instruction="Answer them", depends_on=["parse"]),
        ],
        final_step="write",
    )
    router = ScriptedModel([json_response(plan)], name="router")
    parser_model = ScriptedModel([json_response({"items": ["SSO", "99.9% uptime"]})], name="parser")
    seen: list[str] = []

    def write(request: ModelRequest) -> str:
        seen.append(user_text(request))
        return "We support SSO and target 99.9% uptime."

    sup = Supervisor(
        [Parser(model=parser_model), Writer(model=FunctionModel(write))],
        router_model=router,
        budget=budget(),
        tools=[],
    )
    result = await sup.run("Answer the RFP")
    assert result.status == "succeeded", result.error
    assert result.output == "We support SSO and target 99.9% uptime."
    assert isinstance(result.steps["parse"].output, Requirements)
    assert '"99.9% uptime"' in seen[0]
    assert set(result.usage.by_agent) >= {"supervisor", "parser", "writer"}
    router.assert_complete()


async def test_independent_steps_run_concurrently_and_dependants_wait() -> None:
    order: list[str] = []

    async def slow(request: ModelRequest) -> str:
        order.append("start")
        await asyncio.sleep(0.2)
        order.append("end")
        return "done"

    steps = [Step(id=f"s{i}", agent="writer", instruction=f"part {i}") for i in range(4)]
    steps.append(
        Step(id="join", agent="writer", instruction="join", depends_on=[s.id for s in steps])
    )
    sup = Supervisor(
        [Writer(model=FunctionModel(slow))],
        budget=budget(),
        tools=[],
        plan=Plan(steps=steps, final_step="join"),
    )
    started = time.perf_counter()
    result = await sup.run("Write")
    elapsed = time.perf_counter() - started
    assert result.status == "succeeded"
    assert (
        elapsed < 2 * 0.2 * 2
    )  # four parallel steps + the join: about two step-times, far below five
    assert order[:4] == ["start"] * 4  # all four started before any finished
    assert order[-2:] == ["start", "end"]  # the join ran last


async def test_context_isolation() -> None:
    prompts: dict[str, str] = {}

    def write(request: ModelRequest) -> str:
        text = user_text(request)
        step = text.split("## Your step\n", 1)[1].split("\n", 1)[0]
        prompts[step] = text
        return f"OUTPUT-OF-{step}"

    plan = Plan(
        steps=[
            Step(id="a", agent="writer", instruction="A"),
            Step(id="b", agent="writer", instruction="B"),
            Step(id="c", agent="writer", instruction="C", depends_on=["a"]),
        ]
    )
    sup = Supervisor([Writer(model=FunctionModel(write))], budget=budget(), tools=[], plan=plan)
    result = await sup.run("Task")
    assert result.status == "succeeded"
    assert "OUTPUT-OF-A" in prompts["C"]
    assert "OUTPUT-OF-B" not in prompts["C"]
    assert result.steps["c"].context_tokens > 0


def review_plan() -> Plan:
    return Plan(
        steps=[
            Step(id="draft", agent="writer", instruction="Draft"),
            Step(id="review", agent="critic", instruction="Review the draft", reviews="draft"),
        ],
        final_step="draft",
    )


async def test_critic_asks_twice_then_passes() -> None:
    drafts = iter(["v1", "v2", "v3"])
    feedback_seen: list[str] = []

    def write(request: ModelRequest) -> str:
        feedback_seen.append(user_text(request))
        return next(drafts)

    verdicts = ScriptedModel(
        [
            json_response({"verdict": "revise", "reasons": ["too vague"]}),
            json_response({"verdict": "revise", "reasons": ["cite sources"]}),
            json_response({"verdict": "pass", "confidence": 0.9}),
        ],
        name="critic",
    )
    sup = Supervisor(
        [Writer(model=FunctionModel(write)), Critic(model=verdicts)],
        budget=budget(),
        tools=[],
        plan=review_plan(),
    )
    result = await sup.run("Task")
    assert result.status == "succeeded", result.error
    assert result.output == "v3"
    assert result.steps["draft"].revision == 2
    assert "too vague" in feedback_seen[1] and "cite sources" in feedback_seen[2]
    verdicts.assert_complete()


async def test_critic_that_never_passes_hits_the_revision_cap() -> None:
    counter = iter(range(100))
    never = FunctionModel(lambda r: json_response({"verdict": "revise", "reasons": ["no"]}))
    sup = Supervisor(
        [Writer(model=FunctionModel(lambda r: f"draft {next(counter)}")), Critic(model=never)],
        budget=budget(),
        tools=[],
        plan=review_plan(),
        limits=Limits(max_revisions=2),
    )
    result = await sup.run("Task")
    assert result.status == "failed"
    assert result.steps["draft"].status == "failed"
    assert "revision cap" in (result.steps["draft"].error or "")


async def test_unchanged_revision_is_a_delegation_cycle() -> None:
    sup = Supervisor(
        [
            Writer(model=FunctionModel(lambda r: "same")),
            Critic(
                model=FunctionModel(
                    lambda r: json_response({"verdict": "revise", "reasons": ["again"]})
                )
            ),
        ],
        budget=budget(),
        tools=[],
        plan=review_plan(),
        limits=Limits(max_revisions=5),
    )
    result = await sup.run("Task")
    assert result.status == "failed"
    assert "DelegationCycleError" in (result.steps["draft"].error or "")


async def test_high_risk_step_is_escalated_and_denial_is_handled() -> None:
    requests: list[ApprovalRequest] = []

    def decide(request: ApprovalRequest) -> ApprovalDecision:
        requests.append(request)
        if len(requests) == 1:
            return ApprovalDecision(
                decision="denied", approver="jane", comment="remove the fixed price"
            )
        return ApprovalDecision(decision="approved", approver="jane", comment="ok now")

    drafts = iter(
        ["We commit to a fixed price.", "Pricing per the rate card, subject to contract."]
    )
    plan = Plan(
        steps=[Step(id="pricing", agent="writer", instruction="Price", risk="high")],
        final_step="pricing",
    )
    sup = Supervisor(
        [Writer(model=FunctionModel(lambda r: next(drafts)))],
        budget=budget(),
        tools=[],
        plan=plan,
        approver=CallbackApprover(decide),
    )
    result = await sup.run("Task")
    assert result.status == "succeeded", result.error
    assert [r.subject for r in requests] == ["escalation", "escalation"]
    assert result.output.startswith("Pricing per the rate card")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"steps": [{"id": "x", "agent": "ghost", "instruction": "?"}]}, "unknown agent"),
        (
            {
                "steps": [
                    {"id": "a", "agent": "writer", "instruction": "a", "depends_on": ["b"]},
                    {"id": "b", "agent": "writer", "instruction": "b", "depends_on": ["a"]},
                ]
            },
            "cycle",
        ),
        ({"steps": []}, "no steps"),
        ("{not json", "invalid plan JSON"),
    ],
)
async def test_bad_plans_are_replanned_with_the_errors(bad: object, message: str) -> None:
    good = Plan(steps=[Step(id="w", agent="writer", instruction="write")])
    first = text_response(bad) if isinstance(bad, str) else json_response(bad)
    router = ScriptedModel([first, json_response(good)], name="router")
    sup = Supervisor(
        [Writer(model=ScriptedModel(["fine"]))], router_model=router, budget=budget(), tools=[]
    )
    result = await sup.run("Task")
    assert result.status == "succeeded", result.error
    feedback = user_text(router.requests[1])
    assert message in feedback


async def test_router_that_never_plans_well_fails_clearly() -> None:
    router = FunctionModel(lambda r: json_response({"steps": []}))
    sup = Supervisor(
        [Writer(model=ScriptedModel([]))], router_model=router, budget=budget(), tools=[]
    )
    result = await sup.run("Task")
    assert result.status == "failed"
    assert "PlanError" in (result.error or "")


async def test_declared_plan_with_unknown_agent_is_a_user_error() -> None:
    plan = Plan(steps=[Step(id="x", agent="ghost", instruction="?")])
    sup = Supervisor([Writer(model=ScriptedModel([]))], budget=budget(), tools=[], plan=plan)
    with pytest.raises(UnknownAgentError, match="ghost"):
        await sup.run("Task")


async def test_step_cap_ends_the_run() -> None:
    steps = [Step(id=f"s{i}", agent="writer", instruction=str(i)) for i in range(5)]
    sup = Supervisor(
        [Writer(model=FunctionModel(lambda r: "x"))],
        budget=budget(),
        tools=[],
        plan=Plan(steps=steps),
        limits=Limits(max_steps=3),
    )
    result = await sup.run("Task")
    assert result.status == "failed"
    assert "MaxStepsExceeded" in (result.error or "")


async def test_failing_step_fails_only_its_dependants() -> None:
    def flaky(request: ModelRequest) -> str:
        if "## Your step\nbad" in user_text(request):
            raise ValueError("boom")
        return "ok"

    plan = Plan(
        steps=[
            Step(id="bad", agent="writer", instruction="bad"),
            Step(id="after_bad", agent="writer", instruction="after", depends_on=["bad"]),
            Step(id="good", agent="writer", instruction="good"),
        ]
    )
    sup = Supervisor(
        [Writer(model=FunctionModel(flaky))], budget=budget(), tools=[], plan=plan, retries=0
    )
    result = await sup.run("Task")
    assert result.steps["bad"].status == "failed"
    assert result.steps["after_bad"].status == "skipped"
    assert result.steps["good"].status == "done"


async def test_nested_supervisor_shares_the_budget() -> None:
    inner = Supervisor(
        [Writer(model=FunctionModel(lambda r: "inner answer"))],
        tools=[],
        plan=Plan(steps=[Step(id="w", agent="writer", instruction="write")]),
        name="team",
        description="A writing team.",
    )
    outer_plan = Plan(
        steps=[Step(id="delegate", agent="team", instruction="Write it")], final_step="delegate"
    )
    outer = Supervisor([inner.as_agent()], budget=budget(), tools=[], plan=outer_plan)
    result = await outer.run("Task")
    assert result.status == "succeeded", result.error
    assert result.output == "inner answer"
    assert "writer" in result.usage.by_agent


async def test_run_sync_refuses_inside_a_running_loop() -> None:
    sup = Supervisor(
        [Writer(model=ScriptedModel(["x"]))],
        tools=[],
        plan=Plan(steps=[Step(id="w", agent="writer", instruction="w")]),
    )
    with pytest.raises(SyncInAsyncError):
        sup.run_sync("Task")


async def test_stream_yields_events_until_run_finished() -> None:
    sup = Supervisor(
        [Writer(model=ScriptedModel(["x"]))],
        tools=[],
        budget=budget(),
        plan=Plan(steps=[Step(id="w", agent="writer", instruction="w")]),
    )
    kinds = [e.kind async for e in sup.stream("Task")]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert "step_finished" in kinds


def test_run_sync_works_from_plain_code() -> None:
    sup = Supervisor(
        [Writer(model=ScriptedModel(["x"]))],
        tools=[],
        budget=budget(),
        plan=Plan(steps=[Step(id="w", agent="writer", instruction="w")], final_step="w"),
    )
    assert sup.run_sync("Task").output == "x"


def test_json_roundtrip_of_plan() -> None:
    plan = review_plan()
    assert Plan.model_validate(json.loads(plan.model_dump_json())) == plan


async def test_a_supervisor_delegating_back_to_itself_is_a_cycle() -> None:
    inner = Supervisor(
        [Writer(model=FunctionModel(lambda r: "never"))],
        tools=[],
        name="team",
        plan=Plan(steps=[Step(id="again", agent="team", instruction="Write it")]),
    )
    team = inner.as_agent()
    inner.agents["team"] = team  # the team may delegate to ... the team
    outer = Supervisor(
        [team],
        budget=budget(),
        tools=[],
        plan=Plan(steps=[Step(id="delegate", agent="team", instruction="Write it")]),
    )
    result = await outer.run("Task")
    assert result.status == "failed"
    assert "DelegationCycleError" in (result.steps["delegate"].error or "")
