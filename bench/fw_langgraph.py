"""The workload on LangGraph: a supervisor graph whose specialists are tools, each a ReAct graph.

Each agent is the canonical two-node graph (model node -> ``ToolNode`` while the model asks for
tools); the fake chat model is a ``BaseChatModel`` subclass answering from the shared workload.
"""

import asyncio
import itertools
from typing import Any

from bench import workload as w
from bench.workload import Scenario

_ids = itertools.count()


def build(n: int, latency: float, *, with_tools: bool = True) -> Scenario:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
    from langchain_core.outputs import ChatGeneration, ChatResult
    from langchain_core.tools import StructuredTool
    from langgraph.graph import END, START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode, tools_condition

    scenario = Scenario("langgraph", run=_unset)
    counts = scenario.counts

    class FakeChat(BaseChatModel):
        """Zero-cost chat model: ``answer(messages)`` decides the reply; waits ``delay``."""

        role: int = -1  # -1: the supervisor, i >= 0: specialist i
        delay: float = 0.0

        @property
        def _llm_type(self) -> str:
            return "bench-fake"

        def _reply(self, messages: list[BaseMessage]) -> AIMessage:
            counts.model_calls += 1
            has_result = any(isinstance(m, ToolMessage) for m in messages)
            if self.role < 0:
                if has_result:
                    return AIMessage(content=w.FINAL)
                calls = [
                    {
                        "name": w.specialist_name(i),
                        "args": {"request": w.instruction(i)},
                        "id": f"c{next(_ids)}",
                    }
                    for i in range(n)
                ]
                return AIMessage(content="", tool_calls=calls)
            if with_tools and not has_result:
                call = {
                    "name": w.tool_name(self.role),
                    "args": {"query": f"fact {self.role}"},
                    "id": f"c{next(_ids)}",
                }
                return AIMessage(content="", tool_calls=[call])
            return AIMessage(content=w.specialist_answer(self.role))

        def _generate(
            self,
            messages: list[BaseMessage],
            stop: Any = None,
            run_manager: Any = None,
            **kwargs: Any,
        ) -> ChatResult:
            return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

        async def _agenerate(
            self,
            messages: list[BaseMessage],
            stop: Any = None,
            run_manager: Any = None,
            **kwargs: Any,
        ) -> ChatResult:
            if self.delay:
                await asyncio.sleep(self.delay)
            return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    def react_graph(model: FakeChat, tools: list[Any]) -> Any:
        async def call_model(state: MessagesState) -> dict[str, Any]:
            return {"messages": [await model.ainvoke(state["messages"])]}

        graph = StateGraph(MessagesState)
        graph.add_node("model", call_model)
        graph.add_edge(START, "model")
        if tools:
            graph.add_node("tools", ToolNode(tools))
            graph.add_conditional_edges("model", tools_condition)
            graph.add_edge("tools", "model")
        else:
            graph.add_edge("model", END)
        return graph.compile()

    def lookup(i: int) -> Any:
        def fn(query: str) -> str:
            counts.tool_calls += 1
            return w.tool_result(i)

        return StructuredTool.from_function(
            fn, name=w.tool_name(i), description=f"Look up fact {i}."
        )

    def delegate(i: int) -> Any:
        specialist = react_graph(FakeChat(role=i, delay=latency), [lookup(i)] if with_tools else [])

        async def fn(request: str) -> str:
            state = await specialist.ainvoke({"messages": [("user", request)]})
            return str(state["messages"][-1].content)

        return StructuredTool.from_function(
            coroutine=fn, name=w.specialist_name(i), description=f"Specialist {i}."
        )

    supervisor = react_graph(FakeChat(role=-1), [delegate(i) for i in range(n)])

    async def run() -> str:
        state = await supervisor.ainvoke({"messages": [("user", w.TASK)]})
        return str(state["messages"][-1].content)

    scenario.run = run
    return scenario


async def _unset() -> str:
    raise RuntimeError("scenario not built")
