"""The review inbox in a real browser: Debian's chromium driven by Playwright.

One server and one browser for the module. The RFP workflow runs offline without a terminal, so
it waits in the store; a reviewer signs in, reads the escalations, decides them in the inbox and
continues the run from its page, round after round, until the run ends. Each page's screenshot is
kept in ``test-artefacts/web/`` (or ``$AGENTORCH_TEST_ARTEFACTS``), and copied to docs/images/
when ``AGENTORCH_DOC_IMAGES=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from local_servers import free_port
from web_helpers import PASSWORDS, make_users, waiting_run

from agentorch.store import open_store
from agentorch.web import Resumer, create_app

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
DOC_IMAGES = ROOT / "docs" / "images"
#: The flags every test browser starts with: headless, no sandbox (root in CI), nothing that
#: reaches the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium: apt-get install -y chromium"
)


class Site:
    def __init__(
        self, root: Path, url: str, store: Any, resumer: Resumer, rfp_run: str, demo_run: str
    ) -> None:
        self.root, self.url, self.store, self.resumer = root, url, store, resumer
        self.rfp_run, self.demo_run = rfp_run, demo_run
        given = os.environ.get("AGENTORCH_TEST_ARTEFACTS")
        self.artefacts = Path(given) if given else ROOT / "test-artefacts" / "web"
        self.artefacts.mkdir(parents=True, exist_ok=True)

    def shot(self, page: Any, name: str, *, full_page: bool = False) -> Path:
        path = self.artefacts / f"review-inbox-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if os.environ.get("AGENTORCH_DOC_IMAGES") == "1":
            DOC_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOC_IMAGES / path.name)
        return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn
    from cli_demo import write_demo_project

    root = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{root / 'runs.db'}"
    env = {k: v for k, v in os.environ.items() if k != "AGENTORCH_STORE"}  # same audit key
    # the example copied in, so every path the pages show is inside the server's folder
    shutil.copytree(ROOT / "examples" / "rfp", root / "rfp", ignore=shutil.ignore_patterns("out"))
    done = subprocess.run(
        [sys.executable, "-m", "agentorch", "run", str(root / "rfp"), "--json"],
        cwd=root,
        env={**env, "AGENTORCH_STORE": url},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-2000:]  # waiting
    rfp_run = json.loads(done.stdout)["run_id"]
    demo_run = waiting_run(write_demo_project(root / "demo"), url)
    store = open_store(url)
    users = make_users(root / "users.json")
    resumer = Resumer(url, cwd=str(root))
    app = create_app(store, users, resumer=resumer, poll_seconds=0.5)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                       timeout_graceful_shutdown=1)
    )  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield Site(root, f"http://127.0.0.1:{port}", store, resumer, rfp_run, demo_run)
    server.should_exit = True
    thread.join(timeout=10)
    resumer.close(wait=30)
    store.close()


@pytest.fixture(scope="module")
def page(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh user-data-dir
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 860},
        )
        context.set_default_timeout(30_000)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on(
            "console",
            lambda msg: errors.append(msg.text) if msg.type == "error" else None,
        )
        tab.errors = errors
        yield tab
        context.close()


def test_sign_in(site: Site, page: Any) -> None:
    page.goto(site.url + "/inbox")
    assert page.url.startswith(site.url + "/login")
    site.shot(page, "login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "not her password")
    page.click("button[type=submit]")
    assert "Wrong name or password" in page.inner_text(".error")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORDS["alice"])
    page.click("button[type=submit]")
    page.wait_for_url(site.url + "/inbox")
    assert "alice · reviewer" in page.inner_text("header")
    page.errors.clear()  # the refused password's 401; from here on, no error is expected


def test_the_inbox_shows_what_a_person_decides(site: Site, page: Any) -> None:
    page.goto(site.url + "/inbox")
    cards = page.locator("article.card")
    escalations = len(site.store.approvals(site.rfp_run, pending_only=True))
    assert escalations >= 1 and cards.count() == escalations + 1  # and the demo's tool call
    # a compliance escalation with values side by side (the first card may be a section whose
    # requirements have no approved answer at all: nothing offered to compare)
    first = cards.filter(has_text="offered").first
    text = first.inner_text()
    for shown in ("ASKED", "PROPOSED", "REQUIRED", "OFFERED", "compliance", "escalate"):
        assert shown.upper() in text.upper(), shown
    assert "weekly report" in page.locator("article.card", has_text="publish").inner_text()
    site.shot(page, "inbox")


def test_a_decision_in_the_browser_is_audited(site: Site, page: Any) -> None:
    page.goto(f"{site.url}/inbox?run={site.demo_run}")
    card = page.locator("article.card").first
    before = int(page.inner_text("#inbox-count"))
    card.locator("textarea[name=comment]").fill("Title checked with the bid manager")
    card.locator("button[value=approved]").click()
    decided = page.locator("article.card.decided")
    decided.wait_for()
    assert "approved" in decided.inner_text() and "web:alice" in decided.inner_text()
    assert decided.locator("form.resume button").is_visible()  # the run's last decision
    assert int(page.inner_text("#inbox-count")) == before - 1  # the header's count follows
    site.shot(page, "decided")
    (record,) = site.store.approvals(site.demo_run)
    assert (record.status, record.approver, record.comment) == (
        "approved",
        "web:alice",
        "Title checked with the bid manager",
    )
    assert site.store.verify_audit(site.demo_run).ok


def test_runs_page(site: Site, page: Any) -> None:
    page.goto(site.url + "/runs")
    rows = page.locator("table.runs tbody tr")
    assert rows.count() == 2
    assert "decisions" in rows.filter(has_text=site.rfp_run).inner_text()
    site.shot(page, "runs")
    page.goto(site.url + "/runs?waiting=1")
    assert page.locator("table.runs tbody tr").count() == 1


def _decide_all(site: Site, page: Any, run_id: str, round_: int) -> None:
    """Decide every pending approval of the run in its inbox: approve, but refuse to submit."""
    page.goto(f"{site.url}/inbox?run={run_id}")
    while page.locator("article.card:not(.decided) form.decide").count():
        card = page.locator("article.card:not(.decided)").first
        tool = card.locator("h2 code").all_inner_texts()
        if tool == ["submit_response"]:
            card.locator("textarea[name=comment]").fill("Finance has not signed the price form")
            card.locator("button[value=denied]").click()
        else:
            card.locator("textarea[name=comment]").fill(f"Reviewed in round {round_}")
            card.locator("button[value=approved]").click()
        page.locator("article.card.decided").nth(0).wait_for()
        page.goto(f"{site.url}/inbox?run={run_id}")


def test_the_run_continues_after_the_decisions(site: Site, page: Any) -> None:
    run_id = site.rfp_run
    for round_ in range(1, 6):
        if site.store.get_run(run_id).status not in ("waiting_approval",):
            break
        _decide_all(site, page, run_id, round_)
        page.goto(f"{site.url}/runs/{run_id}")
        if round_ == 1:
            site.shot(page, "run-ready")
        page.click("form.resume button[type=submit]")
        # the page follows the run live: its events arrive without a reload
        page.locator("#events tr.run_resumed").first.wait_for(timeout=120_000)
        page.locator("#events tr.run_finished").first.wait_for(timeout=300_000)
        deadline = time.monotonic() + 120
        while site.resumer.get(run_id).running and time.monotonic() < deadline:  # type: ignore[union-attr]
            time.sleep(0.2)
    record = site.store.get_run(run_id)
    assert record.status not in ("waiting_approval", "running"), record.status
    decided = site.store.approvals(run_id)
    assert all(a.status != "pending" for a in decided)
    assert {a.approver for a in decided} == {"web:alice"}
    assert any(a.tool == "submit_response" and a.status == "denied" for a in decided)
    assert site.store.verify_audit(run_id).ok
    page.goto(f"{site.url}/runs/{run_id}")
    assert page.locator("#audit").inner_text() == "INTACT"
    assert "response.md" in page.inner_text("main") and "bid-review.md" in page.inner_text("main")
    site.shot(page, "run")
    page.locator("section.document summary").first.click()
    page.locator("section.document .markdown h1").first.wait_for()
    page.locator("section.document").first.scroll_into_view_if_needed()
    site.shot(page, "document")
    assert not page.errors, page.errors
