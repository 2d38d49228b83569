"""The apps (supervisors) this process serves as a worker, by name.

A workflow finds its supervisor here: the definitions (agents, tools, policy, models) are code,
loaded by the worker at start, never sent through Temporal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentorch.errors import ConfigError

if TYPE_CHECKING:
    from agentorch.supervisor import Supervisor

APPS: dict[str, Supervisor] = {}


def serve(apps: dict[str, Supervisor]) -> None:
    """Make ``apps`` available to this process's workflows and activities.

    Their tokenizers are loaded here, before any workflow task: loading one reads and parses a
    file, which can take a workflow task past Temporal's deadlock timeout on a busy host.
    """
    from agentorch.temporal.sandbox import load_tokenizers

    for supervisor in apps.values():
        load_tokenizers(supervisor)
    APPS.update(apps)


def app(name: str) -> Supervisor:
    found = APPS.get(name)
    if found is None:
        raise ConfigError(
            f"this worker does not serve app {name!r} (it serves: {', '.join(sorted(APPS)) or 'none'})",
            hint="start `agentorch worker` on the same workflow folder as `agentorch run`",
        )
    return found
