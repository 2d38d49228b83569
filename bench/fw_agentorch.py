"""The workload on agentorch: a router plans one step per specialist, a synthesizer answers."""

from __future__ import annotations

from typing import Any

from bench import workload as w
from bench.workload import Scenario


def build(n: int, latency: float, *, with_tools: bool = True, store: Any = None) -> Scenario:
    """A Supervisor whose router plans ``n`` parallel steps; ``store`` turns checkpointing on."""
    from agentorch import Agent, FunctionModel, Plan, Step, Supervisor, tool
    from agentorch.models.testing import json_response, text_response, tool_call_response
    from agentorch.models.types import ModelRequest, ModelResponse, ToolResultMessage, Usage

    # Fixed usage, like the peers' fakes: FunctionModel would otherwise count tokens with
    # tiktoken on every call, a cost of the fake model and not of the runtime.
    fixed = Usage(input_tokens=50, output_tokens=10, requests=1)

    def priced(response: ModelResponse | str) -> ModelResponse:
        if isinstance(response, str):
            response = text_response(response)
        return response.model_copy(update={"usage": fixed})

    scenario = Scenario("agentorch", run=_unset)
    counts = scenario.counts
    plan = Plan(
        steps=[
            Step(id=f"s{i}", agent=w.specialist_name(i), instruction=w.instruction(i))
            for i in range(n)
        ]
    )

    def supervisor_model(request: ModelRequest) -> Any:
        counts.model_calls += 1
        if request.output_schema is not None:  # the planning call
            return priced(json_response(plan))
        return priced(w.FINAL)

    def specialist_model(i: int) -> Any:
        def answer(request: ModelRequest) -> Any:
            counts.model_calls += 1
            if with_tools and not any(isinstance(m, ToolResultMessage) for m in request.messages):
                return priced(tool_call_response((w.tool_name(i), {"query": f"fact {i}"})))
            return priced(w.specialist_answer(i))

        return FunctionModel(answer, name=f"fake_{i}", delay=latency)

    def lookup(i: int) -> Any:
        def fn(query: str) -> str:
            counts.tool_calls += 1
            return w.tool_result(i)

        fn.__name__ = w.tool_name(i)
        fn.__doc__ = f"Look up fact {i}."
        return tool(fn)

    agents = [
        Agent(
            name=w.specialist_name(i),
            description=f"Specialist {i}.",
            model=specialist_model(i),
            tools=[w.tool_name(i)] if with_tools else [],
        )
        for i in range(n)
    ]
    sup = Supervisor(
        agents,
        model=FunctionModel(supervisor_model, name="fake_supervisor"),
        tools=[lookup(i) for i in range(n)] if with_tools else [],
        store=store,
    )

    async def run() -> str:
        result = await sup.run(w.TASK)
        if result.status != "succeeded":
            raise AssertionError(f"agentorch run {result.status}: {result.error}")
        return str(result.output)

    scenario.run = run
    if store is not None and sup.store is not None:
        scenario.close = sup.store.close
        scenario.store = sup.store
    return scenario


async def _unset() -> str:
    raise RuntimeError("scenario not built")
