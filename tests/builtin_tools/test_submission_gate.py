"""submit_response refuses open mandatory gaps unless a person's approval names them all."""

from __future__ import annotations

from pathlib import Path

import pytest
from tools_helpers import tools_module

from agentorch import ToolContext
from agentorch.approvals import ApprovalDecision
from agentorch.errors import ModelRetry

files = tools_module("files")
PERSON = ApprovalDecision(decision="approved", approver="terminal:ann")
APPROVE_ALL = ApprovalDecision(decision="approved", approver="cli:approve-all", automatic=True)


def ctx(tmp_path: Path, open_gaps: list[str], approval: ApprovalDecision | None) -> ToolContext:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    (out / "response.md").write_text("# Our response\n")
    return ToolContext(
        run_id="run-gate",
        step_id="submit",
        agent="submitter",
        idempotency_key="k",
        state={"output_dir": str(out), files.GATE_KEY: {"open_mandatory": open_gaps}},
        approval=approval,
    )


async def submit(context: ToolContext, accept: list[str] | None = None) -> dict:
    args: dict = {"path": "response.md", "recipient": "bids.example.gov"}
    if accept is not None:
        args["accept_gaps"] = accept
    return await files.submit_response.invoke(args, context)


async def test_no_open_gap_submits(tmp_path: Path) -> None:
    receipt = await submit(ctx(tmp_path, [], APPROVE_ALL))
    assert receipt["status"] == "submitted" and receipt["accepted_gaps"] == []


async def test_approve_all_never_accepts_open_mandatory_gaps(tmp_path: Path) -> None:
    with pytest.raises(ModelRetry, match="never accepts open mandatory gaps"):
        await submit(ctx(tmp_path, ["R-3.2", "R-6.8"], APPROVE_ALL), ["R-3.2", "R-6.8"])
    assert not (tmp_path / "submissions").exists()


async def test_a_person_must_name_every_open_gap(tmp_path: Path) -> None:
    with pytest.raises(ModelRetry, match=r"R-6\.8 are missing or in conflict"):
        await submit(ctx(tmp_path, ["R-3.2", "R-6.8"], PERSON), ["R-3.2"])
    with pytest.raises(ModelRetry, match="names them all"):
        await submit(ctx(tmp_path, ["R-3.2"], PERSON))
    assert not (tmp_path / "submissions").exists()


async def test_a_persons_approval_naming_the_gaps_submits_and_records_them(tmp_path: Path) -> None:
    receipt = await submit(ctx(tmp_path, ["R-3.2", "R-6.8"], PERSON), ["r-3.2", "R-6.8"])
    assert receipt["status"] == "submitted"
    assert receipt["accepted_gaps"] == ["R-3.2", "R-6.8"]


async def test_without_any_approval_open_gaps_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelRetry, match="approved by nobody"):
        await submit(ctx(tmp_path, ["R-3.2"], None), ["R-3.2"])
