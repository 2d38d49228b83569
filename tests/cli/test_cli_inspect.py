"""``runs``, ``show --trace``, ``audit``, ``policy check``, ``agents``, ``tools`` and ``init``."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from cli_runner import Cli

from agentorch.cli.errors import EXIT_FAILED, EXIT_USER_ERROR


def finished_run(cli: Cli, demo: Path) -> str:
    result = cli("run", str(demo), "--approve-all")
    assert result.exit_code == 0, result.output
    match = re.search(r"Run id\s+([0-9a-f]{12})", result.stdout)
    assert match
    return match.group(1)


def test_runs_lists_id_status_task_cost_age(cli: Cli, demo: Path) -> None:
    assert "No runs yet" in cli("runs").stdout
    rid = finished_run(cli, demo)
    out = cli("runs").stdout
    assert rid in out and "succeeded" in out and "demo: Write the weekly" in out and "$0.00" in out
    assert re.search(r"\d+[smhd] ", out)
    data = json.loads(cli("runs", "--json").stdout)
    assert data["runs"][0]["run_id"] == rid


def test_show_prints_plan_steps_and_output(cli: Cli, demo: Path) -> None:
    rid = finished_run(cli, demo)
    out = cli("show", rid).stdout
    assert f"Run       {rid}" in out and "succeeded" in out and "Write the weekly report" in out
    for step in ("one", "two", "publish"):
        assert re.search(rf"│ {step}\s+│ \w+\s+│ done", out)
    assert "Output: the report is published" in out
    data = json.loads(cli("show", rid, "--json").stdout)
    assert [s["step_id"] for s in data["steps"]] == ["one", "two", "publish"]


def test_show_trace_is_a_tree_with_timings_tokens_cost(cli: Cli, demo: Path) -> None:
    rid = finished_run(cli, demo)
    out = cli("show", rid, "--trace").stdout
    assert f"run {rid}" in out
    assert re.search(r"one worker\s+ok\s+\d+\.\d\ds", out)
    assert re.search(
        r"chat function:offline-worker\s+ok\s+\d+\.\d\ds\s+\d+ in / \d+ out\s+\$0\.00", out
    )
    assert re.search(r"tool publish\s+ok", out)
    assert "approval" in out and "approved by cli:approve-all" in out
    tree = json.loads(cli("show", rid, "--trace", "--json").stdout)
    assert tree["kind"] == "run" and [c["id"] for c in tree["children"]] == [
        "one",
        "two",
        "publish",
    ]


def test_audit_verify_and_tampering(cli: Cli, demo: Path) -> None:
    rid = finished_run(cli, demo)
    ok = cli("audit", "verify", rid)
    assert ok.exit_code == 0 and "is intact" in ok.stdout
    assert "hash chain intact" in ok.stdout and "signed with the audit key" in ok.stdout
    assert "match the chain" in ok.stdout
    db = cli.store_url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:  # edit one recorded event behind the store's back
        (seq,) = conn.execute(
            "select min(seq) from events where run_id = ? and payload like '%worker%'", (rid,)
        ).fetchone()
        conn.execute(
            "update events set payload = replace(payload, 'worker', 'hacker') "
            "where run_id = ? and seq = ?",
            (rid, seq),
        )
    bad = cli("audit", "verify", rid)
    assert bad.exit_code == EXIT_FAILED
    assert "TAMPERED" in bad.stdout and f"first bad record #{seq}" in bad.stdout
    assert json.loads(cli("audit", "verify", rid, "--json").stdout)["first_bad_seq"] == seq


def test_audit_verify_names_a_forged_approval_and_a_missing_key(
    cli: Cli, demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = finished_run(cli, demo)
    db = cli.store_url.removeprefix("sqlite:///")
    with sqlite3.connect(db) as conn:
        conn.execute("update approvals set approver = 'mallory' where run_id = ?", (rid,))
    bad = cli("audit", "verify", rid)
    assert bad.exit_code == EXIT_FAILED
    said = " ".join(bad.stdout.split())
    assert "differs from what the audit chain recorded" in said and "hash chain intact" in said
    with sqlite3.connect(db) as conn:
        conn.execute("update approvals set approver = 'cli:approve-all' where run_id = ?", (rid,))
    monkeypatch.delenv("AGENTORCH_AUDIT_KEY")
    monkeypatch.setenv("AGENTORCH_AUDIT_KEY_FILE", str(cli.cwd / "no-such.key"))
    keyless = cli("audit", "verify", rid)
    assert keyless.exit_code == 0, keyless.stdout
    said = " ".join(keyless.stdout.split())
    assert "no audit key" in said and "undetectable" in said


def test_audit_export_writes_jsonl(cli: Cli, demo: Path) -> None:
    rid = finished_run(cli, demo)
    to_stdout = cli("audit", "export", rid)
    records = [json.loads(line) for line in to_stdout.stdout.splitlines()]
    assert records[0]["kind"] == "run_started"
    assert [r["kind"] for r in records][-2:] == ["run_finished", "rows_recorded"]
    assert all({"seq", "hash", "prev_hash", "payload"} <= set(r) for r in records)
    assert cli("audit", "export", rid, "-o", "audit/run.jsonl").exit_code == 0
    assert len((cli.cwd / "audit" / "run.jsonl").read_text().splitlines()) == len(records)
    into_a_folder = cli("audit", "export", rid, "-o", "audit")
    assert into_a_folder.exit_code == 2 and "Traceback" not in into_a_folder.output
    assert into_a_folder.stderr.startswith("error: --output audit is a folder, not a file")
    assert "hint: " in into_a_folder.stderr


def test_policy_check_prints_what_each_agent_may_do(cli: Cli, demo: Path) -> None:
    out = cli("policy", "check", str(demo / "policy.toml"), "--project", str(demo))
    assert out.exit_code == 0, out.output
    text = out.stdout
    assert "is valid" in text and "hash" in text
    assert re.search(r"publisher\s+risk ceiling: write", text)
    assert re.search(r"publish\s+write\s+always\s+tool 'publish' always requires approval", text)
    assert "worker" in text and "may call no tools" in text


def test_policy_check_finds_the_project_of_the_policy_file(cli: Cli, demo: Path) -> None:
    # run from elsewhere, no --project: the policy's own folder is its project
    assert cli.cwd != demo
    out = cli("policy", "check", str(demo / "policy.toml"))
    assert out.exit_code == 0, out.output
    assert re.search(r"publisher\s+risk ceiling: write", out.stdout)


def test_policy_check_reports_bad_policy_with_line(cli: Cli, demo: Path) -> None:
    bad = demo / "bad.toml"
    bad.write_text('version = 1\n[agents.publisher]\nrisk_ceiling = "reckless"\n')
    result = cli("policy", "check", str(bad), "--project", str(demo))
    assert (
        result.exit_code == EXIT_USER_ERROR
        and "reckless" in result.stderr
        and "Traceback" not in result.output
    )
    unknown = demo / "unknown.toml"
    unknown.write_text('version = 1\n[agents.ghost]\nallow = ["publish"]\n')
    result = cli("policy", "check", str(unknown), "--project", str(demo))
    assert result.exit_code == EXIT_USER_ERROR and "ghost" in result.stderr


def test_agents_and_tools_list_builtins_and_project(cli: Cli, demo: Path) -> None:
    agents = cli("agents", "--project", str(demo))
    assert agents.exit_code == 0, agents.output
    assert re.search(
        r"publisher\s+│ Publishes the report\.\s+│ openai:gpt-4\.1-mini", agents.stdout
    )
    assert "publish (write)" in agents.stdout and "project: " in agents.stdout
    data = json.loads(cli("agents", "--project", str(demo), "--json").stdout)
    sources = {a["name"]: a["source"] for a in data["agents"]}
    assert sources["publisher"].startswith("project") and sources["parser"] == "built-in"
    tools = cli("tools", "--project", str(demo))
    assert re.search(r"publish\s+│ write\s+│ always", tools.stdout)
    assert re.search(r"read_document\s+│ read\s+│ by policy\s+│ built-in", tools.stdout)


def test_agents_reports_a_broken_project_file(cli: Cli, demo: Path) -> None:
    (demo / "agents" / "broken.py").write_text("class Oops(:\n")
    result = cli("agents", "--project", str(demo))
    assert result.exit_code == EXIT_USER_ERROR
    assert "syntax error" in result.stderr and "broken.py" in result.stderr


def test_init_scaffolds_a_project_that_runs_offline(cli: Cli) -> None:
    result = cli("init", "newproj")
    assert result.exit_code == 0, result.output
    root = cli.cwd / "newproj"
    for rel in (
        "agents/summarizer.py",
        "tools/text_tools.py",
        "policy.toml",
        "workflow.py",
        "README.md",
    ):
        assert (root / rel).is_file(), rel
    assert "newproj" in (root / "workflow.py").read_text()
    agents = cli("agents", "--project", str(root))
    assert "summarizer" in agents.stdout and "word_count (read)" in agents.stdout
    assert cli("policy", "check", str(root / "policy.toml"), "--project", str(root)).exit_code == 0
    ran = cli("run", str(root))
    assert ran.exit_code == 0, ran.output
    assert "Length: " in ran.stdout and "words" in ran.stdout
    again = cli("init", "newproj")
    assert again.exit_code == EXIT_USER_ERROR and "--force" in again.stderr
    assert cli("init", "newproj", "--force").exit_code == 0


def test_policy_check_understands_nested_agent_paths(cli: Cli, demo: Path) -> None:
    nested = demo / "nested.toml"
    nested.write_text('version = 1\n[agents."team.publisher"]\ndeny = ["publish"]\n')
    out = cli("policy", "check", str(nested), "--project", str(demo))
    assert out.exit_code == 0, out.output
    assert re.search(r"team\.publisher\s+\(an agent of a nested supervisor\)", out.stdout)
    nested_block = out.stdout.split("team.publisher", 1)[1]
    assert "denied by the policy" not in out.stdout
    assert re.search(r"refused:[^\n]*\bpublish\b", nested_block)  # other tools may come first

    typo = demo / "typo.toml"
    typo.write_text('version = 1\n[agents."team.publsher"]\ndeny = ["publish"]\n')
    result = cli("policy", "check", str(typo), "--project", str(demo))
    assert result.exit_code == EXIT_USER_ERROR
    assert "line 2" in result.stderr and "did you mean 'publisher'" in result.stderr

    unquoted = demo / "unquoted.toml"
    unquoted.write_text('version = 1\n[agents.team.publisher]\ndeny = ["publish"]\n')
    result = cli("policy", "check", str(unquoted), "--project", str(demo))
    assert result.exit_code == EXIT_USER_ERROR
    assert '[agents."team.publisher"]' in result.stderr


def test_the_bundled_rfp_example_runs_by_name_and_copies_out(cli: Cli) -> None:
    copied = cli("init", "--example", "rfp", "my-rfp")
    assert copied.exit_code == 0, copied.output
    root = cli.cwd / "my-rfp"
    assert (root / "workflow.py").is_file() and (root / "library").is_dir()
    assert not (root / "out").exists()
    again = cli("init", "--example", "rfp", "my-rfp")
    assert again.exit_code == EXIT_USER_ERROR and "--force" in again.stderr
    unknown = cli("init", "--example", "rpf")
    assert unknown.exit_code == EXIT_USER_ERROR and "bundled examples: rfp" in unknown.stderr

    from agentorch.cli.prepare import resolve_target
    from agentorch.discovery import bundled_examples

    target = resolve_target("rfp")  # no ./rfp here: the bundled example
    assert target.kind == "workflow" and Path(target.value) == bundled_examples()["rfp"]


def test_runs_lists_a_run_in_every_status(cli: Cli) -> None:
    """``runs`` and ``show`` render every status a run can have, even ones without a colour."""
    from typing import get_args

    from agentorch.store import open_store
    from agentorch.store.base import RunRecord, RunStatus

    statuses = get_args(RunStatus)
    store = open_store(cli.store_url)
    try:
        for i, status in enumerate(statuses):
            store.create_run(RunRecord(run_id=f"run{i:09d}", task=f"task [b]{status}[/]"))
            store.update_run(f"run{i:09d}", status=status)
    finally:
        store.close()
    result = cli("runs", "--limit", "50")
    assert result.exit_code == 0, result.output
    for i, status in enumerate(statuses):
        assert f"run{i:09d}" in result.stdout and status in result.stdout
        shown = cli("show", f"run{i:09d}")
        assert shown.exit_code == 0, shown.output
        assert status in shown.stdout
        assert cli("runs", "--status", status).exit_code == 0
    assert "[b]" in result.stdout  # a task's brackets are text, not markup
