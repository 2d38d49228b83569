"""What the docs' local provider answers when one of agentorch's own callers asks.

A real model reads the system prompt and answers as the specialist it describes. The local
provider does the same: it recognises the bundled specialist asking (its instructions open the
system prompt) and answers with that specialist's offline model, which reads the same prompt and
tool results a real model would. A router's planning call gets a plan made from the task and the
roster in its prompt (``plan_for``). The wire requests (OpenAI chat completions, Anthropic
messages) are read into agentorch's own ``ModelRequest`` and the answer written back in the same
wire format, so the provider adapters, streaming and tool calls on both sides are the real ones.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from math import log
from typing import Any

from agentorch import Agent
from agentorch.models import (
    AssistantMessage,
    Message,
    ModelRequest,
    ModelResponse,
    SystemMessage,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from agentorch.models.testing import FunctionModel, json_response
from agentorch.models.types import OutputSchema, ToolSchema
from agentorch.planner import PLANNER_INSTRUCTIONS

# --- wire formats -> ModelRequest -----------------------------------------------------------------


def _call(call_id: str, name: str, arguments: Any) -> ToolCall:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ToolCall(id=call_id, name=name, arguments=json.loads(raw or "{}"), raw_arguments=raw)


def from_openai(body: dict[str, Any]) -> ModelRequest:
    """The ``ModelRequest`` a chat-completions body was made from."""
    messages: list[Message] = []
    names: dict[str, str] = {}
    for item in body.get("messages") or []:
        role, content = item.get("role"), item.get("content")
        if role in ("system", "developer"):
            messages.append(SystemMessage(content=text_of(content)))
        elif role == "user":
            messages.append(UserMessage(content=text_of(content)))
        elif role == "assistant":
            calls = [
                _call(c["id"], c["function"]["name"], c["function"].get("arguments") or "{}")
                for c in item.get("tool_calls") or []
            ]
            names.update((c.id, c.name) for c in calls)
            messages.append(AssistantMessage(content=content or None, tool_calls=tuple(calls)))
        elif role == "tool":
            call_id = item["tool_call_id"]
            messages.append(
                ToolResultMessage(
                    tool_call_id=call_id, name=names.get(call_id, ""), content=text_of(content)
                )
            )
    tools = tuple(
        ToolSchema(
            name=t["function"]["name"],
            description=t["function"].get("description") or "",
            parameters=t["function"].get("parameters") or {"type": "object", "properties": {}},
        )
        for t in body.get("tools") or []
    )
    output = None
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        spec = fmt["json_schema"]
        output = OutputSchema(
            name=spec.get("name") or "final_result",
            description=spec.get("description") or "",
            json_schema=spec.get("schema") or {},
        )
    return ModelRequest(messages=tuple(messages), tools=tools, output_schema=output)


def from_anthropic(body: dict[str, Any], output_tool: str | None) -> ModelRequest:
    """The ``ModelRequest`` a Messages API body was made from; ``output_tool`` is the forced tool
    that stands for the structured output (agentorch's adapter adds one), if any."""
    messages: list[Message] = []
    if body.get("system"):
        messages.append(SystemMessage(content=text_of(body["system"])))
    names: dict[str, str] = {}
    for turn in body.get("messages") or []:
        blocks = turn["content"]
        if isinstance(blocks, str):
            blocks = [{"type": "text", "text": blocks}]
        if turn["role"] == "assistant":
            text = "".join(b.get("text", "") for b in blocks if b["type"] == "text")
            calls = [_call(b["id"], b["name"], b.get("input") or {}) for b in blocks
                     if b["type"] == "tool_use"]  # fmt: skip
            names.update((c.id, c.name) for c in calls)
            messages.append(AssistantMessage(content=text or None, tool_calls=tuple(calls)))
            continue
        for block in blocks:
            if block["type"] == "text":
                messages.append(UserMessage(content=block["text"]))
            elif block["type"] == "tool_result":
                call_id = block["tool_use_id"]
                messages.append(
                    ToolResultMessage(
                        tool_call_id=call_id,
                        name=names.get(call_id, ""),
                        content=text_of(block.get("content")),
                        is_error=bool(block.get("is_error")),
                    )
                )
    tools, output = [], None
    for tool in body.get("tools") or []:
        schema = tool.get("input_schema") or {"type": "object", "properties": {}}
        if tool["name"] == output_tool:
            output = OutputSchema(
                name=tool["name"], description=tool.get("description") or "", json_schema=schema
            )
        else:
            tools.append(
                ToolSchema(
                    name=tool["name"], description=tool.get("description") or "", parameters=schema
                )
            )
    return ModelRequest(messages=tuple(messages), tools=tuple(tools), output_schema=output)


def text_of(content: Any) -> str:
    """A message's content as text (a string, or a list of text blocks/parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


# --- who is asking ------------------------------------------------------------------------------


class Specialists:
    """Answers the requests of the given specialists (default: the bundled ones) and of the router.

    ``caller(system)`` recognises who is asking from the system prompt; ``answer`` returns what
    that caller's offline model answers. A request no known caller would send gets ``None``: the
    provider then answers it generically.
    """

    def __init__(self, agents: Iterable[Agent] | None = None) -> None:
        if agents is None:
            from agentorch.discovery import builtin_agents

            agents = builtin_agents()
        self.callers = [
            Caller(agent.name, agent.instructions.strip(), frozenset(agent.tools or ()),
                   agent.offline_model())
            for agent in agents
            if agent.instructions.strip()
        ]  # fmt: skip
        self.router = Caller("router", PLANNER_INSTRUCTIONS, frozenset(), FunctionModel(plan_for))

    def caller(self, system: str) -> Caller | None:
        """The specialist (or the router) whose instructions open ``system``, if any."""
        for caller in (self.router, *self.callers):
            if system.startswith(caller.instructions):
                return caller
        return None

    def answer(self, caller: Caller, request: ModelRequest) -> ModelResponse:
        """What ``caller``'s offline model answers, usage counted as the offline engine counts."""
        return asyncio.run(caller.model.request(request))


@dataclass(frozen=True)
class Caller:
    """One of agentorch's callers the provider knows: a specialist or the router."""

    name: str
    instructions: str
    tools: frozenset[str]
    model: FunctionModel

    def output_tool(self, tools: list[dict[str, Any]]) -> str | None:
        """The Messages API tool that stands for the structured output: the one not of the
        caller's own tools (agentorch's adapter appends it)."""
        return next((t["name"] for t in reversed(tools) if t["name"] not in self.tools), None)


# --- the router ---------------------------------------------------------------------------------

_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an and any are as at be by each for from in into is it its of on one or our the their "
        "these this those to two with all every",
    )
)
_SUFFIXES = ("ings", "ing", "ies", "ied", "ed", "es", "s", "y")


