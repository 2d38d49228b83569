"""MCP import: a real stdio server started by the test, its tools as agentorch tools."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from agentorch.errors import ConfigError, DuplicateNameError, ToolError
from agentorch.tools.mcp import McpServerError, McpTool, load_mcp_tools

SERVER = [sys.executable, str(Path(__file__).with_name("_mcp_demo_server.py"))]


async def test_import_schema_and_call() -> None:
    async with load_mcp_tools(
        SERVER,
        prefix="demo",
        tags=["math"],
        overrides={"shout-text": {"risk": "read", "idempotent": True}, "wait": {"timeout": 0.2}},
    ) as toolset:
        assert toolset.names == ["demo_add", "demo_shout-text", "demo_wait"]
        assert toolset.server_name == "demo"
        add, shout = toolset["demo_add"], toolset["shout-text"]
        assert isinstance(add, McpTool) and add.remote_name == "add"

        schema = add.schema()
        assert schema.name == "demo_add"
        assert schema.description == "Add two integers."
        assert schema.parameters["required"] == ["a"]
        assert schema.parameters["properties"]["a"]["type"] == "integer"

        assert add.risk == "external" and not add.idempotent
        assert shout.risk == "read" and shout.idempotent
        assert add.tags == {"mcp", "mcp:demo", "math"}
        assert add.source == "mcp:demo"

        assert add.validate({"a": "3"}) == {"a": 3}  # basic types are coerced
        with pytest.raises(ValidationError):
            add.validate({"b": 1})  # `a` is required
        with pytest.raises(ValidationError):
            add.validate({"a": "three"})

        assert await add.invoke(add.validate({"a": 3, "b": 4})) == "7"
        assert await shout.invoke({"text": "hi", "times": 2}) == "HI HI"
        with pytest.raises(ToolError, match="text must not be empty") as info:
            await shout.invoke({"text": ""})  # an MCP error result becomes an exception
        assert info.value.tool == "demo_shout-text"

        with pytest.raises(TimeoutError):
            await toolset["wait"].invoke({"seconds": 30})
        assert await add.invoke({"a": 1}) == "3"  # the session survives a timed-out call
    assert toolset.session is None
    with pytest.raises(ToolError, match="not connected"):
        await add.invoke({"a": 1})


async def test_await_form_include_and_unknown_names() -> None:
    toolset = await load_mcp_tools(SERVER[0], args=SERVER[1:], prefix="d", include=["add"])
    try:
        assert toolset.names == ["d_add"]
        assert len(toolset) == 1 and [t.name for t in toolset] == ["d_add"]
        with pytest.raises(KeyError):
            toolset["wait"]
    finally:
        await toolset.aclose()
    await toolset.aclose()  # closing twice is harmless


async def test_server_that_fails_to_start_shows_its_stderr() -> None:
    crash = [
        sys.executable,
        "-c",
        "import sys; print('missing API token', file=sys.stderr); sys.exit(3)",
    ]
    with pytest.raises(McpServerError) as info:
        async with load_mcp_tools(crash, prefix="x", startup_timeout=30):
            pass
    assert "failed to start" in str(info.value)
    assert "missing API token" in str(info.value)


async def test_missing_executable() -> None:
    with pytest.raises(McpServerError, match="failed to start"):
        await load_mcp_tools("/nonexistent/agentorch-mcp-server", prefix="x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prefix": "my tools"}, "use letters, digits"),
        ({"prefix": "x", "risk": "huge"}, "risk must be one of"),
        ({"prefix": "x", "overrides": {"t": {"risk": "huge"}}}, "MCP overrides for 't': risk"),
        ({"prefix": "x", "overrides": {"t": {"colour": "red"}}}, "colour: Extra inputs"),
    ],
)
def test_bad_arguments_are_config_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_mcp_tools(SERVER, **kwargs)


# --- schema translation (no server needed) -------------------------------------------------------


def remote(name: str, schema: dict[str, Any], description: str | None = "A tool.") -> Any:
    return SimpleNamespace(name=name, description=description, input_schema=schema)


def build(schema: dict[str, Any], **overrides: Any) -> McpTool:
    toolset = load_mcp_tools(SERVER, prefix="srv", overrides=overrides or None)
    return toolset._tool(remote("t", schema))


def test_validation_follows_the_json_schema() -> None:
    tool = build(
        {
            "type": "object",
            "properties": {
                "from": {"type": "string", "enum": ["a", "b"]},
                "x-count": {"type": "integer", "minimum": 1},
                "tags": {"type": "array", "items": {"type": "string"}},
                "ratio": {"type": ["number", "null"]},
            },
            "required": ["from"],
            "additionalProperties": False,
        }
    )
    assert tool.validate({"from": "a", "x-count": "2"}) == {"from": "a", "x-count": 2}
    assert tool.validate({"from": "b", "ratio": None, "tags": []}) == {
        "from": "b", "ratio": None, "tags": [],
    }  # fmt: skip
    for bad in (
        {"from": "c"},  # not in the enum
        {"from": "a", "x-count": 0},  # below the minimum
        {"from": "a", "tags": [1]},  # wrong item type
        {"from": "a", "other": 1},  # additionalProperties: false
        {},  # missing required
    ):
        with pytest.raises(ValidationError):
            tool.validate(bad)


def test_extra_arguments_pass_when_the_schema_allows_them() -> None:
    tool = build({"type": "object", "properties": {"q": {"type": "string"}}})
    assert tool.validate({"q": "x", "limit": 3}) == {"q": "x", "limit": 3}
    assert tool.validate({}) == {}  # optional arguments that were not given stay absent


def test_schema_defaults_and_names() -> None:
    tool = build({"properties": {}}, t={"description": "Better words.", "secret_args": []})
    assert tool.schema().parameters == {"properties": {}, "type": "object"}
    assert tool.description == "Better words."
    assert tool.name == "srv_t"
    with pytest.raises(ConfigError, match="secret_args names unknown arguments"):
        build({"properties": {}}, t={"secret_args": ["token"]})


def test_names_are_sanitized_and_checked() -> None:
    toolset = load_mcp_tools(SERVER, prefix="srv")
    assert toolset._tool(remote("files/read.v2", {})).name == "srv_files_read_v2"
    with pytest.raises(ConfigError, match="longer than the 64 characters"):
        toolset._tool(remote("x" * 70, {}))
    with pytest.raises(DuplicateNameError, match="both become 'srv_a_b'"):
        toolset._build([remote("a.b", {}), remote("a/b", {})])


def test_include_exclude_and_unknown_names() -> None:
    served = [remote("add", {}), remote("wait", {}), remote("shout", {})]
    toolset = load_mcp_tools(SERVER, prefix="d", exclude=["wait"])
    assert [t.name for t in toolset._build(served)] == ["d_add", "d_shout"]
    for kwargs, where in (
        ({"overrides": {"nope": {}}}, "overrides"),
        ({"include": ["nope"]}, "include"),
    ):
        with pytest.raises(
            ConfigError, match=rf"no tool named 'nope' \(in {where}\); it serves: add, "
        ):
            load_mcp_tools(SERVER, prefix="d", **kwargs)._build(served)


async def test_tools_keep_the_servers_names_without_a_prefix() -> None:
    async with load_mcp_tools(SERVER, include=["add", "shout-text"]) as toolset:
        assert toolset.names == ["add", "shout-text"]
        assert toolset["add"].tags == {"mcp", "mcp:demo"}  # tagged by the server's own name
        assert await toolset["add"].invoke({"a": 1, "b": 1}) == "2"


def test_a_prefix_the_server_already_uses_is_not_doubled() -> None:
    toolset = load_mcp_tools(SERVER, prefix="git")
    assert toolset._tool(remote("git_log", {})).name == "git_log"
    assert toolset._tool(remote("git-diff", {})).name == "git-diff"
    assert toolset._tool(remote("status", {})).name == "git_status"


async def test_a_server_tool_colliding_with_another_tool_asks_for_a_prefix() -> None:
    from agentorch import tool
    from agentorch.tools.registry import ToolRegistry

    @tool(risk="read")
    def add(a: int, b: int) -> int:
        """Add locally."""
        return a + b

    async with load_mcp_tools(SERVER, include=["add"]) as toolset:
        with pytest.raises(DuplicateNameError) as info:
            ToolRegistry([add, *toolset])
        assert "prefix=" in (info.value.hint or "")
