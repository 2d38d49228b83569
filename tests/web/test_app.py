"""The review inbox without a browser (Starlette's TestClient): sign-in, roles, CSRF, decisions
through the same code path as ``agentorch approve``, the first decision winning, the audit chain,
redaction, and a waiting run continuing after a web decision."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from web_helpers import PASSWORDS, Web, csrf_of

from agentorch.store import ApprovalRecord, RunRecord, StepRecord, open_store
from agentorch.store.base import Store
from agentorch.web import Resumer, create_app


@pytest.fixture(scope="module")
def app(web: Web, store: Store) -> Any:
    return create_app(store, web.users, resumer=Resumer(web.store_url, cwd=str(web.root)))


def client_for(app: Any, name: str | None) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    if name is not None:
        form = client.get("/login")
        signed = client.post(
            "/login",
            data={"username": name, "password": PASSWORDS[name], "csrf": csrf_of(form.text)},
        )
        assert signed.status_code == 303, signed.text
    return client


@pytest.fixture(scope="module")
def alice(app: Any) -> Iterator[TestClient]:
    with client_for(app, "alice") as client:
        yield client


@pytest.fixture(scope="module")
def victor(app: Any) -> Iterator[TestClient]:
    with client_for(app, "victor") as client:
        yield client


def decide(client: TestClient, run_id: str, request_id: str, decision: str, **extra: str) -> Any:
    page = client.get("/inbox")
    data = {
        "run_id": run_id,
        "request_id": request_id,
        "decision": decision,
        "csrf": csrf_of(page.text),
        **extra,
    }
    return client.post("/decide", data=data)


# --- identity ------------------------------------------------------------------------------------


def test_pages_and_api_need_a_signed_in_user(app: Any) -> None:
    anonymous = TestClient(app, follow_redirects=False)
    for path in ("/inbox", "/runs", "/runs/abc"):
        response = anonymous.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert anonymous.get("/api/inbox").status_code == 401
    form = anonymous.get("/login")
    refused = anonymous.post("/decide", data={"csrf": csrf_of(form.text)})
    assert refused.status_code == 303  # to the sign-in form, nothing decided


def test_wrong_password_is_refused_and_guessing_is_throttled(app: Any) -> None:
    client = TestClient(app, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        wrong = client.post("/login", data={"username": "ada", "password": "nope", "csrf": token})
        assert wrong.status_code == 401 and "Wrong name or password" in wrong.text
    right = client.post(
        "/login", data={"username": "ada", "password": PASSWORDS["ada"], "csrf": token}
    )
    assert right.status_code == 429 and "Too many failed sign-ins" in right.text
    app.state.inbox.throttle.succeeded("ada")  # the other tests sign in as ada


def test_sign_in_needs_the_forms_csrf_token(app: Any) -> None:
    client = TestClient(app, follow_redirects=False)
    client.get("/login")
    forged = client.post("/login", data={"username": "alice", "password": PASSWORDS["alice"]})
    assert forged.status_code == 403 and "CSRF" in forged.text


def test_session_cookie_is_http_only_and_strict(app: Any) -> None:
    client = TestClient(app, follow_redirects=False)
    response = client.get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


def test_secure_cookies_are_sent_over_https_only(web: Web, store: Store) -> None:
    client = TestClient(create_app(store, web.users, secure_cookies=True))
    assert "secure" in client.get("/login").headers["set-cookie"].lower()


def test_an_open_redirect_after_sign_in_is_refused(app: Any) -> None:
    client = TestClient(app, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    signed = client.post(
        "/login",
        data={
            "username": "victor",
            "password": PASSWORDS["victor"],
            "csrf": token,
            "next": "//evil.example/x",
        },
    )
    assert signed.headers["location"] == "/inbox"


def test_a_removed_user_is_signed_out(web: Web, store: Store) -> None:
    app = create_app(store, web.users)
    web.users.add("temp", "viewer", "temporary-pass-1")
    client = TestClient(app, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"username": "temp", "password": "temporary-pass-1", "csrf": token})
    assert client.get("/runs").status_code == 200
    web.users.remove("temp")
    assert client.get("/runs").status_code == 303


# --- the inbox and decisions ---------------------------------------------------------------------


def test_viewer_sees_the_inbox_but_cannot_decide(
    web: Web, store: Store, victor: TestClient
) -> None:
    run_id = web.waiting_run()
    (pending,) = store.approvals(run_id, pending_only=True)
    page = victor.get("/inbox")
    assert page.status_code == 200 and run_id in page.text
    assert "Tool <code>publish</code> in step publish" in page.text
    assert "weekly report" in page.text  # the exact arguments
    assert 'action="/decide"' not in page.text and "reviewers and admins decide" in page.text
    refused = decide(victor, run_id, pending.request_id, "approved")
    assert refused.status_code == 403
    assert store.get_approval(pending.request_id).status == "pending"


def test_a_decision_without_the_csrf_token_is_refused(
    web: Web, store: Store, alice: TestClient
) -> None:
    run_id = web.waiting_run()
    (pending,) = store.approvals(run_id, pending_only=True)
    data = {"run_id": run_id, "request_id": pending.request_id, "decision": "approved"}
    assert alice.post("/decide", data=data).status_code == 403
    assert alice.post("/decide", data={**data, "csrf": "forged"}).status_code == 403
    token = csrf_of(alice.get("/inbox").text)
    other_site = alice.post(
        "/decide", data={**data, "csrf": token}, headers={"origin": "https://evil.example"}
    )
    assert other_site.status_code == 403 and "another origin" in other_site.text
    assert store.get_approval(pending.request_id).status == "pending"


def test_a_web_decision_is_audited_like_a_cli_decision(
    web: Web, store: Store, alice: TestClient
) -> None:
    run_id = web.waiting_run()
    (pending,) = store.approvals(run_id, pending_only=True)
    no_reason = decide(alice, run_id, pending.request_id, "denied")
    assert no_reason.status_code == 400 and "needs a reason" in no_reason.text
    response = decide(
        alice,
        run_id,
        pending.request_id,
        "edited",
        arguments='{"title": "weekly report, final"}',
        comment="title agreed with the bid manager",
    )
    assert response.status_code == 303 and response.headers["location"] == f"/runs/{run_id}"
    decided = store.get_approval(pending.request_id)
    assert (decided.status, decided.approver, decided.comment) == (
        "edited",
        "web:alice",
        "title agreed with the bid manager",
    )
    assert decided.decided_arguments == {"title": "weekly report, final"}
    records = [e for e in store.events(run_id) if e.kind == "approval_decided"]
    assert len(records) == 1
    payload = records[0].payload
    assert payload["approver"] == "web:alice" and payload["decision"] == "edited"
    assert payload["arguments"] == {"title": "weekly report, final"}
    verdict = store.verify_audit(run_id)
    assert verdict.ok and verdict.tables_consistent, verdict
    page = alice.get(f"/runs/{run_id}")
    assert "web:alice" in page.text and "intact" in page.text


def test_the_first_of_two_decisions_wins(web: Web, store: Store, app: Any) -> None:
    run_id = web.waiting_run()
    (pending,) = store.approvals(run_id, pending_only=True)
    with client_for(app, "alice") as first, client_for(app, "ada") as second:
        shown_first, shown_second = first.get("/inbox").text, second.get("/inbox").text
        data = {"run_id": run_id, "request_id": pending.request_id}
        won = first.post(
            "/decide", data={**data, "decision": "approved", "csrf": csrf_of(shown_first)}
        )
        lost = second.post(
            "/decide",
            data={
                **data,
                "decision": "denied",
                "comment": "too late",
                "csrf": csrf_of(shown_second),
            },
            headers={"hx-request": "true"},
        )
    assert won.status_code == 303
    assert lost.status_code == 200 and "already approved by web:alice" in lost.text
    assert store.get_approval(pending.request_id).status == "approved"
    assert store.verify_audit(run_id).ok


def test_two_servers_deciding_at_the_same_instant_record_one_decision(web: Web) -> None:
    """Two server processes' worth of apps, each with its own store connection, race."""
    run_id = web.waiting_run()
    stores = [open_store(web.store_url) for _ in range(2)]
    (pending,) = stores[0].approvals(run_id, pending_only=True)
    clients = [
        client_for(create_app(s, web.users), name)
        for s, name in zip(stores, ("alice", "ada"), strict=True)
    ]
    tokens = [csrf_of(c.get("/inbox").text) for c in clients]
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def go(i: int) -> None:
        barrier.wait()
        results[i] = clients[i].post(
            "/decide",
            data={
                "run_id": run_id,
                "request_id": pending.request_id,
                "decision": "approved" if i == 0 else "denied",
                "comment": f"decided by client {i}",
                "csrf": tokens[i],
            },
        )

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes == [303, 409], [r.text[:300] for r in results]
    decided = stores[0].get_approval(pending.request_id)
    assert decided.approver in ("web:alice", "web:ada")
    assert [e.kind for e in stores[0].events(run_id)].count("approval_decided") == 1
    assert stores[0].verify_audit(run_id).ok
    for s in stores:
        s.close()


