"""Import the tools of an MCP server (over stdio) as agentorch tools.

Each server tool becomes a ``Tool`` named as the server names it (``{prefix}_{name}`` when a
prefix is asked for, never doubled: ``git_log`` stays ``git_log`` under prefix ``git``) whose schema
is the server's own input schema; calls go through the one open session. The caller assigns risk and tags (MCP
tool annotations are hints from the server and are not trusted).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic_core import InitErrorDetails, PydanticCustomError

from agentorch.errors import (
    ConfigError,
    DuplicateNameError,
    MissingDependencyError,
    ToolError,
)
from agentorch.models.types import ToolSchema
from agentorch.tools.base import RISK_LEVELS, Risk, Tool

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": int | float,
    "boolean": bool,
    "array": list[Any],
    "object": dict[str, Any],
    "null": type(None),
}


class McpServerError(ConfigError):
    """An MCP server could not be started, or did not answer its handshake."""


class McpToolOptions(BaseModel):
    """Per-tool overrides, keyed by the server's tool name in ``load_mcp_tools(overrides=...)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    risk: Risk | None = None
    tags: list[str] | None = None
    requires_approval: bool | None = None
    idempotent: bool | None = None
    timeout: float | None = None
    secret_args: list[str] | None = None
    description: str | None = None


# --- arguments: the server's JSON schema, validated ----------------------------------------------


def _python_type(schema: Any) -> Any:
    """A lax Python type for one property (deeper rules are left to the JSON-schema check)."""
    if not isinstance(schema, dict):
        return Any
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    mapped: list[Any] = [_JSON_TYPES.get(k) for k in kinds if isinstance(k, str)]
    if not mapped or any(m is None for m in mapped):
        return Any
    result = mapped[0]
    for other in mapped[1:]:
        result = result | other
    return result


def _args_model(name: str, schema: dict[str, Any]) -> type[BaseModel]:
    """A pydantic model for the schema's top-level properties (coerces basic types)."""
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    fields: dict[str, Any] = {}
    for index, (prop, prop_schema) in enumerate(properties.items()):
        safe = f"arg_{index}"  # the server's name is the alias: any name, no BaseModel clashes
        annotation = _python_type(prop_schema)
        description = prop_schema.get("description") if isinstance(prop_schema, dict) else None
        if prop in required:
            fields[safe] = (annotation, Field(..., alias=prop, description=description))
        else:
            fields[safe] = (annotation | None, Field(None, alias=prop, description=description))
    extra: Literal["forbid", "allow"] = (
        "forbid" if schema.get("additionalProperties") is False else "allow"
    )
    model: type[BaseModel] = create_model(
        f"{name}_args",
        __config__=ConfigDict(extra=extra, populate_by_name=False, protected_namespaces=()),
        **fields,
    )
    return model


def _json_schema_validator(schema: dict[str, Any]) -> Any:
    try:
        from jsonschema import SchemaError, validators
    except ImportError:  # pragma: no cover - jsonschema comes with mcp
        return None
    cls = validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError:
        return None  # a malformed server schema: rely on the basic type checks alone
    return cls(schema)


@dataclass(eq=False)
class McpTool(Tool):
    """A tool served by an MCP server; ``schema()`` is the server's own input schema."""

    remote_name: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict)
    _validator: Any = field(default=None, repr=False)

    def schema(self) -> ToolSchema:
        if self._schema is None:
            params = dict(self.input_schema)
            params.setdefault("type", "object")
            params.setdefault("properties", {})
            self._schema = ToolSchema(
                name=self.name, description=self.description, parameters=params
            )
        return self._schema

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Coerce basic types, then check the server's JSON schema; raises ``ValidationError``."""
        model = self.args_model.model_validate(arguments)
        coerced = model.model_dump(by_alias=True, exclude_unset=True)
        coerced.update(model.model_extra or {})
        if self._validator is not None:
            errors = sorted(
                self._validator.iter_errors(coerced), key=lambda e: list(e.absolute_path)
            )
            if errors:
                raise ValidationError.from_exception_data(
                    f"{self.name} arguments",
                    [
                        InitErrorDetails(
                            type=PydanticCustomError(
                                "json_schema", "{message}", {"message": e.message}
                            ),
                            loc=tuple(e.absolute_path),
                            input=e.instance,
                        )
                        for e in errors
                    ],
                )
        return dict(coerced)


