"""The workload on the OpenAI Agents SDK: specialists as tools (``Agent.as_tool``).

The fake model implements the SDK's ``Model`` interface and answers from the shared workload;
tracing is disabled so no exporter runs.
"""

import asyncio
import itertools
import json
from typing import Any

from bench import workload as w
from bench.workload import Scenario

_ids = itertools.count()


def build(n: int, latency: float, *, with_tools: bool = True) -> Scenario:
    from openai.types.responses import (
        ResponseFunctionToolCall,
        ResponseOutputMessage,
        ResponseOutputText,
    )

    from agents import (
        Agent,
        FunctionTool,
        Model,
        ModelResponse,
        Runner,
        Usage,
        function_tool,
        set_tracing_disabled,
    )

    set_tracing_disabled(True)
    scenario = Scenario("openai-agents", run=_unset)
    counts = scenario.counts

    def message(text: str) -> ResponseOutputMessage:
        return ResponseOutputMessage(
            id=f"m{next(_ids)}",
            type="message",
            role="assistant",
            status="completed",
            content=[ResponseOutputText(text=text, type="output_text", annotations=[])],
        )

    def call(name: str, args: dict[str, Any]) -> ResponseFunctionToolCall:
        i = next(_ids)
        return ResponseFunctionToolCall(
            id=f"f{i}",
            call_id=f"c{i}",
            name=name,
            arguments=json.dumps(args),
            type="function_call",
            status="completed",
        )

    def has_result(items: Any) -> bool:
        if isinstance(items, str):
            return False
        return any(
            (item.get("type") if isinstance(item, dict) else getattr(item, "type", None))
            == "function_call_output"
            for item in items
        )

    class FakeModel(Model):
        def __init__(self, role: int, delay: float) -> None:
            self.role = role  # -1: the supervisor, i >= 0: specialist i
            self.delay = delay

        async def get_response(
            self,
            system_instructions: Any,
            input: Any,
            model_settings: Any,
            tools: Any,
            output_schema: Any,
            handoffs: Any,
            tracing: Any,
            *args: Any,
            **kwargs: Any,
        ) -> ModelResponse:
            counts.model_calls += 1
            if self.delay:
                await asyncio.sleep(self.delay)
            done = has_result(input)
            if self.role < 0:
                output: list[Any] = (
                    [message(w.FINAL)]
                    if done
                    else [call(w.specialist_name(i), {"input": w.instruction(i)}) for i in range(n)]
                )
            elif with_tools and not done:
                output = [call(w.tool_name(self.role), {"query": f"fact {self.role}"})]
            else:
                output = [message(w.specialist_answer(self.role))]
            return ModelResponse(output=output, usage=Usage(), response_id=None)

        def stream_response(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError("the benchmark does not stream")

    def lookup(i: int) -> FunctionTool:
        def fn(query: str) -> str:
            counts.tool_calls += 1
            return w.tool_result(i)

        fn.__name__ = w.tool_name(i)
        fn.__doc__ = f"Look up fact {i}."
        return function_tool(fn)

    specialists = [
        Agent(
            name=w.specialist_name(i),
            instructions=f"Specialist {i}.",
            model=FakeModel(i, latency),
            tools=[lookup(i)] if with_tools else [],
        )
        for i in range(n)
    ]
    supervisor = Agent(
        name="supervisor",
        instructions="Delegate to the specialists, then answer.",
        model=FakeModel(-1, 0.0),
        tools=[
            s.as_tool(tool_name=w.specialist_name(i), tool_description=f"Specialist {i}.")
            for i, s in enumerate(specialists)
        ],
    )

    async def run() -> str:
        result = await Runner.run(supervisor, w.TASK)
        return str(result.final_output)

    scenario.run = run
    return scenario


async def _unset() -> str:
    raise RuntimeError("scenario not built")
