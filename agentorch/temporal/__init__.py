"""Runs on Temporal: the same supervisor, its runs spread over worker processes on many hosts.

``Temporal`` names a Temporal service (address, namespace, task queue). Give it to
``Supervisor.run(..., temporal=...)`` (or ``agentorch run ... --temporal HOST:PORT``) to run there,
and serve the same supervisor with ``Temporal.worker`` (or ``agentorch worker``) on each worker
host. Needs the ``temporal`` extra: ``pip install 'agentorch[temporal]'``.
"""

from __future__ import annotations

from agentorch.errors import MissingDependencyError

try:
    import temporalio  # noqa: F401
except ImportError as exc:  # pragma: no cover - the extra is installed in dev and CI
    raise MissingDependencyError(
        "running on Temporal needs the temporalio package",
        hint="pip install 'agentorch[temporal]'",
    ) from exc

from agentorch.temporal._types import Timeouts
from agentorch.temporal.client import Temporal, notify_decision

__all__ = ["Temporal", "Timeouts", "notify_decision"]
