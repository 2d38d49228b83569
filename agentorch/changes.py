"""Behaviour changes a durable run's recorded history must be told about.

A run on Temporal replays its history through the current code whenever a worker picks it up, so
code that now takes other steps (another order, another wait) would not match a run started on
the old code. Each such change has an id here; the runtime answers ``uses_change(id)``: always
``True`` on the embedded engine, and on Temporal ``workflow.patched(id)``, which is ``False``
only for a run whose history was recorded before the change (it keeps the old behaviour to its
end). See the Temporal page of the docs: "Upgrading with runs in flight".
"""

from __future__ import annotations

#: A step waiting for a person gives its concurrency slot back while it waits.
SLOT_RELEASE = "agentorch-slot-release-while-waiting"

#: A step's escalation waits for its person beside the other steps: the run's loop goes on
#: starting and taking in the steps that do not depend on it (before, it waited for the decision).
ESCALATION_ALONGSIDE = "agentorch-escalation-waits-alongside"

#: Every change, oldest first: a workflow asks about each one when it starts.
ALL: tuple[str, ...] = (SLOT_RELEASE, ESCALATION_ALONGSIDE)
