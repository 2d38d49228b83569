"""The docs' local provider: agentorch's OpenAI and Anthropic adapters, unchanged and reading only
the environment, get well-formed answers from it (text, structured output, streamed), and the
bundled specialists and the router get the answers they would get offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_provider import TEXT, ProviderServer, instance
from docs_specialists import Specialists, plan_for
from pydantic import BaseModel

from agentorch import Agent, Plan, Supervisor
from agentorch.discovery import builtin_agents
from agentorch.models import ModelRequest, SystemMessage, UserMessage, infer_model
from agentorch.models.wrappers import close_model
from agentorch.plan import validate_plan
from agentorch.planner import PLANNER_INSTRUCTIONS


class Quote(BaseModel):
    sku: str
    unit_price: float
    tags: list[str]


class Quoter(Agent):
    name = "quoter"
    description = "Quotes a price."
    instructions = "Quote the SKU."
    output_type = Quote


@pytest.fixture(scope="module")
def server() -> Iterator[ProviderServer]:
    server = ProviderServer().start()
    yield server
    server.stop()


@pytest.fixture
def provider_env(server: ProviderServer, monkeypatch: pytest.MonkeyPatch) -> ProviderServer:
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    return server


def test_an_instance_fits_its_schema() -> None:
    assert Quote.model_validate(instance(Quote.model_json_schema()))


@pytest.mark.parametrize("model", ["openai:gpt-4.1-mini", "anthropic:claude-sonnet-4-6"])
async def test_text_and_stream(provider_env: ProviderServer, model: str) -> None:
    request = ModelRequest(messages=(UserMessage(content="Hello?"),))
    chat = infer_model(model)
    response = await chat.request(request)
    assert response.text == TEXT and response.usage.input_tokens > 0
    streamed = [chunk async for chunk in chat.stream(request)]
    await close_model(chat)
    assert streamed[-1].kind == "done"
    assert provider_env.requests[-1]["stream"] is True


@pytest.mark.parametrize("model", ["openai:gpt-4.1-mini", "anthropic:claude-sonnet-4-6"])
async def test_structured_output_through_an_agent(provider_env: ProviderServer, model: str) -> None:
    chat = infer_model(model)
    result = await Quoter(model=chat).run("Quote SUP-1")
    await close_model(chat)
    assert isinstance(result.output, Quote)


RFP = """# Harbor County RFP 24-031: Online Permitting

## 2. Technical Requirements

2.1 Single sign-on. The Solution shall support single sign-on through SAML 2.0.

2.2 GIS integration. The Solution should integrate with the County's Esri ArcGIS Enterprise.

## 3. Security

3.1 Encryption. The Contractor shall encrypt all County data in transit and at rest.

3.2 Users. The County will provide the list of staff users.
"""


@pytest.mark.parametrize(
    ("model", "router", "stream"),
    [
        ("anthropic:claude-sonnet-4-5", "openai:gpt-4.1-mini", False),
        ("openai:gpt-4.1-mini", "anthropic:claude-sonnet-4-6", True),
    ],
)
async def test_a_task_on_the_bundled_specialists_gets_their_offline_answers(
    provider_env: ProviderServer, tmp_path: Path, model: str, router: str, stream: bool
) -> None:
    """The router's plan fits the task; the parser, asked over either wire format (plain or
    streamed, with its tool calls), answers exactly as it does on the offline engine."""
    rfp = tmp_path / "rfp.md"
    rfp.write_text(RFP, encoding="utf-8")
    task = "List the requirements of this RFP, with their modality"
    on_models = Supervisor(builtin_agents(), model=model, router_model=router, stream=stream)
    before = len(provider_env.requests)
    result = await on_models.run(task, files=[rfp])
    assert result.status == "succeeded", result.error
    assert result.plan is not None and [s.agent for s in result.plan.steps] == ["parser"]
    assert [r.id for r in result.output.requirements] == ["R-2.1", "R-2.2", "R-3.1"]
    assert [r.modality for r in result.output.requirements] == ["must", "should", "must"]
    offline = Supervisor(builtin_agents(), engine="offline")
    assert (await offline.run(task, files=[rfp], plan=result.plan)).output == result.output
    asked = {r["path"] for r in provider_env.requests[before:]}
    assert asked == {"/v1/chat/completions", "/v1/messages"}


def test_the_router_plans_each_part_of_the_task_for_the_specialist_it_describes() -> None:
    roster = "\n".join(f"- {a.name}: {a.description}" for a in builtin_agents())
    prompt = (
        "## Task\nList the requirements of this RFP, then draft our answers from the approved "
        "answers, then flag risky commitments and absolute claims\n\n"
        f"## Specialists\n{roster}\n\n## Input files\nrfp.md"
    )
    request = ModelRequest(
        messages=(SystemMessage(content=PLANNER_INSTRUCTIONS), UserMessage(content=prompt))
    )
    plan = Plan.model_validate_json(plan_for(request).text)
    assert validate_plan(plan, [a.name for a in builtin_agents()]) == []
    assert [(s.agent, s.depends_on, s.reviews) for s in plan.steps] == [
        ("parser", [], None),
        ("writer", ["parser_1"], None),
        ("critic", ["writer_2"], "writer_2"),
    ]
    assert plan.steps[0].inputs == ["rfp.md"] and plan.final_step == "writer_2"


def test_only_known_callers_are_answered_as_themselves() -> None:
    known = Specialists()
    parser = next(a for a in builtin_agents() if a.name == "parser")
    assert known.caller(parser.instructions.strip() + "\n\nAnswer with JSON.") is not None
    assert known.caller(PLANNER_INSTRUCTIONS) is known.router
    assert known.caller(Quoter.instructions) is None  # a page's own agent: a generic answer
