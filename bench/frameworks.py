"""Which frameworks the harness runs, and their versions."""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
from collections.abc import Callable
from typing import Any

from bench.workload import Scenario

#: name -> (module of the workload implementation, import that proves it is installed, distribution)
FRAMEWORKS: dict[str, tuple[str, str, str]] = {
    "agentorch": ("bench.fw_agentorch", "agentorch", "agentorch"),
    "langgraph": ("bench.fw_langgraph", "langgraph.graph", "langgraph"),
    "openai-agents": ("bench.fw_openai_agents", "agents.run", "openai-agents"),
    "pydantic-ai": ("bench.fw_pydantic_ai", "pydantic_ai", "pydantic-ai-slim"),
}
PEERS = tuple(name for name in FRAMEWORKS if name != "agentorch")


def available() -> list[str]:
    """The frameworks importable here (peers not installed are skipped)."""
    found = []
    for name, (_, probe, _) in FRAMEWORKS.items():
        try:
            importlib.import_module(probe)
        except ImportError:
            continue
        found.append(name)
    return found


def builder(name: str) -> Callable[..., Scenario]:
    module = importlib.import_module(FRAMEWORKS[name][0])
    build: Callable[..., Scenario] = module.build
    return build


def version(name: str) -> str:
    try:
        return importlib.metadata.version(FRAMEWORKS[name][2])
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def versions(names: list[str]) -> dict[str, Any]:
    extra = {}
    for dist in ("langchain-core", "openai", "pydantic", "tiktoken"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            extra[dist] = importlib.metadata.version(dist)
    return {**{n: version(n) for n in names}, **extra}
