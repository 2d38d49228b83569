"""The budget at the HTTP boundary: a server that reports more usage than was reserved, and one
that reports no usage at all (OpenAI-compatible chat completions over a real local socket)."""

from __future__ import annotations

from pathlib import Path

from _models_server import LocalServer, Reply, completion

from agentorch import Agent, Budget, Plan, Step, Supervisor
from agentorch.models.openai import OpenAIModel
from agentorch.store import open_store

PRICES = {"openai:gpt-4.1-mini": {"input": 4e-7, "output": 1.6e-6}}


class Answerer(Agent):
    name = "answerer"


def sup_for(server: LocalServer, budget: Budget, store: str) -> Supervisor:
    model = OpenAIModel("gpt-4.1-mini", api_key="sk-local-test-key-0000", base_url=server.url)
    plan = Plan(
        steps=[Step(id="answer", agent="answerer", instruction="Answer")], final_step="answer"
    )
    return Supervisor([Answerer(model=model)], plan=plan, budget=budget, store=store)


async def test_usage_reported_beyond_the_reservation_ends_the_run_budget_exceeded(
    tmp_path: Path,
) -> None:
    # reserved: a short prompt + 4,096 output tokens (about $0.0066); reported: $0.0121
    usage = {"prompt_tokens": 10_250, "completion_tokens": 5_000, "total_tokens": 15_250}
    store = f"sqlite:///{tmp_path}/runs.db"
    with LocalServer() as server:
        server.replies.append(Reply(body={**completion("the answer"), "usage": usage}))
        sup = sup_for(server, Budget(usd=0.01, prices=PRICES), store)
        result = await sup.run("Answer the question")
        assert len(server.requests) == 1
    assert result.status == "budget_exceeded", result.error
    assert "but reserved only" in (result.error or "")
    assert result.usage.total.cost_usd == 10_250 * 4e-7 + 5_000 * 1.6e-6  # recorded as reported
    opened = open_store(store)
    try:
        kinds = [e.kind for e in opened.events(result.run_id)]
        record = opened.get_run(result.run_id)
    finally:
        opened.close()
    assert "budget_overrun" in kinds
    assert record.status == "budget_exceeded"
    assert record.usage["total"]["cost_usd"] > 0.01


async def test_a_server_that_omits_usage_is_charged_by_counting_the_text(tmp_path: Path) -> None:
    answer = "A complete answer that the server does not count. " * 20
    body = completion(answer)
    del body["usage"]
    store = f"sqlite:///{tmp_path}/runs.db"
    with LocalServer() as server:
        server.replies.append(Reply(body=body))
        sup = sup_for(server, Budget(usd=1.0, prices=PRICES), store)
        result = await sup.run("Answer the question")
    assert result.status == "succeeded", result.error
    total = result.usage.total
    assert total.estimated is True
    assert total.input_tokens > 0 and total.output_tokens >= 20 * 9
    assert total.cost_usd > 0
    opened = open_store(store)
    try:
        finished = [
            e.payload for e in opened.events(result.run_id) if e.kind == "model_call_finished"
        ]
        entry = opened.journal(result.run_id, kind="model")[0]
    finally:
        opened.close()
    assert finished[0]["usage_estimated"] is True
    assert entry.usage["estimated"] is True and entry.usage["output_tokens"] == total.output_tokens
