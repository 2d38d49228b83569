"""Bounded model calls at any document size: parts, merge, a plan that grows, limits that follow."""

from __future__ import annotations

import copy
import itertools
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from _workflow_helpers import EXAMPLE, rfp_workflow

from agentorch import Plan, Step
from agentorch.approvals import ApproveAll
from agentorch.budget import Budget
from agentorch.discovery import builtin_module, builtin_tools
from agentorch.documents import text_blocks
from agentorch.documents.chunks import (
    count_tokens,
    document_findings,
    findings_in,
    split_blocks,
)
from agentorch.errors import ConfigError
from agentorch.orchestrator import MAX_PLAN_STEPS, Limits
from agentorch.plan import validate_plan
from bench.document_scaling import enlarge, recording_agents

parts_module = builtin_module("agents", "_parts")
types = builtin_module("agents", "_types")
RFP = EXAMPLE / "rfp.md"


@pytest.fixture(scope="module")
def rfp_x3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    file = tmp_path_factory.mktemp("big") / "rfp.md"
    file.write_text(enlarge(RFP.read_text(encoding="utf-8"), 3), encoding="utf-8")
    return file


def test_parts_keep_sections_whole_and_cover_every_block() -> None:
    text = "\n\n".join(
        ["# Title", "Intro text."]
        + [f"## {n}. Section {n}\n\n" + "\n\n".join(f"{n}.{i} The Contractor shall do thing {i}."
                                                    for i in range(1, 6)) for n in range(1, 5)]
    )  # fmt: skip
    blocks = text_blocks(text)
    size = sum(count_tokens(b.text) + 1 for b in blocks[2:9])  # section 1 with its heading
    parts = split_blocks(blocks, max_tokens=size)
    assert parts[0].start == 0 and parts[-1].end == len(blocks)
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))
    assert all(p.tokens <= size for p in parts)
    # every part after the title starts at a section heading: no section is cut
    assert all(blocks[p.start].heading for p in parts[1:])
    tiny = split_blocks(blocks, max_tokens=30)  # smaller than a section: cut at blocks
    assert len(tiny) > len(parts) and all(p.end > p.start for p in tiny)


def test_a_part_holds_its_requirements_once_with_the_whole_documents_ids(rfp_x3: Path) -> None:
    blocks, whole = document_findings(rfp_x3)
    parts = parts_module.document_parts([rfp_x3], 8_000)
    found = [c.id for p in parts for c in findings_in(whole, blocks, p.start, p.end).requirements]
    assert found == [c.id for c in whole.requirements]  # each once, in order, same ids
    assert len(set(found)) == len(found) == 150
    assert all(p.tokens <= 2_000 and p.statements <= 5 for p in parts)
    assert {p.category for p in parts} == set(types.CATEGORIES)


def test_merge_drops_a_repeat_across_a_border_and_renames_a_clash() -> None:
    def req(rid: str, text: str, part: str, source: str = "rfp.md") -> Any:
        return types.Requirement(
            id=rid, number="", text=text, modality="must", category="technical", section="",
            source=source, part=part,
        )  # fmt: skip

    one = types.RequirementList(
        requirements=[req("R-1.1", "A shall.", "a"), req("R-1.2", "B shall.", "a")],
        statements_seen=2,
        sources=["rfp.md"],
    )
    two = types.RequirementList(
        requirements=[
            req("R-1.2", "B shall.", "b"),  # the same statement, seen again over the border
            req("R-1.1", "Other shall.", "b"),  # another requirement with the same number
            req("R-1.1", "C shall.", "c", source="annex.md"),
        ],
        statements_seen=3,
        sources=["rfp.md", "annex.md"],
    )
    merged = parts_module.merge_parts([one, two])
    assert [r.id for r in merged.requirements] == ["R-1.1", "R-1.2", "R-1.1~b", "annex:R-1.1"]
    assert merged.statements_seen == 4 and merged.sources == ["rfp.md", "annex.md"]
    assert merged == parts_module.merge_parts([one, two])  # deterministic


