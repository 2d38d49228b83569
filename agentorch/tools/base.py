"""``@tool``: a typed Python function becomes a tool whose schema comes from its signature."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_type_hints, overload

from docstring_parser import parse as parse_docstring
from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from agentorch.errors import ConfigError
from agentorch.models.types import ToolSchema

if TYPE_CHECKING:
    from agentorch.approvals import ApprovalDecision

Risk = Literal["read", "write", "external", "destructive"]
RISK_LEVELS: tuple[Risk, ...] = ("read", "write", "external", "destructive")


def risk_rank(risk: str) -> int:
    """Order of risk levels: read < write < external < destructive."""
    return RISK_LEVELS.index(risk)


class ToolContext:
    """What a tool that asks for it (a parameter annotated ``ToolContext``) can see of its call."""

    def __init__(
        self,
        *,
        run_id: str,
        step_id: str | None,
        agent: str,
        idempotency_key: str,
        workdir: str | None = None,
        state: dict[str, Any] | None = None,
        approval: ApprovalDecision | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
    ) -> None:
        self.run_id = run_id
        self.step_id = step_id
        self.agent = agent
        self.idempotency_key = idempotency_key
        self.workdir = workdir
        #: Run-scoped values the runtime shares with tools (e.g. the output folder).
        self.state = state if state is not None else {}
        #: The decision that let this call run, when it needed one (``automatic`` for rules).
        self.approval = approval
        self._on_progress = on_progress

    def report_progress(self, done: int, total: int = 0, message: str = "") -> None:
        """Tell the run how far a long call has got; shown in the terminal, safe from a thread."""
        if self._on_progress is not None:
            self._on_progress(done, total, message)


def _doc_parts(doc: str | None) -> tuple[str, dict[str, str]]:
    """A docstring's description and per-argument descriptions, in any common style.

    Google (``Args:``), NumPy (``Parameters`` / ``----------``), Sphinx/reST (``:param x:``) and
    Epydoc (``@param x:``) are recognised (docstring_parser's auto-detection); only the
    description reaches the model's tool description, never the raw parameter sections.
    """
    if not doc:
        return "", {}
    parsed = parse_docstring(inspect.cleandoc(doc))
    gap = "\n\n" if parsed.blank_after_short_description else "\n"
    summary = gap.join(p for p in (parsed.short_description, parsed.long_description) if p)
    args = {
        param.arg_name.lstrip("*"): " ".join(param.description.split())
        for param in parsed.params
        if param.description
    }
    return summary.strip(), args


@dataclass(eq=False)
class Tool:
    """A callable tool with its schema, risk and call rules. Build one with ``@tool``."""

    function: Callable[..., Any]
    name: str
    description: str
    args_model: type[BaseModel]
    risk: Risk = "read"
    requires_approval: bool = False
    timeout: float | None = 60.0
    idempotent: bool = False
    tags: frozenset[str] = frozenset()
    secret_args: frozenset[str] = frozenset()
    #: Runs on the validated arguments before any approval is asked; raises ``ModelRetry`` to
    #: refuse a call outright (e.g. a path outside the output folder is never put to a person).
    check: Callable[[dict[str, Any], ToolContext], None] | None = None
    context_param: str | None = None
    is_async: bool = False
    #: Where the tool came from: "code", a folder path, "mcp:<server>", "entry-point:<dist>".
    source: str = "code"
    _schema: ToolSchema | None = field(default=None, repr=False)

    def schema(self) -> ToolSchema:
        if self._schema is None:
            params = self.args_model.model_json_schema()
            params.pop("title", None)
            self._schema = ToolSchema(
                name=self.name, description=self.description, parameters=params
            )
        return self._schema

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Validate and coerce arguments; raises ``pydantic.ValidationError``."""
        model = self.args_model.model_validate(arguments)
        return {name: getattr(model, name) for name in type(model).model_fields}

    async def invoke(self, arguments: dict[str, Any], context: ToolContext | None = None) -> Any:
        """Run the function with validated arguments, bounded by the tool's timeout.

        Raises:
            TimeoutError: an async tool was cancelled at its timeout.
            ToolAbandoned: the call ran past its timeout and could not be stopped.
            ToolCrashed: the tool raised ``SystemExit`` or another ``BaseException``.
        """
        from agentorch.tools._bounded import call_async, call_sync

        kwargs = dict(arguments)
        if self.context_param is not None:
            kwargs[self.context_param] = context
        call = functools.partial(self.function, **kwargs)
        if self.is_async:
            return await call_async(call, self.timeout, self.name)
        return await call_sync(call, self.timeout, self.name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Calling the tool directly calls the function (handy in tests and plain Python)."""
        return self.function(*args, **kwargs)


def render_result(value: Any) -> str:
    """What the model sees of a tool's return value: always storable text, never an exception.

    A value that cannot be serialised (its JSON or ``str`` raises) is shown as its ``repr``,
    flagged as such, so a call whose effect already happened is still journaled once.
    """
    try:
        if isinstance(value, str):
            text = value
        elif isinstance(value, BaseModel):
            text = value.model_dump_json()
        else:
            try:
                text = json.dumps(value, default=_json_default, ensure_ascii=False)
            except (TypeError, ValueError):
                text = str(value)
    except Exception:
        text = (
            f"(agentorch: the tool returned a {type(value).__name__} that is not "
            f"JSON-serialisable; this is its repr) {safe_repr(value)}"
        )
    return storable(text)


def safe_repr(value: Any) -> str:
    """``repr(value)``, or its type name when even that raises."""
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__} object>"


def storable(text: str) -> str:
    """``text`` as valid UTF-8: lone surrogates become ``\\udXXX`` escapes, not a store error."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


def make_tool(
    function: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    risk: Risk = "read",
    requires_approval: bool = False,
    timeout: float | None = 60.0,
    idempotent: bool | None = None,
    tags: Iterable[str] = (),
    secret_args: Iterable[str] = (),
    check: Callable[[dict[str, Any], ToolContext], None] | None = None,
) -> Tool:
    """Build a ``Tool`` from a typed function. Read tools are idempotent unless said otherwise."""
    from agentorch._checks import check_function, check_tool_options

    check_function("@tool", function)
    check_tool_options(
        name if name is not None else getattr(function, "__name__", repr(function)),
        function,
        {
            "timeout": timeout,
            "requires_approval": requires_approval,
            "idempotent": idempotent,
            "tags": tags,
            "secret_args": secret_args,
            "description": description,
            "check": check,
        },
    )
    if risk not in RISK_LEVELS:
        raise ConfigError(
            f"tool {name or function.__name__!r}: risk must be one of {RISK_LEVELS}, got {risk!r}"
        )
    summary, arg_docs = _doc_parts(function.__doc__)
    signature = inspect.signature(function)
    try:
        hints = get_type_hints(function)
    except Exception as exc:
        raise ConfigError(f"tool {function.__name__!r}: cannot resolve type hints: {exc}") from exc
    fields: dict[str, Any] = {}
    context_param = None
    from pydantic import Field

    for pname, param in signature.parameters.items():
        annotation = hints.get(pname, Any)
        if annotation is ToolContext:
            context_param = pname
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ConfigError(f"tool {function.__name__!r}: *args/**kwargs are not supported")
        default = ... if param.default is param.empty else param.default
        fields[pname] = (annotation, Field(default, description=arg_docs.get(pname)))
    tool_name = name or function.__name__
    args_model = create_model(
        f"{tool_name}_args",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )
    secrets = frozenset(secret_args)
    unknown = secrets - set(fields)
    if unknown:
        raise ConfigError(
            f"tool {tool_name!r}: secret_args names unknown parameters {sorted(unknown)}"
        )
    return Tool(
        function=function,
        name=tool_name,
        description=description or summary or tool_name,
        args_model=args_model,
        risk=risk,
        requires_approval=requires_approval,
        timeout=timeout,
        idempotent=(risk == "read") if idempotent is None else idempotent,
        tags=frozenset(tags),
        secret_args=secrets,
        check=check,
        context_param=context_param,
        is_async=inspect.iscoroutinefunction(function),
    )


@overload
def tool(function: Callable[..., Any], /) -> Tool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    risk: Risk = "read",
    requires_approval: bool = False,
    timeout: float | None = 60.0,
    idempotent: bool | None = None,
    tags: Iterable[str] = (),
    secret_args: Iterable[str] = (),
    check: Callable[[dict[str, Any], ToolContext], None] | None = None,
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(function: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Turn a typed function (sync or async) into a ``Tool``.

    Use bare (``@tool``) or with options (``@tool(risk="write", requires_approval=True)``).
    """
    if function is not None:
        return make_tool(function)

    def decorate(fn: Callable[..., Any]) -> Tool:
        return make_tool(fn, **options)

    return decorate


__all__ = [
    "RISK_LEVELS",
    "Risk",
    "Tool",
    "ToolContext",
    "ValidationError",
    "make_tool",
    "render_result",
    "risk_rank",
    "safe_repr",
    "storable",
    "tool",
]
