"""A tiny MCP server for the tests: run as ``python _mcp_demo_server.py`` (stdio transport)."""

from __future__ import annotations

import asyncio

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("demo")


@server.tool()
def add(a: int, b: int = 2) -> int:
    """Add two integers."""
    return a + b


@server.tool(name="shout-text")
def shout(text: str, times: int = 1) -> str:
    """Upper-case a text, repeated; refuses an empty text."""
    if not text:
        raise ToolError("text must not be empty")
    return " ".join([text.upper()] * times)


@server.tool()
async def wait(seconds: float) -> str:
    """Sleep, then answer (to test timeouts)."""
    await asyncio.sleep(seconds)
    return "done"


if __name__ == "__main__":
    server.run()
