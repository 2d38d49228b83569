"""A realistic synthetic event sequence of one run, shared by the sink and trace tests."""

from __future__ import annotations

import pytest

from agentorch.events.types import (
    ApprovalDecided,
    ApprovalRequested,
    BaseEvent,
    BudgetWarning,
    ModelCallFailed,
    ModelCallFinished,
    ModelCallStarted,
    PermissionRefused,
    PlanMade,
    RunFinished,
    RunStarted,
    StepFailed,
    StepFinished,
    StepStarted,
    TextDeltaEvent,
    ToolCallFinished,
    ToolCallStarted,
)

T0 = 1_700_000_000.0
RUN = "run-1"


def sample_run(run_id: str = RUN, t0: float = T0) -> list[BaseEvent]:
    """Plan (router call), step s1 (writer: two model calls, a tool, an approval), step s2
    (critic: a retried model call, a failing tool, a refusal, then failure), run end."""
    r = {"run_id": run_id}
    s1 = {**r, "step_id": "s1", "agent": "writer"}
    s2 = {**r, "step_id": "s2", "agent": "critic"}
    return [
        RunStarted(
            **r,
            ts=t0,
            task="Draft the RFP response",
            workflow="rfp",
            agents=["writer", "critic"],
            policy_hash="abc",
        ),
        ModelCallStarted(
            **r,
            ts=t0 + 0.1,
            call_key="plan-0",
            model="openai:gpt-4.1-mini",
            max_tokens=1000,
            reserved_usd=0.002,
        ),
        ModelCallFinished(
            **r,
            ts=t0 + 0.5,
            call_key="plan-0",
            model="openai:gpt-4.1-mini",
            input_tokens=100,
            output_tokens=50,
            cost_usd=0.0002,
            stop_reason="stop",
        ),
        PlanMade(**r, ts=t0 + 0.6, plan={"steps": [{"id": "s1"}, {"id": "s2"}]}),
        StepStarted(**s1, ts=t0 + 1.0, model="anthropic:claude-sonnet-4-5", instruction="Write"),
        ModelCallStarted(
            **s1, ts=t0 + 1.1, call_key="s1-0", model="anthropic:claude-sonnet-4-5", max_tokens=4096
        ),
        TextDeltaEvent(**s1, ts=t0 + 1.2, text="Hello"),
        ModelCallFinished(
            **s1,
            ts=t0 + 2.0,
            call_key="s1-0",
            model="anthropic:claude-sonnet-4-5",
            input_tokens=1200,
            output_tokens=300,
            cost_usd=0.0081,
            stop_reason="tool_calls",
        ),
        ToolCallStarted(
            **s1,
            ts=t0 + 2.1,
            tool="search_kb",
            call_id="c1",
            idempotency_key="k1",
            arguments={"query": "pricing"},
        ),
        ToolCallFinished(
            **s1,
            ts=t0 + 2.3,
            tool="search_kb",
            call_id="c1",
            idempotency_key="k1",
            result_size=420,
            duration_ms=200,
        ),
        ApprovalRequested(
            **s1,
            ts=t0 + 2.4,
            request_id="a1",
            tool="send_email",
            arguments={"to": "x@example.com"},
            risk="external",
        ),
        ApprovalDecided(**s1, ts=t0 + 2.5, request_id="a1", decision="approved", approver="ann"),
        ModelCallStarted(
            **s1, ts=t0 + 2.6, call_key="s1-1", model="anthropic:claude-sonnet-4-5", max_tokens=4096
        ),
        ModelCallFinished(
            **s1,
            ts=t0 + 3.0,
            call_key="s1-1",
            model="anthropic:claude-sonnet-4-5",
            input_tokens=1600,
            output_tokens=400,
            cost_usd=0.0108,
            stop_reason="stop",
            replayed=True,
        ),
        StepFinished(
            **s1,
            ts=t0 + 3.1,
            output_preview="Dear ...",
            usage={"input_tokens": 2800, "output_tokens": 700},
        ),
        StepStarted(**s2, ts=t0 + 3.2, model="openai:gpt-4.1-mini"),
        ModelCallStarted(
            **s2, ts=t0 + 3.3, call_key="s2-0", model="openai:gpt-4.1-mini", max_tokens=2000
        ),
        ModelCallFailed(
            **s2,
            ts=t0 + 3.4,
            call_key="s2-0",
            model="openai:gpt-4.1-mini",
            error_type="ProviderError",
            message="rate limited",
            will_retry=True,
        ),
        ModelCallFinished(
            **s2,
            ts=t0 + 3.9,
            call_key="s2-0",
            model="openai:gpt-4.1-mini",
            input_tokens=800,
            output_tokens=100,
            cost_usd=0.0005,
            stop_reason="stop",
        ),
        ToolCallStarted(**s2, ts=t0 + 4.0, tool="check_terms", call_id="c2", idempotency_key="k2"),
        ToolCallFinished(
            **s2,
            ts=t0 + 4.2,
            tool="check_terms",
            call_id="c2",
            idempotency_key="k2",
            is_error=True,
            error="terms file missing",
            duration_ms=200,
        ),
        PermissionRefused(**s2, ts=t0 + 4.3, tool="delete_all", reason="not allowed for critic"),
        BudgetWarning(**r, ts=t0 + 4.4, spent_usd=1.6, limit_usd=2.0, fraction=0.8),
        StepFailed(**s2, ts=t0 + 4.5, error_type="ModelBehaviorError", message="bad output"),
        RunFinished(
            **r,
            ts=t0 + 5.0,
            status="failed",
            error="step s2 failed",
            usage={
                "total": {"input_tokens": 3700, "output_tokens": 850, "cost_usd": 0.0196},
                "by_agent": {"writer": {"input_tokens": 2800}},
            },
        ),
    ]


@pytest.fixture
def events() -> list[BaseEvent]:
    return sample_run()
