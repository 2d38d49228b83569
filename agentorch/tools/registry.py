"""The tool registry and the one path every tool call takes.

``ToolRegistry.call`` is the only way an agent reaches a tool: it checks the calling agent's
permission (the agent's allow-list composed with the policy; the stricter wins), validates the
arguments, applies the approval rule, runs the tool through the host's journal (exactly once) with
its timeout, and emits an event at each stage. Whatever goes wrong comes back to the model as a
tool error: a refused, unknown, invalid or failing call never crashes the run and never executes
a function it should not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from agentorch.approvals import ApprovalDecision, ApprovalRequest
from agentorch.errors import ApprovalPending, DuplicateNameError, ModelRetry, UnknownToolError
from agentorch.events.types import (
    BaseEvent,
    PermissionRefused,
    ToolCallFinished,
    ToolCallStarted,
    ToolProgress,
)
from agentorch.models.types import ToolResultMessage, ToolSchema
from agentorch.tools._bounded import ToolAbandoned, ToolCrashed
from agentorch.tools.base import (
    Tool,
    ToolContext,
    make_tool,
    render_result,
    safe_repr,
    storable,
)

if TYPE_CHECKING:
    from agentorch.policy import Policy
    from agentorch.runtime import ToolInvocation


#: Default size limit of a tool call's arguments and of its result (UTF-8 bytes).
DEFAULT_MAX_BYTES = 1_000_000
#: How a call that a reviewer denied comes back (``is_denial`` tells a decision from a failure).
DENIED = "a reviewer denied calling"


def is_denial(result: ToolResultMessage) -> bool:
    """Whether ``result`` is a reviewer's denial of the call (a decision), not a failure of it."""
    return result.is_error and result.content.startswith(f"Error: {DENIED} ")


class ToolHost(Protocol):
    """What the registry needs from the runtime around a call."""

    run_id: str

    def now(self) -> float:
        """The run's clock (a workflow's on Temporal): tool durations are measured with it."""
        ...

    def emit(self, event: BaseEvent) -> None: ...

    async def request_approval(self, request: ApprovalRequest) -> ApprovalDecision: ...

    async def execute_journaled(
        self,
        invocation: ToolInvocation,
        tool: Tool,
        arguments: dict[str, Any],
        run: Callable[[], Awaitable[Any]],
        *,
        started: BaseEvent,
        finished: Callable[[str, bool, bool], BaseEvent],
        approval: ApprovalDecision | None = None,
    ) -> tuple[str, bool, bool]:
        """Run ``run`` exactly once across crashes; return (rendered result, is_error, replayed).

        ``started`` is emitted with the journal's "started" record and ``finished(content,
        is_error, replayed)`` with its outcome, each pair in one durable write. ``approval`` is
        the decision that let the call run (``run`` already hands it to the tool; a runtime that
        runs the tool elsewhere passes it on).
        """
        ...

    def add_secret(self, value: str) -> None: ...


class Rules(Protocol):
    """The permission and approval questions the registry asks (a ``Policy`` answers them)."""

    def check_permission(
        self, agent: str, tool: Tool, *, declared: Sequence[str] | None
    ) -> str | None: ...

    def approval_reason(self, agent: str, tool: Tool, arguments: dict[str, Any]) -> str | None: ...

    def auto_approves(self, agent: str, tool: Tool, arguments: dict[str, Any]) -> bool: ...


def _format_validation(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(arguments)'}: {e['msg']}"
        for e in exc.errors()[:10]
    )


