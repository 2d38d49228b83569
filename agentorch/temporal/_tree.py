"""Finding things in an app's supervisor tree by name, so a worker can rebuild what a call needs.

A workflow holds live objects (models, tools, approvers); an activity on another worker gets
names only and finds the same objects in its own copy of the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from agentorch.errors import ConfigError

if TYPE_CHECKING:
    from agentorch.approvals import Approver
    from agentorch.models.base import Model
    from agentorch.supervisor import Supervisor
    from agentorch.tools.base import Tool


def levels(root: Supervisor) -> Iterator[tuple[list[str], Supervisor]]:
    """Every supervisor of the tree with its path of agent names (``[]`` for the root)."""
    from agentorch.nesting import SupervisorAgent

    seen: set[int] = set()
    todo: list[tuple[list[str], Supervisor]] = [([], root)]
    while todo:
        path, sup = todo.pop(0)
        if id(sup) in seen:
            continue
        seen.add(id(sup))
        yield path, sup
        for name, agent in sup.agents.items():
            if isinstance(agent, SupervisorAgent):
                todo.append(([*path, name], agent.inner))


def level(root: Supervisor, path: list[str]) -> Supervisor:
    """The supervisor at ``path`` (agent names from the root)."""
    from agentorch.nesting import SupervisorAgent

    sup = root
    for name in path:
        agent = sup.agents.get(name)
        if not isinstance(agent, SupervisorAgent):
            raise ConfigError(f"this worker's app has no nested supervisor at {'.'.join(path)!r}")
        sup = agent.inner
    return sup


def tool_level(root: Supervisor, tool: Tool) -> list[str]:
    """The path of the supervisor whose registry holds ``tool`` (the root's if none does)."""
    for path, sup in levels(root):
        if sup.registry().find(tool.name) is tool:
            return path
    return []


def approver_level(root: Supervisor, approver: Approver | None, own: Approver | None) -> list[str]:
    """The path of the supervisor whose approver ``approver`` is (``[]``: the run's own)."""
    if approver is None or approver is own:
        return []
    for path, sup in levels(root):
        if sup.approver is approver:
            return path
    return []


def find_model(root: Supervisor, agent: str, model_id: str) -> Model:
    """The model ``agent`` calls as ``model_id`` somewhere in the tree (a step's override too)."""
    for _, sup in levels(root):
        if agent == "supervisor":
            found = [m for m in (sup._router(), sup._synthesizer()) if m is not None]
        elif agent in sup.agents:
            found = [sup.model_for(sup.agents[agent])]
        else:
            continue
        for model in found:
            if model.id == model_id:
                return model
    if ":" in model_id and not model_id.startswith(("function:", "scripted:")):
        return root._resolve(model_id)  # a step's own model ("provider:name")
    raise ConfigError(
        f"this worker's app has no model {model_id!r} for agent {agent!r}",
        hint="start the worker with the same app (and engine) as the client",
    )
