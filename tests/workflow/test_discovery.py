"""Discovery of specialists and tools; loading workflows; choosing the engine."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from _workflow_helpers import REPO

from agentorch import Agent
from agentorch.discovery import builtin_agents, builtin_tools, discover_agents, discover_tools
from agentorch.errors import ConfigError, DuplicateNameError, UserError
from agentorch.workflow import OFFLINE_EXPLANATION, choose_engine, load_workflow

BUILTINS = ["parser", "writer", "compliance", "critic", "editor", "submitter"]

PRICING = """
from agentorch import Agent

from ._shared import PREFIX


class PricingAgent(Agent):
    name = "pricing"
    description = PREFIX + "Prices line items against the rate card."
    tools = ["rate_card_lookup"]
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return folder


def test_builtins_are_found_in_order_under_private_names() -> None:
    agents = builtin_agents()
    assert [a.name for a in agents] == BUILTINS
    assert all(type(a).__module__.startswith("_agentorch_ext.bundled.agents.") for a in agents)
    assert all(a.description and a.offline_model() is not None for a in agents)
    assert {t.name for t in builtin_tools()} >= {
        "read_document",
        "search_answers",
        "get_answer",
        "write_file",
        "submit_response",
    }
    for name in ("agents", "tools"):  # discovery never imported the folders under these names
        module = sys.modules.get(name)
        assert module is None or str(REPO / name) not in str(getattr(module, "__path__", ""))


def test_bundled_folders_are_not_importable_as_top_level_packages(tmp_path: Path) -> None:
    code = (
        "import importlib.util, agentorch.discovery as d\n"
        "assert [a.name for a in d.builtin_agents()]\n"
        "for name in ('agents', 'tools'):\n"
        "    spec = importlib.util.find_spec(name)\n"
        "    print(spec.origin if spec else None)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # None, or another distribution's package of that name (the OpenAI Agents SDK's ``agents``)
    for origin in out.stdout.split():
        assert origin == "None" or not origin.startswith(str(REPO / "agents")), origin
        assert origin == "None" or not origin.startswith(str(REPO / "tools")), origin


def test_a_project_specialist_in_one_file_is_found(tmp_path: Path, fresh_discovery: Any) -> None:
    write(tmp_path / "agents", {"pricing.py": PRICING, "_shared.py": "PREFIX = 'Project: '\n"})
    write(
        tmp_path / "tools",
        {
            "rates.py": '''
        from agentorch import tool

        @tool
        def rate_card_lookup(sku: str) -> float:
            """Look up the list price for a SKU."""
            return 10.0
    '''
        },
    )
    agents = discover_agents(tmp_path)
    assert list(agents)[: len(BUILTINS)] == BUILTINS and "pricing" in agents
    pricing = agents["pricing"]()
    assert isinstance(pricing, Agent) and pricing.description.startswith("Project: ")
    assert type(pricing).__module__.startswith("_agentorch_ext.project_")
    assert "_shared" not in {a.name for a in agents.values()}
    tools = {t.name: t for t in discover_tools(tmp_path)}
    assert tools["rate_card_lookup"].source.endswith("rates.py") and "write_file" in tools
    only = discover_agents(tmp_path, bundled=False)
    assert list(only) == ["pricing"]


def test_two_agents_with_one_name_are_refused(tmp_path: Path, fresh_discovery: Any) -> None:
    write(
        tmp_path / "agents",
        {
            "_shared.py": "PREFIX = ''\n",
            "pricing.py": PRICING,
            "pricing2.py": PRICING.replace("PricingAgent", "OtherPricing"),
        },
    )
    with pytest.raises(DuplicateNameError) as info:
        discover_agents(tmp_path)
    assert "pricing.py" in str(info.value) and "pricing2.py" in str(info.value)


def test_a_project_agent_may_not_shadow_a_builtin(tmp_path: Path, fresh_discovery: Any) -> None:
    write(
        tmp_path / "agents",
        {
            "mine.py": """
        from agentorch import Agent

        class MyWriter(Agent):
            name = "writer"
    """
        },
    )
    with pytest.raises(DuplicateNameError, match="'writer'") as info:
        discover_agents(tmp_path)
    assert "mine.py" in str(info.value) and "agents/writer.py" in str(info.value)


def test_a_syntax_error_names_the_file_and_line(tmp_path: Path, fresh_discovery: Any) -> None:
    write(
        tmp_path / "agents",
        {"broken.py": "from agentorch import Agent\n\nclass Broken(Agent)\n    name = 'x'\n"},
    )
    with pytest.raises(ConfigError, match=r"broken\.py, line 3"):
        discover_agents(tmp_path)


def test_an_import_error_names_the_file(tmp_path: Path, fresh_discovery: Any) -> None:
    write(tmp_path / "tools", {"bad.py": "import not_a_real_module_xyz\n"})
    with pytest.raises(ConfigError, match=r"bad\.py, line 1: ModuleNotFoundError"):
        discover_tools(tmp_path)


def test_entry_points_are_discovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_discovery: Any
) -> None:
    site = tmp_path / "site"
    write(
        site,
        {
            "acme_agents.py": '''
            from agentorch import Agent, tool

            class LegalBot(Agent):
                name = "legalbot"

            @tool
            def clause_lookup(code: str) -> str:
                """Look up a standard clause."""
                return code
        ''',
            "acme-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: acme\nVersion: 0.1\n",
            "acme-0.1.dist-info/entry_points.txt": (
                "[agentorch.agents]\nlegalbot = acme_agents:LegalBot\n\n"
                "[agentorch.tools]\nclause_lookup = acme_agents:clause_lookup\n"
            ),
        },
    )
    monkeypatch.syspath_prepend(str(site))
    agents = discover_agents(tmp_path)
    assert "legalbot" in agents
    tools = {t.name: t for t in discover_tools(tmp_path)}
    assert tools["clause_lookup"].source.startswith("entry-point:acme")
    assert "legalbot" not in discover_agents(tmp_path, entry_points=False)