def test_the_plan_grows_with_the_document_and_the_limits_follow(rfp_x3: Path) -> None:
    workflow = rfp_workflow()
    small = workflow.build_plan()
    big = workflow.build_plan([rfp_x3], {"context_tokens": 8_000})
    assert isinstance(small, Plan) and isinstance(big, Plan)
    writers = [s for s in big.steps if s.agent == "writer"]
    assert len(writers) > 3 * 6 and len(big.steps) == 5 * len(writers) + 4
    assert len({s.id for s in big.steps}) == len(big.steps)
    assert {s.risk for s in writers if s.params["category"] in ("pricing", "legal")} == {"high"}
    limits = Limits()
    assert len(big.steps) > limits.max_plan_steps  # a router's plan stays short...
    assert not validate_plan(big, workflow.supervisor(engine="offline").agents,
                             max_steps=limits.max_declared_steps)  # fmt: skip
    # ... and the run's caps follow the plan: every step once plus three per revision
    n = len(big.steps)
    assert limits.revision_cap(n) == max(12, n // 2)
    assert limits.step_cap(n) == n + 3 * limits.revision_cap(n) > 60
    assert Limits(max_steps=7).step_cap(n) == 7 and Limits().step_cap(10) == 60
    with pytest.raises(ConfigError, match="max_declared_steps"):
        Limits(max_declared_steps=MAX_PLAN_STEPS + 1)
    with pytest.raises(ConfigError, match="context_tokens"):
        type(workflow)(name="x", task="t", agents=workflow.agents, context_tokens=100)


def test_a_declared_plan_past_the_router_cap_runs(tmp_path: Path) -> None:
    from agentorch import Agent, Supervisor
    from agentorch.models.testing import FunctionModel, text_response

    model = FunctionModel(lambda request: text_response("ok"), name="fake")
    agent = Agent(name="worker", description="Works.", model=model)
    steps = [Step(id=f"s{i}", agent="worker", instruction="work") for i in range(80)]
    plan = Plan(steps=[*steps, Step(id="end", agent="worker", instruction="sum up",
                                    depends_on=[s.id for s in steps])], final_step="end")  # fmt: skip
    result = Supervisor([agent], model=model).run_sync("many", plan=plan)
    assert result.status == "succeeded" and len(result.steps) == 81


async def test_every_model_request_stays_in_the_context_budget(
    rfp_x3: Path, rfp_state: dict[str, Any]
) -> None:
    """The real-model path (engine "models"): each specialist's model records every request."""
    records: list[dict[str, Any]] = []
    workflow = copy.copy(rfp_workflow())  # the loaded workflow is shared: change a copy
    workflow.agents = recording_agents(records)
    budget = 8_000
    result = await workflow.run(
        files=[rfp_x3],
        state={**rfp_state, "context_tokens": budget},
        engine="models",
        approver=ApproveAll(),
        budget=Budget(tokens=100_000_000),
    )
    assert result.status == "succeeded", result.error
    document = result.steps["edit"].output
    assert document.written and document.requirements == 150
    assert document.covered + document.partial > 0
    models = {r["model"] for r in records}
    assert {"offline-parser", "offline-writer", "offline-compliance", "offline-critic",
            "offline-editor"} <= models  # fmt: skip
    too_big = [r for r in records if r["input"] > budget]
    assert not too_big, too_big[:3]
    response = Path(rfp_state["output_dir"]) / "response.md"
    assert (
        response.read_text(encoding="utf-8").count("\n### R-")
        == document.covered + document.partial
    )


def test_the_tools_read_and_search_one_part(rfp_x3: Path) -> None:
    tools = {t.name: t for t in builtin_tools()}
    blocks, whole = document_findings(rfp_x3)
    part = parts_module.document_parts([rfp_x3], 8_000)[3]
    found = tools["find_requirements"](None, str(rfp_x3), start=part.start, end=part.end)
    assert [c["id"] for c in found["requirements"]] == [
        c.id for c in findings_in(whole, blocks, part.start, part.end).requirements
    ]
    text = tools["read_document"](None, str(rfp_x3), start=part.start, end=part.end)
    assert count_tokens(text) <= part.tokens and text.startswith("## ")


def test_an_edit_with_internal_text_is_not_used() -> None:
    editor = builtin_module("agents", "editor")
    edits = [
        types.SectionEdit(
            part="a",
            edits=[
                types.EditedAnswer(requirement_id="R-1", text="We do it."),
                types.EditedAnswer(requirement_id="R-2", text="See AA-006."),
                types.EditedAnswer(requirement_id="R-3", text=" "),
            ],
        )
    ]
    accepted, rejected = editor.accepted_edits(edits)
    assert accepted == {"R-1": "We do it."} and len(rejected) == 2


def test_a_part_step_reads_its_own_part_by_default(rfp_x3: Path) -> None:
    """A model in a part's step that asks for the whole document gets its part (its context is
    sized for that), unless it names other blocks."""
    tools = {t.name: t for t in builtin_tools()}
    part = parts_module.document_parts([rfp_x3], 8_000)[2]
    ctx = SimpleNamespace(
        state={"document_part": {"file": rfp_x3.name, "start": part.start, "end": part.end}}
    )
    scoped = tools["read_document"](ctx, str(rfp_x3))
    assert scoped == tools["read_document"](None, str(rfp_x3), start=part.start, end=part.end)
    blocks, whole = document_findings(rfp_x3)
    mine = findings_in(whole, blocks, part.start, part.end).model_dump()
    assert tools["find_requirements"](ctx, str(rfp_x3)) == mine
    assert tools["read_document"](ctx, str(rfp_x3), start=0, end=3).startswith("# City")


async def test_a_run_whose_documents_were_not_written_does_not_succeed(
    rfp_state: dict[str, Any],
) -> None:
    """A write that fails (here: past the run's tool-argument limit) fails the editor's step and
    the run: it never ends "succeeded" without its response and bid review."""
    workflow = copy.copy(rfp_workflow())  # the loaded workflow is shared: change a copy
    workflow.limits = Limits(max_tool_argument_bytes=5_000)  # smaller than any part sent
    result = await workflow.run(engine="offline", approver=ApproveAll(), state=rfp_state)
    assert result.status == "failed"
    edit = result.steps["edit"]
    assert edit.status == "failed" and "was not written" in (edit.error or "")
    assert "the limit is 5000 bytes" in (edit.error or "")
    assert result.steps["submit"].status != "done"
    assert "edit" in (result.error or "")
    out = Path(rfp_state["output_dir"])
    assert not (out / "response.md").exists() and not (out / "bid-review.md").exists()


async def test_documents_larger_than_one_call_are_written_in_parts(
    rfp_state: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With calls limited to 20 KB, the editor sends both documents in parts of 8 KB: the run
    succeeds with whole documents, and no write carries more than its part."""
    from agentorch.events.types import ToolCallStarted

    editor = builtin_module("agents", "editor")
    monkeypatch.setattr(editor, "WRITE_PART_BYTES", 8_000, raising=False)
    workflow = copy.copy(rfp_workflow())  # the loaded workflow is shared: change a copy
    workflow.limits = Limits(max_tool_argument_bytes=20_000)  # the bid review is ~53 KB
    writes: list[dict[str, Any]] = []
    result = await workflow.run(
        engine="offline",
        approver=ApproveAll(),
        state=rfp_state,
        on_event=lambda e: (
            writes.append(e.arguments)
            if isinstance(e, ToolCallStarted) and e.tool == "write_file"
            else None
        ),
    )
    assert result.status == "succeeded", result.error
    document = result.steps["edit"].output
    assert document.written and document.review_path and document.requirements == 50
    out = Path(rfp_state["output_dir"])
    assert sorted(p.name for p in out.iterdir()) == ["bid-review.md", "response.md"]
    response = (out / "response.md").read_text(encoding="utf-8")
    assert response == document.markdown
    assert response.count("\n### R-") == document.covered + document.partial
    review = (out / "bid-review.md").read_text(encoding="utf-8")
    matrix = review.split("## Compliance matrix", 1)[1].split("## Open issues", 1)[0]
    assert len(re.findall(r"^\| R-", matrix, re.M)) == 50 and "## Excluded" in review
    by_file = {w["path"]: [x for x in writes if x["path"] == w["path"]] for w in writes}
    assert set(by_file) == {"bid-review.md", "response.md"}
    for path, parts in by_file.items():
        assert len(parts) > 2 and [p["part"] for p in parts] == list(range(1, len(parts) + 1))
        text = (out / path).read_text(encoding="utf-8")
        assert "".join(p["content"] for p in parts) == text
        assert all(len(json.dumps(p["content"], ensure_ascii=False)) <= 8_002 for p in parts)