# --- the toolset ---------------------------------------------------------------------------------


class McpToolset:
    """The tools of one MCP server and the session that serves them.

    Use it as ``async with load_mcp_tools(...) as toolset:`` (or ``toolset = await
    load_mcp_tools(...)`` and later ``await toolset.aclose()``). The session runs in its own
    task, so it can be opened and closed from different tasks.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None,
        cwd: str | Path | None,
        prefix: str | None,
        risk: Risk,
        tags: Iterable[str],
        requires_approval: bool,
        timeout: float | None,
        overrides: Mapping[str, McpToolOptions],
        include: Iterable[str] | None,
        exclude: Iterable[str],
        startup_timeout: float,
        errlog: TextIO | None,
    ) -> None:
        self.command = list(command)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.prefix = prefix
        self.risk = risk
        self.tags = frozenset(tags)
        self.requires_approval = requires_approval
        self.timeout = timeout
        self.overrides = dict(overrides)
        self.include = list(include) if include is not None else None
        self.exclude = set(exclude)
        self.startup_timeout = startup_timeout
        self._errlog = errlog
        self._own_errlog: TextIO | None = None
        self.tools: list[Tool] = []
        self.server_name: str = prefix or Path(self.command[0]).name
        self.session: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()

    # --- lifecycle ------------------------------------------------------------------------------

    def __await__(self) -> Any:
        return self.start().__await__()

    async def __aenter__(self) -> McpToolset:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def start(self) -> McpToolset:
        """Start the server, handshake, list its tools and build them; idempotent."""
        if self._task is not None:
            return self
        if self._errlog is None:
            self._own_errlog = cast(
                TextIO,
                tempfile.TemporaryFile(mode="w+", encoding="utf-8"),  # noqa: SIM115
            )
        self._task = asyncio.create_task(self._serve(), name=f"mcp:{self.server_name}")
        ready = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait(
            {self._task, ready}, timeout=self.startup_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready in done:
            return self
        ready.cancel()
        failure = self._task.exception() if self._task in done else None
        stderr = self._stderr_tail()
        await self.aclose()
        what = f"MCP server {' '.join(self.command)!r}"
        if failure is None:
            message = f"{what} did not answer its handshake within {self.startup_timeout:g}s"
        else:
            message = f"{what} failed to start: {_describe(failure)}"
        if stderr:
            message += f"\nits stderr ended with:\n{stderr}"
        raise McpServerError(message, hint="check the command, its arguments and its environment")

    async def aclose(self) -> None:
        """Stop the session and the server process."""
        task, self._task = self._task, None
        if task is not None:
            self._stop.set()
            with contextlib.suppress(Exception):
                await task  # a server that already died has nothing left to say
        self.session = None
        if self._own_errlog is not None:
            self._own_errlog.close()
            self._own_errlog = None

    async def _serve(self) -> None:
        from mcp import ClientSession, StdioServerParameters, stdio_client

        params = StdioServerParameters(
            command=self.command[0], args=self.command[1:], env=self.env, cwd=self.cwd
        )
        errlog = self._errlog or self._own_errlog or sys.stderr
        try:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                init = await session.initialize()
                self.server_name = getattr(init.server_info, "name", None) or self.server_name
                listed = await _list_all_tools(session)
                self.tools = self._build(listed)
                self.session = session
                self._ready.set()
                await self._stop.wait()
        finally:
            self.session = None

    def _stderr_tail(self, lines: int = 15) -> str:
        if self._own_errlog is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self._own_errlog.flush()
            self._own_errlog.seek(0)
            return "\n".join(self._own_errlog.read().strip().splitlines()[-lines:])
        return ""

    # --- tools ----------------------------------------------------------------------------------

    def _build(self, listed: list[Any]) -> list[Tool]:
        served = {t.name: t for t in listed}
        for label, names in (("include", self.include or []), ("overrides", self.overrides)):
            unknown = sorted(set(names) - set(served))
            if unknown:
                raise ConfigError(
                    f"MCP server {self.server_name!r} has no tool named "
                    f"{', '.join(map(repr, unknown))} (in {label}); "
                    f"it serves: {', '.join(sorted(served)) or 'nothing'}"
                )
        tools: list[Tool] = []
        seen: dict[str, str] = {}
        for remote in listed:
            if self.include is not None and remote.name not in self.include:
                continue
            if remote.name in self.exclude:
                continue
            tool = self._tool(remote)
            if tool.name in seen:
                raise DuplicateNameError(
                    f"MCP tools {seen[tool.name]!r} and {remote.name!r} both become {tool.name!r}"
                )
            seen[tool.name] = remote.name
            tools.append(tool)
        return tools

    def _tool(self, remote: Any) -> McpTool:
        name = re.sub(r"[^a-zA-Z0-9_-]", "_", remote.name)
        if self.prefix and not name.startswith((f"{self.prefix}_", f"{self.prefix}-")):
            name = f"{self.prefix}_{name}"
        if not _TOOL_NAME.match(name):
            raise ConfigError(
                f"MCP tool {remote.name!r} would be named {name!r}, longer than the 64 characters "
                "models accept; " + ("use a shorter prefix" if self.prefix else "exclude it")
            )
        options = self.overrides.get(remote.name, McpToolOptions())
        set_ = options.model_fields_set
        input_schema = dict(remote.input_schema or {"type": "object", "properties": {}})
        properties = set((input_schema.get("properties") or {}).keys())
        secrets = frozenset(options.secret_args or ())
        if secrets - properties:
            raise ConfigError(
                f"MCP tool {remote.name!r}: secret_args names unknown arguments "
                f"{sorted(secrets - properties)}"
            )
        remote_name = remote.name

        async def call(**arguments: Any) -> Any:
            return await self._call(name, remote_name, arguments)

        return McpTool(
            function=call,
            name=name,
            description=options.description or remote.description or remote.name,
            args_model=_args_model(name, input_schema),
            risk=options.risk or self.risk,
            requires_approval=(
                options.requires_approval
                if options.requires_approval is not None
                else self.requires_approval
            ),
            timeout=options.timeout if "timeout" in set_ else self.timeout,
            idempotent=bool(options.idempotent),
            tags=frozenset({"mcp", f"mcp:{self.label}", *self.tags, *(options.tags or ())}),
            secret_args=secrets,
            is_async=True,
            source=f"mcp:{self.server_name}",
            remote_name=remote_name,
            input_schema=input_schema,
            _validator=_json_schema_validator(input_schema),
        )

    async def _call(self, name: str, remote_name: str, arguments: dict[str, Any]) -> Any:
        session = self.session
        if session is None:
            raise ToolError(
                f"MCP server {self.server_name!r} is not connected", tool=name, kind="unavailable"
            )
        try:
            result = await session.call_tool(remote_name, arguments)
        except Exception as exc:  # the SDK raises several types for a broken or refusing server
            raise ToolError(
                f"MCP server {self.server_name!r} failed on {remote_name!r}: {_describe(exc)}",
                tool=name,
            ) from exc
        text = [block.text for block in result.content if getattr(block, "type", None) == "text"]
        if result.is_error:
            raise ToolError(
                "\n".join(text) or f"MCP tool {remote_name!r} reported an error", tool=name
            )
        if text and len(text) == len(result.content):
            return "\n".join(text)
        if result.structured_content is not None:
            return result.structured_content
        return [
            block.model_dump(mode="json", by_alias=True, exclude_none=True)
            for block in result.content
        ]

    # --- convenience ----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Tool]:
        return iter(self.tools)

    def __len__(self) -> int:
        return len(self.tools)

    def __getitem__(self, name: str) -> Tool:
        """A tool by its agentorch name or by the server's name."""
        for tool in self.tools:
            if name in (tool.name, getattr(tool, "remote_name", None)):
                return tool
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [tool.name for tool in self.tools]

    @property
    def label(self) -> str:
        """The prefix, else the server's name as a tag-safe word (for the ``mcp:<label>`` tag)."""
        return self.prefix or re.sub(r"[^a-zA-Z0-9_-]", "_", self.server_name)


