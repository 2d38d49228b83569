"""A guard for replaying workflow histories: code of agentorch and of the app may not read the
clock, random numbers, fresh ids or the environment inside a workflow (only through the
workflow's APIs). Temporal's sandbox checks the workflow modules it loads itself; this checks the
modules it shares with the worker (passed through), whose calls it does not see."""

from __future__ import annotations

import contextlib
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator, MutableMapping
from typing import Any

from temporalio import workflow

#: Modules whose calls are checked (agentorch, bundled and project folders, the test app).
CHECKED = ("agentorch", "_agentorch_ext", "temporal_app", "user_specialists")
GUARDED: list[tuple[Any, str]] = [
    (time, "time"),
    (time, "time_ns"),
    (time, "perf_counter"),
    (time, "monotonic"),
    (uuid, "uuid1"),
    (uuid, "uuid4"),
    (os, "urandom"),
    (os, "getenv"),
    *((random, name) for name in ("random", "randint", "randrange", "choice", "getrandbits")),
    *((random, name) for name in ("shuffle", "uniform", "sample")),
]


def _violation(found: list[str], name: str) -> None:
    if not workflow.in_workflow() or workflow.unsafe.is_sandbox_unrestricted():
        return
    caller = sys._getframe(2)
    module = str(caller.f_globals.get("__name__", ""))
    if module.split(".")[0] in CHECKED:
        found.append(f"{name} from {module}:{caller.f_lineno}")


class _Environ(MutableMapping[str, str]):
    def __init__(self, inner: MutableMapping[str, str], found: list[str]) -> None:
        self.inner, self.found = inner, found

    def __getitem__(self, key: str) -> str:
        _violation(self.found, f"os.environ[{key!r}]")
        return self.inner[key]

    def __contains__(self, key: object) -> bool:
        _violation(self.found, f"os.environ: {key!r} in")
        return key in self.inner

    def __setitem__(self, key: str, value: str) -> None:
        self.inner[key] = value

    def __delitem__(self, key: str) -> None:
        del self.inner[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.inner)

    def __len__(self) -> int:
        return len(self.inner)


@contextlib.contextmanager
def no_nondeterminism() -> Iterator[list[str]]:
    """Record the clock, random, id and environment reads made by checked code in a workflow."""
    found: list[str] = []
    saved = [(owner, name, getattr(owner, name)) for owner, name in GUARDED]

    def guard(name: str, original: Any) -> Any:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            _violation(found, name)
            return original(*args, **kwargs)

        return guarded

    environ = os.environ
    try:
        for owner, name, original in saved:
            setattr(owner, name, guard(f"{owner.__name__}.{name}", original))
        os.environ = _Environ(environ, found)  # type: ignore[assignment]  # noqa: B003
        yield found
    finally:
        os.environ = environ  # noqa: B003
        for owner, name, original in saved:
            setattr(owner, name, original)


async def assert_replays(
    temporal: Any, app: str, supervisor: Any, run_id: str, children: tuple[str, ...] = ()
) -> None:
    """Replaying the run's recorded histories (its children's too) in Temporal's sandbox, with
    ``supervisor`` served as ``app``, gives the same commands, and its code reads no clock,
    random number, id or environment itself."""
    from temporalio.worker import Replayer

    from agentorch.temporal._apps import serve
    from agentorch.temporal.nested import NestedWorkflow
    from agentorch.temporal.sandbox import workflow_runner
    from agentorch.temporal.workflows import RunWorkflow

    serve({app: supervisor})
    client = await temporal.connect()
    replayer = Replayer(
        workflows=[RunWorkflow, NestedWorkflow],
        workflow_runner=workflow_runner([supervisor]),
        data_converter=temporal.converter(),
    )
    for workflow_id in (run_id, *children):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        with no_nondeterminism() as found:
            await replayer.replay_workflow(history)
        assert not found, found