def test_api_token_decides_without_a_session(web: Web, store: Store, app: Any) -> None:
    run_id = web.waiting_run()
    (pending,) = store.approvals(run_id, pending_only=True)
    token = web.users.new_token("alice")
    viewer_token = web.users.new_token("victor")
    client = TestClient(app)
    assert (
        client.get("/api/inbox", headers={"authorization": "Bearer aotk_wrong"}).status_code == 401
    )
    listed = client.get("/api/inbox", headers={"authorization": f"Bearer {viewer_token}"})
    assert pending.request_id in [p["request_id"] for p in listed.json()["pending"]]
    body = {"run_id": run_id, "request_id": pending.request_id, "decision": "approved"}
    refused = client.post(
        "/api/decide", json=body, headers={"authorization": f"Bearer {viewer_token}"}
    )
    assert refused.status_code == 403
    done = client.post("/api/decide", json=body, headers={"authorization": f"Bearer {token}"})
    assert done.status_code == 200 and done.json()["approver"] == "web:alice"
    again = client.post("/api/decide", json=body, headers={"authorization": f"Bearer {token}"})
    assert again.status_code == 409 and again.json()["status"] == "approved"


def test_escalation_shows_the_reviewers_points(web: Web, store: Store, alice: TestClient) -> None:
    """The card shows what ``agentorch approve`` shows: asked, proposed, values, reasons, flags."""
    run_id = "e5ca1a7e0001"
    store.create_run(
        RunRecord(
            run_id=run_id,
            task="Respond to the RFP",
            status="waiting_approval",
            plan={
                "steps": [
                    {"id": "write_sla", "agent": "writer"},
                    {"id": "critic_sla", "agent": "critic", "reviews": "write_sla"},
                ]
            },
            created_at=time.time(),
        )
    )
    store.save_step(StepRecord(run_id=run_id, step_id="write_sla", agent="writer", status="done"))
    store.save_step(
        StepRecord(
            run_id=run_id,
            step_id="critic_sla",
            agent="critic",
            status="done",
            output={
                "verdict": "escalate",
                "confidence": 0.4,
                "reasons": ["R-4.1 (Availability) commits us on service levels"],
                "flags": ["pricing_commitment"],
                "points": [
                    {
                        "item": "R-4.1 Availability (must): pricing commitment",
                        "asked": "The Solution shall be available 100% of the time.",
                        "proposed": "[AA-025] We commit to 99.9% monthly availability.",
                        "values": [
                            {
                                "label": "availability",
                                "required": "≥ 100%",
                                "offered": "99.9%",
                                "verdict": "falls short",
                            }
                        ],
                        "reason": "Any SLA above 99.9% needs Finance sign-off.",
                    }
                ],
            },
        )
    )
    store.create_approval(
        ApprovalRecord(
            request_id=f"{run_id}:write_sla:r0:escalation",
            run_id=run_id,
            step_id="write_sla",
            agent="writer",
            subject="escalation",
            reason="critic escalated: R-4.1 commits us on price",
            created_at=time.time(),
        )
    )
    page = alice.get(f"/inbox?run={run_id}").text
    for shown in (
        "The Solution shall be available 100% of the time.",
        "[AA-025] We commit to 99.9% monthly availability.",
        "≥ 100%",
        "99.9%",
        "falls short",
        "Any SLA above 99.9% needs Finance sign-off.",
        "R-4.1 (Availability) commits us on service levels",
        "pricing commitment",
        "critic escalated: R-4.1 commits us on price",
    ):
        assert shown in page, shown
    run_page = alice.get(f"/runs/{run_id}").text
    assert "Waiting for 1 decision" in run_page and "critic_sla" in run_page


