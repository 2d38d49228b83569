"""Real interactive sessions through a pseudo-terminal (pexpect), and the start-up time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest
from cli_demo import write_demo_project

from agentorch.store import open_store

AGENTORCH = [sys.executable, "-m", "agentorch"]


@pytest.fixture
def session(tmp_path: Path) -> dict[str, object]:
    demo = write_demo_project(tmp_path / "demo")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AGENTORCH_", "NO_COLOR", "DEMO_"))
    }
    env.update(
        AGENTORCH_STORE=f"sqlite:///{tmp_path / 'runs.db'}", COLUMNS="110", LINES="50", TERM="xterm"
    )
    return {"demo": demo, "env": env, "cwd": tmp_path}


def spawn(session: dict[str, object], *args: str, **env: str) -> pexpect.spawn:
    child = pexpect.spawn(
        AGENTORCH[0],
        [*AGENTORCH[1:], *args],
        env={**session["env"], **env},  # type: ignore[dict-item]
        cwd=str(session["cwd"]),
        encoding="utf-8",
        timeout=60,
        dimensions=(50, 110),
    )
    return child


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return int(
        child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0)
    )


def test_interactive_run_asks_for_approval_and_finishes(session: dict[str, object]) -> None:
    child = spawn(session, "run", str(session["demo"]))
    child.expect("Approval needed: tool call")
    child.expect("weekly report")  # the exact arguments are shown
    child.expect(r"\[a\]pprove / \[d\]eny / \[e\]dit arguments: ")
    child.sendline("a")
    child.expect("Run succeeded")
    child.expect(r"agentorch show ([0-9a-f]{12}) --trace")
    run_id = child.match.group(1)
    assert finish(child) == 0
    store = open_store(str(session["env"]["AGENTORCH_STORE"]))  # type: ignore[index]
    try:
        approval = store.approvals(run_id)[0]
        assert (
            approval.status == "approved"
            and approval.approver
            and approval.approver.startswith("terminal:")
        )
    finally:
        store.close()


def test_interactive_edit_of_arguments(session: dict[str, object]) -> None:
    child = spawn(session, "run", str(session["demo"]))
    child.expect(r"\[e\]dit arguments: ")
    child.sendline("e")
    child.expect("New arguments as one JSON object")
    child.sendline('{"title": "edited report"}')
    child.expect("Run succeeded")
    assert finish(child) == 0


def test_ctrl_c_checkpoints_and_resume_finishes(session: dict[str, object]) -> None:
    child = spawn(session, "run", str(session["demo"]), DEMO_DELAY="1.5")
    child.expect("1/3 done")  # the live view: step one finished, step two is running
    child.sendcontrol("c")
    child.expect(r"interrupted; its progress is saved")
    child.expect(r"agentorch resume ([0-9a-f]{12})")
    run_id = child.match.group(1)
    assert finish(child) == 130
    store = open_store(str(session["env"]["AGENTORCH_STORE"]))  # type: ignore[index]
    try:
        assert store.get_run(run_id).status == "interrupted"
        assert [s.step_id for s in store.get_steps(run_id) if s.status == "done"] == ["one"]
    finally:
        store.close()

    child = spawn(session, "resume", run_id)
    child.expect(r"\[a\]pprove")
    child.sendline("a")
    child.expect("Run succeeded")
    assert finish(child) == 0
    store = open_store(str(session["env"]["AGENTORCH_STORE"]))  # type: ignore[index]
    try:
        calls = [e for e in store.journal(run_id, kind="model") if e.step_id == "one"]
        assert len(calls) == 1  # step one was not run (or paid) again
    finally:
        store.close()


def test_review_plan_drop_a_step_then_run(session: dict[str, object]) -> None:
    child = spawn(session, "run", str(session["demo"]), "--review-plan")
    child.expect(r"\[a\]pprove / \[d\]rop STEP / \[e\]dit STEP / \[c\]ancel: ")
    child.sendline("e two")
    child.expect("New instruction")
    child.sendline("Do the second half, briefly.")
    child.expect("briefly")
    child.expect(r"\[c\]ancel: ")
    child.sendline("d publish")
    child.expect(r"\[c\]ancel: ")
    child.sendline("a")
    child.expect("Run succeeded")
    assert finish(child) == 0


def test_review_plan_cancel_spends_nothing(session: dict[str, object]) -> None:
    child = spawn(session, "run", str(session["demo"]), "--review-plan")
    child.expect(r"\[c\]ancel: ")
    child.sendline("c")
    child.expect("cancelled")
    assert finish(child) == 130
    store = open_store(str(session["env"]["AGENTORCH_STORE"]))  # type: ignore[index]
    try:
        (run,) = store.list_runs()  # the cancellation itself is on record
        assert run.status == "cancelled"
        assert store.get_steps(run.run_id) == []  # no step ran
        assert store.journal(run.run_id) == []  # no model or tool call was made
    finally:
        store.close()


def test_crash_mid_tool_call_leaves_it_in_doubt(session: dict[str, object], tmp_path: Path) -> None:
    env = {**session["env"], "DEMO_CRASH_FILE": str(tmp_path / "crashed")}  # type: ignore[dict-item]
    run = subprocess.run(
        [*AGENTORCH, "run", str(session["demo"]), "--approve-all", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 9  # the tool killed the process mid-call
    store = open_store(str(env["AGENTORCH_STORE"]))
    try:
        run_id = store.list_runs()[0].run_id
    finally:
        store.close()
    resumed = subprocess.run(
        [*AGENTORCH, "resume", run_id],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert resumed.returncode == 5, resumed.stdout + resumed.stderr
    assert "in doubt" in resumed.stdout
    decided = subprocess.run(
        [*AGENTORCH, "approve", run_id, "--decision", "mark_done", "--resume"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert decided.returncode == 0, decided.stdout + decided.stderr
    assert "Run succeeded" in decided.stdout


def test_init_then_agents_in_that_folder(session: dict[str, object], tmp_path: Path) -> None:
    env = session["env"]
    subprocess.run(
        [*AGENTORCH, "init", "proj"], env=env, cwd=tmp_path, check=True, capture_output=True
    )
    listed = subprocess.run(
        [*AGENTORCH, "agents"],
        env=env,
        cwd=tmp_path / "proj",
        capture_output=True,
        text=True,
        check=True,
    )
    assert "summarizer" in listed.stdout and "Summarizes notes" in listed.stdout
    assert "project:" in listed.stdout and "built-in" in listed.stdout


def test_help_and_version_are_fast_and_light() -> None:
    probe = (
        "import sys, time; t = time.perf_counter(); from agentorch.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('litellm', 'openai', 'anthropic', 'agentorch.supervisor', 'tiktoken') "
        "if m in sys.modules]\n"
        "print('HEAVY', heavy, round(time.perf_counter() - t, 3))"
    )
    for args in (["--help"], ["--version"], ["run", "--help"]):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True
        )
        elapsed = time.perf_counter() - started
        assert "HEAVY []" in out.stdout, out.stdout
        assert elapsed < 10  # generous: only catches a heavy import creeping in
    version = subprocess.run([*AGENTORCH, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("agentorch ")
    via_cli = subprocess.run(
        [sys.executable, "-m", "agentorch.cli", "--help"], capture_output=True, text=True
    )
    assert via_cli.returncode == 0 and "Usage: agentorch" in via_cli.stdout