def _stems(text: str) -> set[str]:
    """The content words of ``text``, crudely stemmed (``risky`` and ``risk`` meet)."""
    stems = set()
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _STOP or len(word) < 3:
            continue
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        stems.add(word)
    return stems


def _section(prompt: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", prompt, re.M | re.S)
    return match.group(1).strip() if match else ""


def plan_for(request: ModelRequest) -> ModelResponse:
    """A plan for the router's prompt (task, specialists, input files), as a model would make one.

    Each sentence or ``then``-clause of the task goes to the specialist whose description shares
    the most of its words (rarer words weigh more); the steps run in the task's order, the first
    reads the input files, and a specialist whose description says it reviews checks the step
    before it.
    """
    prompt = next((m.content for m in request.messages if isinstance(m, UserMessage)), "")
    task = _section(prompt, "Task")
    roster: dict[str, str] = {}
    for line in _section(prompt, "Specialists").splitlines():
        name, _, description = line.removeprefix("- ").partition(": ")
        roster[name.strip()] = description
    files = _section(prompt, "Input files")
    inputs = [] if files in ("", "none") else [f.strip() for f in files.split(",")]
    words = {name: _stems(f"{name} {text}") for name, text in roster.items()}
    weight = {w: log((1 + len(words)) / sum(w in ws for ws in words.values()))
              for ws in words.values() for w in ws}  # fmt: skip

    def best(clause: str) -> str | None:
        asked = _stems(clause)
        scores = {name: sum(weight[w] for w in ws & asked) for name, ws in words.items()}
        top = max(scores, key=lambda name: scores[name], default=None)
        return top if top is not None and scores[top] > 0 else None

    clauses = [c for c in re.split(r"[.;]\s+|,?\s+then\s+", task) if c.strip()]
    steps: list[dict[str, Any]] = []
    for clause in clauses:
        agent = best(clause) or (None if steps else next(iter(roster), None))
        if agent is None:
            continue
        step: dict[str, Any] = {"id": f"{agent}_{len(steps) + 1}", "agent": agent,
                                "instruction": clause.strip().rstrip(".") + "."}  # fmt: skip
        if steps:
            previous = steps[-1]["id"]
            step["depends_on"] = [previous]
            if roster[agent].lower().startswith("reviews"):
                step["reviews"] = previous
        else:
            step["inputs"] = inputs
        steps.append(step)
    doing = [s["id"] for s in steps if "reviews" not in s]
    plan = {"steps": steps, "final_step": doing[-1] if doing else None,
            "rationale": "One step per part of the task, each by the specialist it describes."}  # fmt: skip
    return json_response(plan)


# --- ModelResponse -> wire formats ----------------------------------------------------------------


def to_openai(response: ModelResponse) -> dict[str, Any]:
    """The chat-completions assistant message of ``response``."""
    message: dict[str, Any] = {"role": "assistant", "content": response.text or None}
    if response.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": c.raw_arguments or json.dumps(c.arguments)}}
            for c in response.tool_calls
        ]  # fmt: skip
    return message


def to_anthropic(response: ModelResponse, output_tool: str | None) -> list[dict[str, Any]]:
    """The Messages API content blocks of ``response``; a final structured answer is the call of
    the output tool that agentorch's adapter reads it from."""
    if response.tool_calls:
        return [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                for c in response.tool_calls]  # fmt: skip
    if output_tool is not None:
        value = json.loads(response.text)
        if not isinstance(value, dict):  # the adapter wraps a non-object schema under "result"
            value = {"result": value}
        return [{"type": "tool_use", "id": "toolu_final", "name": output_tool, "input": value}]
    return [{"type": "text", "text": response.text}]
