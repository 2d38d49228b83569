"""A small demo project for the command-line tests (written into a temporary folder).

Three steps: ``one`` and ``two`` (the worker, optionally slow) and ``publish`` (the publisher,
whose ``publish`` tool needs a person's approval). Environment knobs, read at run time:
``DEMO_DELAY`` (seconds per worker model call), ``DEMO_OUTPUT_SUFFIX`` (appended to the final
output) and ``DEMO_CRASH_FILE`` (the publish tool kills
the process the first time, when this file does not exist yet, to leave a call in doubt).
"""

from __future__ import annotations

from pathlib import Path

AGENTS = """
import os

from agentorch import Agent
from agentorch.models.testing import FunctionModel, tool_call_response
from agentorch.models.types import ToolResultMessage


class Worker(Agent):
    name = "worker"
    description = "Does one piece of the work."
    model = "openai:gpt-4.1-mini"
    tools = []

    def offline_model(self):
        delay = float(os.environ.get("DEMO_DELAY", "0"))
        return FunctionModel(lambda request: "work done", name="offline-worker", delay=delay)


def _publish(request):
    if any(isinstance(m, ToolResultMessage) for m in request.messages):
        return "the report is published" + os.environ.get("DEMO_OUTPUT_SUFFIX", "")
    return tool_call_response(("publish", {"title": "weekly report"}))


class Publisher(Agent):
    name = "publisher"
    description = "Publishes the report."
    model = "openai:gpt-4.1-mini"
    tools = ["publish"]

    def offline_model(self):
        return FunctionModel(_publish, name="offline-publisher")
"""

TOOLS = '''
import os
from pathlib import Path

from agentorch import tool


@tool(risk="write", requires_approval=True)
def publish(title: str) -> str:
    """Publish a report.

    Args:
        title: The report's title.
    """
    marker = os.environ.get("DEMO_CRASH_FILE")
    if marker and not Path(marker).exists():
        Path(marker).write_text("crashed once")
        os._exit(9)
    return f"published {title}"
'''

WORKFLOW = """
from pathlib import Path

from agentorch import Plan, Step
from agentorch.discovery import discover_agents
from agentorch.workflow import Workflow

HERE = Path(__file__).resolve().parent
AGENTS = discover_agents(HERE, bundled=False)

workflow = Workflow(
    name="demo",
    task="Write the weekly report and publish it.",
    agents=[AGENTS["worker"], AGENTS["publisher"]],
    plan=Plan(
        steps=[
            Step(id="one", agent="worker", instruction="Do the first half."),
            Step(id="two", agent="worker", instruction="Do the second half.", depends_on=["one"]),
            Step(id="publish", agent="publisher", instruction="Publish the report.", depends_on=["two"]),
        ],
        final_step="publish",
    ),
    policy=HERE / "policy.toml",
)
"""

POLICY = """
version = 1

[agents.worker]
allow = []

[agents.publisher]
allow = ["publish"]
risk_ceiling = "write"
"""


def write_demo_project(root: Path) -> Path:
    """Write the demo project into ``root`` and return it."""
    (root / "agents").mkdir(parents=True)
    (root / "tools").mkdir()
    (root / "agents" / "team.py").write_text(AGENTS)
    (root / "tools" / "publishing.py").write_text(TOOLS)
    (root / "workflow.py").write_text(WORKFLOW)
    (root / "policy.toml").write_text(POLICY)
    return root
