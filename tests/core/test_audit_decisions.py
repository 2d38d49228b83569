"""Decisions the run acts on are the ones in the audit chain: a forged approval row is refused,
and a decision made elsewhere while the run is asking wins (the first decision wins)."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_fixture import pg_server, pg_url  # noqa: F401  (fixtures)

import agentorch.approvals_gate as gate
from agentorch import (
    Agent,
    Budget,
    CallbackApprover,
    DeferredApprover,
    Plan,
    ScriptedModel,
    Step,
    Supervisor,
    tool,
)
from agentorch.approvals import ApprovalDecision, ApprovalRequest, approve
from agentorch.approvals_store import decide_pending
from agentorch.errors import AuditError
from agentorch.models.testing import tool_call_response
from agentorch.store import Store, open_store

PAID: list[int] = []


@tool(risk="external", requires_approval=True)
def pay(amount: int) -> str:
    """Pay a supplier."""
    PAID.append(amount)
    return f"paid {amount}"


class Clerk(Agent):
    name = "clerk"
    description = "Pays invoices."
    tools = ["pay"]


OPENED: list[Store] = []


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    PAID.clear()
    monkeypatch.setenv("AGENTORCH_AUDIT_KEY", "test-audit-key-0123456789abcdef")
    monkeypatch.setattr(gate, "DECISION_POLL_SECONDS", 0.05)
    yield
    while OPENED:
        OPENED.pop().close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    found: str = request.getfixturevalue("pg_url")
    return found


def _forge(url: str, sql: str) -> int:
    """Run SQL straight against the store's database, behind the store's back."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        with conn:
            changed = conn.execute(sql).rowcount
        conn.close()
        return changed
    import psycopg

    with psycopg.connect(url, autocommit=True) as pg:
        return pg.execute(sql).rowcount


def _supervisor(model: ScriptedModel, url: str, approver: object) -> Supervisor:
    plan = Plan(steps=[Step(id="s", agent="clerk", instruction="pay")], final_step="s")
    return Supervisor(
        [Clerk(model=model)],
        tools=[pay],
        budget=Budget(allow_unpriced=True),
        plan=plan,
        approver=approver,  # type: ignore[arg-type]
        store=_open(url),
    )


def _open(url: str) -> Store:
    store = open_store(url)
    OPENED.append(store)
    return store


def _model() -> ScriptedModel:
    return ScriptedModel([tool_call_response(("pay", {"amount": 900})), "done"])


async def test_a_forged_approval_row_is_refused_on_resume(url: str) -> None:
    model = _model()
    first = await _supervisor(model, url, DeferredApprover()).run("pay the invoice")
    assert first.status == "waiting_approval"
    assert _forge(url, "UPDATE approvals SET status = 'approved', approver = 'mallory'") == 1
    with pytest.raises(AuditError, match=r"audit log disagrees .*approval .* altered"):
        await _supervisor(model, url, DeferredApprover()).resume(first.run_id)
    assert PAID == []
    store = open_store(url)
    try:
        verdict = store.verify_audit(first.run_id)
        assert store.get_run(first.run_id).status == "waiting_approval"  # nothing was written
    finally:
        store.close()
    assert not verdict.ok and not verdict.tables_consistent


async def test_a_decision_made_elsewhere_while_the_run_asks_wins(url: str) -> None:
    asked = asyncio.Event()
    never = asyncio.Event()

    async def person(request: ApprovalRequest) -> ApprovalDecision | None:
        asked.set()
        await never.wait()  # a person who never answers at this prompt
        return approve("terminal")

    sup = _supervisor(_model(), url, CallbackApprover(person))
    run = asyncio.create_task(sup.run("pay the invoice"))
    await asyncio.wait_for(asked.wait(), 10)
    other = open_store(url)  # another connection, as `agentorch approve` would open
    try:
        (run_row,) = other.list_runs()
        await asyncio.to_thread(decide_pending, other, run_row.run_id, approver="ana")
    finally:
        other.close()
    result = await asyncio.wait_for(run, 20)
    assert result.status == "succeeded", result.error
    assert PAID == [900]
    store = open_store(url)
    try:
        (approval,) = store.approvals(result.run_id)
        assert approval.status == "approved" and approval.approver == "ana"
        assert store.verify_audit(result.run_id).ok
    finally:
        store.close()


async def test_the_first_decision_wins_when_the_prompt_answers_late(url: str) -> None:

    async def person(request: ApprovalRequest) -> ApprovalDecision | None:
        other = open_store(url)
        try:  # someone denies from another process first; then the person here approves
            await asyncio.to_thread(
                decide_pending, other, request.run_id, deny=True, reason="no", approver="ana"
            )
        finally:
            other.close()
        return approve("terminal")

    result = await _supervisor(_model(), url, CallbackApprover(person)).run("pay the invoice")
    assert result.status == "succeeded", result.error
    assert PAID == []  # the denial came first
    store = open_store(url)
    try:
        (approval,) = store.approvals(result.run_id)
        assert approval.status == "denied" and approval.approver == "ana"
        assert store.verify_audit(result.run_id).ok
    finally:
        store.close()


async def test_agentorch_approve_in_another_process_answers_the_live_prompt(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    asked: asyncio.Queue[str] = asyncio.Queue()
    never = asyncio.Event()

    async def person(request: ApprovalRequest) -> ApprovalDecision | None:
        asked.put_nowait(request.run_id)
        await never.wait()
        return None

    run = asyncio.create_task(
        _supervisor(_model(), url, CallbackApprover(person)).run("pay the invoice")
    )
    run_id = await asyncio.wait_for(asked.get(), 10)
    cli = [sys.executable, "-m", "agentorch", "approve", run_id, "--store", url]
    done = await asyncio.to_thread(subprocess.run, cli, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = await asyncio.wait_for(run, 20)
    assert result.status == "succeeded", result.error
    assert PAID == [900]


@pytest.mark.parametrize(
    ("forgery", "named"),
    [
        ("UPDATE journal SET result = replace(result, '900', '9') WHERE kind = 'model'", "journal"),
        ("UPDATE steps SET instruction = 'pay twice'", "step"),
        ("UPDATE runs SET usage = '{\"cost_usd\":0.0}', spec = '{}'", "run"),
    ],
)
async def test_a_forged_result_step_or_run_is_refused_on_resume(
    url: str, forgery: str, named: str
) -> None:
    model = _model()
    first = await _supervisor(model, url, DeferredApprover()).run("pay the invoice")
    assert first.status == "waiting_approval"
    assert _forge(url, forgery) >= 1
    with pytest.raises(AuditError, match=rf"audit log disagrees .*{named} .* altered"):
        await _supervisor(model, url, DeferredApprover()).resume(first.run_id)
    assert PAID == []