async def _list_all_tools(session: Any) -> list[Any]:
    tools: list[Any] = []
    cursor = None
    while True:
        if cursor is None:
            page = await session.list_tools()
        else:
            from mcp.types import PaginatedRequestParams

            page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor))
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(e) for e in exc.exceptions)
    return str(exc) or type(exc).__name__


def load_mcp_tools(
    command: str | Sequence[str],
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    prefix: str | None = None,
    risk: Risk = "external",
    tags: Iterable[str] = (),
    requires_approval: bool = False,
    timeout: float | None = 60.0,
    overrides: Mapping[str, McpToolOptions | Mapping[str, Any]] | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    startup_timeout: float = 30.0,
    errlog: TextIO | None = None,
) -> McpToolset:
    """Connect to an MCP server over stdio and import its tools.

    Args:
        command: the executable, or the executable and its arguments.
        args: more arguments for the executable.
        env: extra environment variables (the server inherits only a safe minimum by default).
        cwd: the server's working directory.
        prefix: prepended to tool names that do not already start with it (``{prefix}_{name}``);
            letters, digits, ``_``, ``-``. Without one, tools keep the server's names; a name
            that collides with another tool is refused when registered (then pass a prefix).
        risk: the risk level of every imported tool (``external`` unless said otherwise).
        tags: tags for every imported tool (``mcp`` and ``mcp:{prefix or server name}`` are
            always added).
        requires_approval: whether every call needs a person's approval.
        timeout: seconds per call (``None``: no limit).
        overrides: per server tool name: ``risk``, ``tags``, ``requires_approval``,
            ``idempotent``, ``timeout``, ``secret_args``, ``description``.
        include: import only these server tools. exclude: skip these.
        startup_timeout: seconds to wait for the server's handshake.
        errlog: where the server's stderr goes (default: kept, and shown if it fails to start).

    Returns:
        An ``McpToolset``: ``async with`` it, or ``await`` it and ``aclose()`` it later.
    """
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "importing MCP tools needs the mcp package", hint="pip install 'agentorch[mcp]'"
        ) from None
    if prefix is not None and (
        not isinstance(prefix, str) or not re.fullmatch(r"[a-zA-Z0-9_-]+", prefix)
    ):
        raise ConfigError(f"MCP prefix {prefix!r}: use letters, digits, '_' or '-' only")
    if risk not in RISK_LEVELS:
        label = prefix or (command if isinstance(command, str) else " ".join(command))
        raise ConfigError(f"MCP tools {label!r}: risk must be one of {RISK_LEVELS}, got {risk!r}")
    argv = [command] if isinstance(command, str) else list(command)
    argv += list(args)
    if not argv or not argv[0]:
        raise ConfigError("load_mcp_tools: command is empty")
    parsed: dict[str, McpToolOptions] = {}
    for name, options in (overrides or {}).items():
        try:
            parsed[name] = (
                options
                if isinstance(options, McpToolOptions)
                else McpToolOptions.model_validate(options)
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or name}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(f"MCP overrides for {name!r}: {problems}") from None
    return McpToolset(
        argv,
        env=env,
        cwd=cwd,
        prefix=prefix,
        risk=risk,
        tags=tags,
        requires_approval=requires_approval,
        timeout=timeout,
        overrides=parsed,
        include=include,
        exclude=exclude,
        startup_timeout=startup_timeout,
        errlog=errlog,
    )


__all__ = ["McpServerError", "McpTool", "McpToolOptions", "McpToolset", "load_mcp_tools"]