def test_no_secret_reaches_a_page(web: Web, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-test" + "9" * 40
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    app = create_app(store, web.users)  # its redactor knows the environment's secrets
    run_id = "5ec7e70000aa"
    store.create_run(RunRecord(run_id=run_id, task="leaky", status="waiting_approval"))
    store.create_approval(
        ApprovalRecord(
            request_id=f"{run_id}:call",
            run_id=run_id,
            step_id="call",
            tool="http_post",
            arguments={"header": f"Authorization: Bearer {secret}", "url": "https://x.test"},
            reason=f"posting with {secret}",
            created_at=time.time(),
        )
    )
    client = client_for(app, "alice")
    for path in ("/inbox", f"/runs/{run_id}", "/runs", "/api/inbox"):
        assert secret not in client.get(path).text, path
    assert "[REDACTED]" in client.get("/inbox").text  # the rest of the card is shown


def test_runs_page_filters(web: Web, alice: TestClient) -> None:
    web.waiting_run()
    page = alice.get("/runs?status=waiting_approval&waiting=1").text
    assert "waiting approval" in page and "tool publish (publish)" in page
    assert "No runs match" in alice.get("/runs?q=no-such-run-anywhere").text
    assert alice.get("/runs/nosuchrun").status_code == 404


# --- the run continues ---------------------------------------------------------------------------


def test_a_waiting_run_continues_after_a_web_decision(
    web: Web, store: Store, app: Any, alice: TestClient
) -> None:
    run_id = web.waiting_run()
    (pending,) = store.approvals(run_id, pending_only=True)
    page = alice.get(f"/runs/{run_id}").text
    assert "Continue the run" not in page  # a decision is still missing
    token = csrf_of(page)
    early = alice.post(f"/runs/{run_id}/resume", data={"csrf": token})
    assert early.status_code == 400 and "decide them first" in early.text
    assert (
        decide(alice, run_id, pending.request_id, "approved", comment="ship it").status_code == 303
    )
    page = alice.get(f"/runs/{run_id}").text
    assert "Continue the run" in page
    started = alice.post(f"/runs/{run_id}/resume", data={"csrf": csrf_of(page)})
    assert started.status_code == 303
    deadline = time.monotonic() + 120
    while store.get_run(run_id).status != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.5)
    record = store.get_run(run_id)
    assert record.status == "succeeded", alice.get(f"/runs/{run_id}").text[-3000:]
    (call,) = store.journal(run_id, kind="tool")
    assert call.status == "completed" and "published weekly report" in str(call.result)
    assert store.verify_audit(run_id).ok
    resumption = app.state.inbox.resumer.get(run_id)
    while resumption.running and time.monotonic() < deadline:
        time.sleep(0.2)
    shown = alice.get(f"/runs/{run_id}").text
    assert "succeeded" in shown and "ended: the run finished (exit code 0)" in shown


