"""Helpers for the built-in tool tests: load ``tools/`` as a private package, like the runtime does."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from agentorch import ToolContext

REPO = Path(__file__).resolve().parents[2]
TOOLS_DIR = REPO / "tools"
DATA = REPO / "tests" / "data"
EXAMPLE = REPO / "examples" / "rfp"
PACKAGE = "_agentorch_bundled_tools"


def load_tools_package() -> ModuleType:
    """Import ``tools/`` as the package ``_agentorch_bundled_tools`` (once per process)."""
    if PACKAGE in sys.modules:
        return sys.modules[PACKAGE]
    spec = importlib.util.spec_from_file_location(
        PACKAGE, TOOLS_DIR / "__init__.py", submodule_search_locations=[str(TOOLS_DIR)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    spec.loader.exec_module(module)
    return module


def tools_module(name: str) -> ModuleType:
    """One module of the bundled tools folder, e.g. ``tools_module("answers")``."""
    load_tools_package()
    return importlib.import_module(f"{PACKAGE}.{name}")


def make_ctx(**state: object) -> ToolContext:
    return ToolContext(
        run_id="run-test",
        step_id="step-1",
        agent="tester",
        idempotency_key="k-1",
        state=dict(state),
    )