class ToolRegistry:
    """Holds tools by name; lists what an agent may see; runs calls through one checked path."""

    def __init__(
        self,
        tools: Iterable[Tool | Callable[..., Any]] = (),
        *,
        policy: Policy | None = None,
        max_argument_bytes: int = DEFAULT_MAX_BYTES,
        max_result_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._tools: dict[str, Tool] = {}
        self.policy = policy
        #: Answers instead of ``policy`` when set (a nested supervisor's layered policies).
        self.rules: Rules | None = None
        #: Size limits of one call's arguments (as JSON) and of its result, in UTF-8 bytes.
        self.max_argument_bytes = max_argument_bytes
        self.max_result_bytes = max_result_bytes
        self.register(*tools)

    # --- registration --------------------------------------------------------------------------

    def register(
        self, *items: Tool | Callable[..., Any], prefix: str | None = None, replace: bool = False
    ) -> None:
        from agentorch._checks import check_tool_name, fail

        for i, item in enumerate(items):
            if not isinstance(item, Tool) and not callable(item):
                fail("ToolRegistry", f"tools[{i}]", "a tool (@tool function) or a function", item)
            tool = item if isinstance(item, Tool) else make_tool(item)
            if prefix:
                from dataclasses import replace as dc_replace

                tool = dc_replace(tool, name=f"{prefix}_{tool.name}", _schema=None)
                check_tool_name(f"tool {tool.name!r}", tool.name)
            existing = self._tools.get(tool.name)
            if existing is not None and existing is not tool and not replace:
                raise DuplicateNameError(
                    f"two tools are named {tool.name!r} (from {existing.source} and {tool.source})",
                    hint="rename one of them (@tool(name=...)), register under a prefix, or "
                    "import MCP tools with load_mcp_tools(..., prefix=...)",
                )
            self._tools[tool.name] = tool

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise UnknownToolError(
                f"unknown tool {name!r}",
                hint=f"registered tools: {', '.join(sorted(self._tools)) or 'none'}",
            ) from None

    def find(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return sorted(self._tools)

    # --- permissions ---------------------------------------------------------------------------

    def _policy(self) -> Rules:
        if self.rules is not None:
            return self.rules
        if self.policy is None:
            from agentorch.policy import Policy

            self.policy = Policy.empty()
        return self.policy

    def refusal(self, agent: str, tool: Tool, allowed: Sequence[str] | None) -> str | None:
        """Why ``agent`` may not call ``tool`` (``None`` when it may)."""
        return self._policy().check_permission(agent, tool, declared=allowed)

    def permitted(self, agent: str, allowed: Sequence[str] | None) -> list[Tool]:
        return [t for t in self._tools.values() if self.refusal(agent, t, allowed) is None]

    def schemas_for(self, agent: str, allowed: Sequence[str] | None) -> list[ToolSchema]:
        """The only tools the agent's model is shown."""
        return [t.schema() for t in self.permitted(agent, allowed)]

    # --- the one call path ---------------------------------------------------------------------

    async def call(self, invocation: ToolInvocation, host: ToolHost) -> ToolResultMessage:
        call = invocation.call
        agent = invocation.agent

        def result(content: str, *, is_error: bool) -> ToolResultMessage:
            return ToolResultMessage(
                tool_call_id=call.id, name=call.name, content=content, is_error=is_error
            )

        def refuse(reason: str) -> ToolResultMessage:
            host.emit(
                PermissionRefused(
                    agent=agent,
                    step_id=invocation.step_id,
                    tool=call.name,
                    call_id=call.id,
                    reason=reason,
                    arguments=call.arguments,
                )
            )
            return result(f"Error: {reason}", is_error=True)

        tool = self._tools.get(call.name)
        if tool is None:
            return refuse(
                f"tool {call.name!r} does not exist; it is not available to agent {agent!r}"
            )
        reason = self.refusal(agent, tool, invocation.allowed)
        if reason is not None:
            return refuse(reason)
        for name in tool.secret_args:
            value = call.arguments.get(name)
            if isinstance(value, str) and value:
                host.add_secret(value)

        def failed(message: str) -> ToolResultMessage:
            host.emit(
                ToolCallFinished(
                    agent=agent,
                    step_id=invocation.step_id,
                    tool=tool.name,
                    call_id=call.id,
                    idempotency_key=invocation.key,
                    is_error=True,
                    error=message,
                )
            )
            return result(f"Error: {message}", is_error=True)

        size = _json_size(call.arguments)
        if size > self.max_argument_bytes:
            return failed(
                f"the arguments for {tool.name!r} are {size} bytes; the limit is "
                f"{self.max_argument_bytes} bytes: send less (e.g. split the work into smaller calls)"
            )
        if call.arguments_error:
            return failed(
                f"the arguments for {tool.name!r} are not valid JSON ({call.arguments_error}); send them again"
            )
        try:
            arguments = tool.validate(call.arguments)
        except ValidationError as exc:
            return failed(f"invalid arguments for {tool.name!r}: {_format_validation(exc)}")
        checking = ToolContext(  # what a tool's check sees: no approval yet
            run_id=host.run_id,
            step_id=invocation.step_id,
            agent=agent,
            idempotency_key=invocation.key,
            state=invocation.state,
        )
        if tool.check is not None:
            try:
                tool.check(arguments, checking)
            except ModelRetry as exc:
                return failed(str(exc))

        granted: ApprovalDecision | None = None
        approval = self._policy().approval_reason(agent, tool, call.arguments)
        if approval is not None:
            request = ApprovalRequest(
                request_id=f"{host.run_id}:{invocation.key}",
                run_id=host.run_id,
                subject="tool",
                step_id=invocation.step_id,
                agent=agent,
                tool=tool.name,
                arguments=call.arguments,
                risk=tool.risk,
                reason=approval,
                details={"secret_args": sorted(tool.secret_args)} if tool.secret_args else {},
            )
            if (
                self._policy().auto_approves(agent, tool, call.arguments)
                and not tool.requires_approval
            ):
                decision: ApprovalDecision | None = ApprovalDecision(
                    decision="approved",
                    approver="policy:auto",
                    comment="auto-approved by policy",
                    automatic=True,
                )
            else:
                decision = None
            if decision is None:
                try:
                    decision = await host.request_approval(request)
                except ApprovalPending:
                    raise
            if not decision.approved:
                why = decision.comment or "no reason given"
                return failed(f"{DENIED} {tool.name!r}: {why}")
            granted = decision
            if decision.arguments is not None and decision.arguments != call.arguments:
                try:
                    arguments = tool.validate(decision.arguments)
                except ValidationError as exc:
                    return failed(
                        f"the reviewer's edited arguments are invalid: {_format_validation(exc)}"
                    )
                if tool.check is not None:
                    try:
                        tool.check(arguments, checking)
                    except ModelRetry as exc:
                        return failed(f"the reviewer's edited arguments are refused: {exc}")

        loop = asyncio.get_running_loop()

        def progress(done: int, total: int, message: str) -> None:
            # a sync tool runs in a worker thread: hand the event to the loop that owns the bus
            event = ToolProgress(agent=agent, step_id=invocation.step_id, tool=tool.name,
                                 call_id=call.id, done=done, total=total, message=message)  # fmt: skip
            loop.call_soon_threadsafe(host.emit, event)

        context = ToolContext(
            run_id=host.run_id,
            step_id=invocation.step_id,
            agent=agent,
            idempotency_key=invocation.key,
            state=invocation.state,
            approval=granted,
            on_progress=progress,
        )

        async def run() -> Any:
            return _cut(render_result(await tool.invoke(arguments, context)), self.max_result_bytes)

        started = host.now()

        def finished(content: str, is_error: bool, replayed: bool) -> ToolCallFinished:
            return ToolCallFinished(
                agent=agent,
                step_id=invocation.step_id,
                tool=tool.name,
                call_id=call.id,
                idempotency_key=invocation.key,
                result_size=len(content),
                duration_ms=(host.now() - started) * 1000,
                is_error=is_error,
                error=content if is_error else None,
                replayed=replayed,
            )

        content, is_error, _ = await host.execute_journaled(
            invocation,
            tool,
            arguments,
            run,
            started=ToolCallStarted(
                agent=agent,
                step_id=invocation.step_id,
                tool=tool.name,
                call_id=call.id,
                idempotency_key=invocation.key,
                arguments=_jsonable(arguments),
                risk=tool.risk,
            ),
            finished=finished,
            approval=granted,
        )
        return result(content, is_error=is_error)


async def run_tool_guarded(tool: Tool, run: Callable[[], Awaitable[Any]]) -> tuple[str, bool]:
    """Run a tool; turn its exceptions and timeouts into an error text for the model.

    ``SystemExit``, ``GeneratorExit`` and any other ``BaseException`` a tool raises are its own
    failure, not the run's: only cancellation and ``KeyboardInterrupt`` (Ctrl-C) go through.
    """
    try:
        value = await run()
    except ToolAbandoned:
        raise  # the runtime leaves the call in doubt
    except TimeoutError:
        return f"Error: tool {tool.name!r} timed out after {tool.timeout} s", True
    except ModelRetry as exc:
        return storable(f"Error: {_text(exc)}"), True
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except ToolCrashed as exc:
        return storable(f"Error: tool {tool.name!r} failed: {_text(exc)}"), True
    except BaseException as exc:
        return storable(
            f"Error: tool {tool.name!r} failed: {type(exc).__name__}: {_text(exc)}"
        ), True
    return render_result(value), False


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return safe_repr(exc)


def _json_size(arguments: dict[str, Any]) -> int:
    import json

    return len(json.dumps(arguments, ensure_ascii=False, default=str).encode("utf-8", "replace"))


def _cut(content: str, limit: int) -> str:
    """``content`` within ``limit`` UTF-8 bytes, with a note saying what was left out."""
    data = content.encode("utf-8")
    if len(data) <= limit:
        return content
    kept = data[:limit].decode("utf-8", "ignore")
    return (
        f"{kept}\n[agentorch: the result was {len(data)} bytes; only the first {limit} "
        "are shown (the limit for a tool result)]"
    )


def _jsonable(arguments: dict[str, Any]) -> dict[str, Any]:
    import json

    try:
        json.dumps(arguments)
        return arguments
    except (TypeError, ValueError):
        return json.loads(json.dumps(arguments, default=str))
