"""The workload on Pydantic AI: delegation inside tools, every agent on a ``FunctionModel``."""

import asyncio
from typing import Any

from bench import workload as w
from bench.workload import Scenario


def build(n: int, latency: float, *, with_tools: bool = True) -> Scenario:
    from pydantic_ai import Agent, RunContext, Tool
    from pydantic_ai.messages import (
        ModelMessage,
        ModelResponse,
        TextPart,
        ToolCallPart,
        ToolReturnPart,
    )
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    scenario = Scenario("pydantic-ai", run=_unset)
    counts = scenario.counts

    def has_result(messages: list[ModelMessage]) -> bool:
        return any(isinstance(p, ToolReturnPart) for m in messages for p in m.parts)

    async def supervisor_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        counts.model_calls += 1
        if has_result(messages):
            return ModelResponse(parts=[TextPart(w.FINAL)])
        return ModelResponse(
            parts=[
                ToolCallPart(w.specialist_name(i), {"request": w.instruction(i)}) for i in range(n)
            ]
        )

    def specialist_model(i: int) -> FunctionModel:
        async def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            counts.model_calls += 1
            if latency:
                await asyncio.sleep(latency)
            if with_tools and not has_result(messages):
                return ModelResponse(parts=[ToolCallPart(w.tool_name(i), {"query": f"fact {i}"})])
            return ModelResponse(parts=[TextPart(w.specialist_answer(i))])

        return FunctionModel(answer)

    def lookup(i: int) -> Tool[Any]:
        def fn(query: str) -> str:
            counts.tool_calls += 1
            return w.tool_result(i)

        return Tool(fn, name=w.tool_name(i), description=f"Look up fact {i}.", takes_ctx=False)

    def delegate(i: int) -> Tool[Any]:
        specialist = Agent(specialist_model(i), tools=[lookup(i)] if with_tools else [])

        async def fn(ctx: RunContext[None], request: str) -> str:
            result = await specialist.run(request, usage=ctx.usage)
            return result.output

        return Tool(fn, name=w.specialist_name(i), description=f"Specialist {i}.", takes_ctx=True)

    supervisor = Agent(FunctionModel(supervisor_model), tools=[delegate(i) for i in range(n)])

    async def run() -> str:
        result = await supervisor.run(w.TASK)
        return result.output

    scenario.run = run
    return scenario


async def _unset() -> str:
    raise RuntimeError("scenario not built")
