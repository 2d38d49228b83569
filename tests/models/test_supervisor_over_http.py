"""A whole supervised run over real sockets: router, specialist and tool call on the OpenAI SDK."""

from __future__ import annotations

import json
from pathlib import Path

from _models_server import LocalServer, Reply, completion
from pydantic import BaseModel

from agentorch import Agent, ApproveAll, Budget, Plan, Step, Supervisor, tool
from agentorch.models.openai import OpenAIModel
from agentorch.store import open_store


class Quote(BaseModel):
    sku: str
    price: float


@tool
def rate_card_lookup(sku: str) -> float:
    """Look up the list price for a SKU."""
    return {"SUP-1": 1200.0}[sku]


class Pricing(Agent):
    name = "pricing"
    description = "Prices line items against the rate card."
    tools = ["rate_card_lookup"]
    output_type = Quote


async def test_planned_run_with_tools_over_http(tmp_path: Path) -> None:
    plan = Plan(
        steps=[Step(id="price", agent="pricing", instruction="Price SUP-1")], final_step="price"
    )
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "rate_card_lookup", "arguments": '{"sku": "SUP-1"}'},
    }
    usage = {
        "prompt_tokens": 120,
        "completion_tokens": 20,
        "total_tokens": 140,
        "prompt_tokens_details": {"cached_tokens": 100},
    }
    with LocalServer() as server:
        server.replies += [
            Reply(body={**completion(plan.model_dump_json()), "usage": usage}),
            Reply(body={**completion(None, tool_calls=[call]), "usage": usage}),
            Reply(body={**completion('{"sku": "SUP-1", "price": 1200.0}'), "usage": usage}),
        ]
        model = OpenAIModel("gpt-4.1-mini", api_key="sk-local-test-key-0000", base_url=server.url)
        sup = Supervisor(
            [Pricing(model=model)],
            router_model=model,
            tools=[rate_card_lookup],
            approver=ApproveAll(),
            budget=Budget(usd=1.0),
            store=f"sqlite:///{tmp_path}/runs.db",
        )
        result = await sup.run("Price SUP-1 for three years")
    assert result.status == "succeeded", result.error
    assert result.output == Quote(sku="SUP-1", price=1200.0)
    router_request, tool_request, final_request = (r.json for r in server.requests)
    assert router_request["response_format"]["type"] == "json_schema"
    assert [t["function"]["name"] for t in tool_request["tools"]] == ["rate_card_lookup"]
    tool_result = [m for m in final_request["messages"] if m["role"] == "tool"]
    assert tool_result[0]["content"] == "1200.0"
    # priced at gpt-4.1-mini's rates from litellm's bundled table, cached input at the cached rate
    report = result.usage
    assert report.total.requests == 3
    assert report.total.cached_input_tokens == 300
    assert 0 < report.total.cost_usd < 0.001
    store = open_store(f"sqlite:///{tmp_path}/runs.db")
    try:
        assert store.verify_audit(result.run_id).ok
        rows = json.dumps([r.payload for r in store.events(result.run_id)])
        assert "sk-local-test-key-0000" not in rows
    finally:
        store.close()