def test_a_run_waiting_at_the_terminal_prompt_continues_after_a_web_decision(
    web: Web, store: Store, alice: TestClient
) -> None:
    """The first decision wins: the prompt is withdrawn and the run goes on with the web's."""
    import os
    import sys

    import pexpect

    env = {k: v for k, v in os.environ.items() if k != "AGENTORCH_STORE"}
    env.update(AGENTORCH_STORE=web.store_url, COLUMNS="110", LINES="50", TERM="xterm")
    before = {r.run_id for r in store.list_runs(limit=500)}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "agentorch", "run", str(web.project)],
        env=env,
        cwd=str(web.root),
        encoding="utf-8",
        timeout=90,
        dimensions=(50, 110),
    )
    try:
        child.expect(r"\[a\]pprove / \[d\]eny / \[e\]dit arguments: ")
        (run,) = [r for r in store.list_runs(limit=500) if r.run_id not in before]
        (pending,) = store.approvals(run.run_id, pending_only=True)
        decided = decide(alice, run.run_id, pending.request_id, "approved", comment="from the web")
        assert decided.status_code == 303
        child.expect("Run succeeded")  # the prompt was withdrawn: no answer at the terminal
        child.expect(pexpect.EOF)
    except pexpect.EOF:
        raise AssertionError(f"the session ended early: {child.before[-3000:]}") from None
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert store.get_run(run.run_id).status == "succeeded"
    (approval,) = store.approvals(run.run_id)
    assert (approval.status, approval.approver) == ("approved", "web:alice")
    assert store.verify_audit(run.run_id).ok


def test_a_run_on_temporal_is_signalled_not_resumed(
    web: Web, store: Store, alice: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As after ``agentorch approve``: the waiting workflow hears of the decision and goes on."""
    import agentorch.temporal

    run_id = web.waiting_run()
    store.update_run(run_id, spec={**store.get_run(run_id).spec, "temporal": {"address": "x:1"}})
    signalled: list[tuple[str, str]] = []

    async def notify(spec: Any, rid: str, request_id: str) -> bool:
        signalled.append((rid, request_id))
        return True

    monkeypatch.setattr(agentorch.temporal, "notify_decision", notify)
    (pending,) = store.approvals(run_id, pending_only=True)
    page = alice.get("/inbox").text
    done = alice.post(
        "/decide",
        data={
            "run_id": run_id,
            "request_id": pending.request_id,
            "decision": "approved",
            "csrf": csrf_of(page),
        },
        headers={"hx-request": "true"},
    )
    assert done.status_code == 200 and "web:alice" in done.text
    assert "Continue the run" not in done.text  # the workflow continues by itself
    assert signalled == [(run_id, pending.request_id)]
    assert "Continue the run" not in alice.get(f"/runs/{run_id}").text
    refused = alice.post(f"/runs/{run_id}/resume", data={"csrf": csrf_of(page)})
    assert refused.status_code == 400 and "runs on Temporal" in refused.text
