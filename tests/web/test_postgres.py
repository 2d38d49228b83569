"""The review inbox over a team's PostgreSQL store: two servers race, one decision wins, the run
continues, and the audit log stays intact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pg_fixture import pg_server, pg_url  # noqa: F401  (fixtures)
from starlette.testclient import TestClient
from web_helpers import PASSWORDS, csrf_of, make_users

from agentorch.store import open_store
from agentorch.web import Resumer, create_app

pytestmark = pytest.mark.postgres


def waiting_run(project: Path, url: str) -> str:
    """The demo run, waiting for its publish approval (its own process, as a runner would be)."""
    env = {**os.environ, "AGENTORCH_STORE": url}
    done = subprocess.run(
        [sys.executable, "-m", "agentorch", "run", str(project), "--json"],
        env=env, cwd=project.parent, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    return str(json.loads(done.stdout)["run_id"])


def signed_in(app: Any, name: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"username": name, "password": PASSWORDS[name], "csrf": token})
    return client


def test_two_servers_over_postgres_then_the_run_continues(pg_url: str, tmp_path: Path) -> None:  # noqa: F811
    from cli_demo import write_demo_project

    run_id = waiting_run(write_demo_project(tmp_path / "demo"), pg_url)
    users = make_users(tmp_path / "users.json")
    stores = [open_store(pg_url) for _ in range(2)]
    try:
        apps = [create_app(s, users, resumer=Resumer(pg_url, cwd=str(tmp_path))) for s in stores]
        clients = [signed_in(app, name) for app, name in zip(apps, ("alice", "ada"), strict=True)]
        (pending,) = stores[0].approvals(run_id, pending_only=True)
        tokens = [csrf_of(c.get("/inbox").text) for c in clients]
        assert all("Tool <code>publish</code>" in c.get("/inbox").text for c in clients)
        barrier = threading.Barrier(2)
        codes: list[int] = [0, 0]

        def go(i: int) -> None:
            barrier.wait()
            codes[i] = (
                clients[i]
                .post(
                    "/decide",
                    data={
                        "run_id": run_id,
                        "request_id": pending.request_id,
                        "decision": "approved",
                        "comment": f"server {i}",
                        "csrf": tokens[i],
                    },
                )
                .status_code
            )

        threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [303, 409]
        assert [e.kind for e in stores[1].events(run_id)].count("approval_decided") == 1
        assert stores[1].verify_audit(run_id).ok

        winner = stores[0].get_approval(pending.request_id)
        assert (winner.status, winner.approver, winner.comment) in (
            ("approved", "web:alice", "server 0"),
            ("approved", "web:ada", "server 1"),
        )
        page = clients[0].get(f"/runs/{run_id}").text
        assert (
            clients[0].post(f"/runs/{run_id}/resume", data={"csrf": csrf_of(page)}).status_code
            == 303
        )
        deadline = time.monotonic() + 120
        while stores[1].get_run(run_id).status != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert stores[1].get_run(run_id).status == "succeeded"
        assert stores[1].verify_audit(run_id).ok
        apps[0].state.inbox.resumer.close(wait=60)
    finally:
        for s in stores:
            s.close()