def test_load_workflow_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="workflow not found"):
        load_workflow(tmp_path / "missing")
    with pytest.raises(UserError, match=r"has no workflow\.py"):
        load_workflow(tmp_path)
    (tmp_path / "workflow.py").write_text("x = 1\n")
    with pytest.raises(UserError, match="defines no `workflow`"):
        load_workflow(tmp_path)
    broken = tmp_path / "broken.py"
    broken.write_text("workflow = (\n")
    with pytest.raises(ConfigError, match=r"broken\.py"):
        load_workflow(broken)


def test_the_example_workflow_loads() -> None:
    workflow = load_workflow(REPO / "examples" / "rfp")
    plan = workflow.build_plan()
    assert plan is not None and plan.final_step == "submit"
    writers = [s for s in plan.steps if s.agent == "writer"]
    # one writer per document part: the RFP's seven sections (1 and 7 are both "other")
    assert [s.id.removeprefix("write_") for s in writers] == [
        "other", "technical", "security", "sla", "pricing", "legal", "other_2"
    ]  # fmt: skip
    assert {s.id for s in writers if s.risk == "high"} == {"write_pricing", "write_legal"}
    assert plan.step("parse").depends_on == [f"parse_{s.params['part']}" for s in writers]
    assert plan.step("edit").continue_on_failed_deps and plan.step("submit").continue_on_failed_deps
    assert plan.step("check_parse").reviews == "parse"
    supervisor = workflow.supervisor(engine="offline")
    assert supervisor.engine == "offline" and sorted(supervisor.agents) == sorted(BUILTINS)
    assert supervisor.registry().policy is not None  # the policy loads with Policy.load
    with_model = workflow.supervisor(model="openai:gpt-4.1-mini")
    assert with_model.engine == "models"
    assert {a.model for a in with_model.agents.values()} == {"openai:gpt-4.1-mini"}


def test_choose_engine() -> None:
    assert choose_engine(None, env={}) == ("offline", OFFLINE_EXPLANATION)
    assert "OPENAI_API_KEY" in OFFLINE_EXPLANATION and "--model" in OFFLINE_EXPLANATION
    assert choose_engine("openai:gpt-4.1-mini", env={})[0] == "models"
    engine, why = choose_engine(None, env={"ANTHROPIC_API_KEY": "sk-x"})
    assert engine == "models" and "ANTHROPIC_API_KEY" in why and "sk-x" not in why
    assert "anthropic:claude-sonnet-4-5" in why
