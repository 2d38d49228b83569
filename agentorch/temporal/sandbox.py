"""Temporal's workflow sandbox, set up for agentorch's workflows and the apps a worker serves.

The sandbox runs each workflow in its own copy of the workflow's module and checks what that code
reaches (no ``open``, no wall clock, no random ids). Modules passed through are the worker's own,
imported once and shared by every run: agentorch's orchestration (deterministic: it reaches the
clock, ids, models, tools and the store only through the runtime seam), the libraries it uses,
and the modules that define the served apps' specialists, tools and models -- found by walking
each app's supervisor tree, so a user's specialist works in the sandbox with nothing to declare.
Its lazy imports resolve to the worker's modules instead of being re-imported for each run.
"""

from __future__ import annotations

import inspect
import pkgutil
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import agentorch
import agentorch.temporal
from agentorch.discovery import ROOT_PACKAGE

if TYPE_CHECKING:
    from agentorch.models.base import Model
    from agentorch.supervisor import Supervisor

#: Libraries agentorch's workflow code uses (data models, token counting, redaction, policies).
LIBRARIES = (
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_extensions",
    "typing_inspection",
    "tiktoken",
    "tiktoken_ext",
    "regex",
    "yaml",
    "docstring_parser",
)
#: The modules that define workflows: loaded afresh in each run's sandbox, so they are checked.
WORKFLOW_MODULES = frozenset({"agentorch.temporal.workflows", "agentorch.temporal.nested"})


def agentorch_modules() -> set[str]:
    """agentorch's modules and packages, except the workflow definitions."""
    names = {m.name for m in pkgutil.iter_modules(agentorch.__path__, "agentorch.")}
    names.discard("agentorch.temporal")
    names |= {
        m.name for m in pkgutil.iter_modules(agentorch.temporal.__path__, "agentorch.temporal.")
    }
    return names - WORKFLOW_MODULES


def _models(root: Supervisor) -> Iterator[Model]:
    """Every model the tree's supervisors and specialists call (fallback candidates included)."""
    from agentorch.errors import AgentOrchError
    from agentorch.temporal._tree import levels

    for _, sup in levels(root):
        found: list[Model | None] = [sup._router(), sup._synthesizer()]
        for agent in sup.agents.values():
            try:
                found.append(sup.model_for(agent))
            except AgentOrchError:
                continue  # the run reports it where the model is needed
        for model in found:
            if model is not None:
                yield model
                yield from getattr(model, "candidates", ()) or ()


def _objects(root: Supervisor) -> Iterator[Any]:
    """What code a served app runs in its workflow: agents, their models, tools, approvers."""
    from agentorch.temporal._tree import levels

    for _, sup in levels(root):
        yield sup.approver
        yield from sup.agents.values()
        for tool in sup.registry():
            yield tool.function
            yield tool.check
    for model in _models(root):
        yield model
        yield getattr(model, "function", None)


def load_tokenizers(root: Supervisor) -> None:
    """Load the tree's tokenizers (files on disk) outside the sandbox's checks, once per worker.

    Counting tokens is deterministic once the encoding is loaded; loading it reads a file, which
    the sandbox refuses, and a refused load would fall back to estimating on this worker only.
    ``serve`` loads them before any workflow runs; a workflow calls this again (then a no-op).
    """
    from agentorch.budget.tokens import get_encoding

    with workflow.unsafe.sandbox_unrestricted():
        for encoding in {"cl100k_base", *(m.encoding for m in _models(root) if m.encoding)}:
            get_encoding(encoding)


def _modules_of(obj: Any) -> Iterator[str]:
    """The modules whose code ``obj`` runs: a function's own, an object's class and its bases'."""
    if inspect.isfunction(obj) or inspect.ismethod(obj):
        yield obj.__module__
    else:
        for cls in type(obj).__mro__:
            yield cls.__module__


def app_modules(apps: Iterable[Supervisor]) -> set[str]:
    """The top-level packages whose code the apps' specialists, tools and models run."""
    names = {ROOT_PACKAGE}  # specialists and tools found in folders (bundled, project)
    for root in apps:
        for obj in _objects(root):
            if obj is None:
                continue
            for module in _modules_of(obj):
                top = module.split(".")[0]
                if top not in ("agentorch", "__main__") and top not in sys.stdlib_module_names:
                    names.add(top)
    return names


def passthrough_modules(apps: Iterable[Supervisor] = (), extra: Iterable[str] = ()) -> set[str]:
    """Every module the sandbox takes from the worker instead of loading it again per run."""
    return {*agentorch_modules(), *LIBRARIES, *app_modules(apps), *extra}


def workflow_runner(
    apps: Iterable[Supervisor] = (), passthrough: Iterable[str] = ()
) -> SandboxedWorkflowRunner:
    """The sandboxed runner for a worker (or a ``Replayer``) serving ``apps``.

    ``passthrough`` names more modules to share, e.g. a library a specialist imports lazily.
    """
    modules = passthrough_modules(apps, passthrough)
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*sorted(modules))
    return SandboxedWorkflowRunner(restrictions=restrictions)
