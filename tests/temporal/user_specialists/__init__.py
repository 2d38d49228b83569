"""A user's own specialist package, written as a project would: its prompt helper is imported
lazily, and that helper takes a lock and reads the environment when it is imported -- which
Temporal's sandbox refuses in a module it loads itself, so the package must be shared with it."""

from __future__ import annotations

from agentorch import Agent
from agentorch.agent import StepContext


class FramingSummarizer(Agent):
    name = "summarizer"
    description = "Summarizes, framing its prompt with the team's label."

    def user_prompt(self, context: StepContext) -> str:
        from ._framing import framed  # lazy, like the bundled specialists' helpers

        return framed(super().user_prompt(context))
