"""Where the command writes (``--output``, ``--events``, ``audit export -o``): one rule for all.

Missing folders are made; a file where a folder is needed, or a folder where a file is, is a
one-line error before anything runs, so no failed run is left behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_runner import Cli
from test_cli_run import run_id_of

from agentorch.cli.errors import EXIT_OK, EXIT_USER_ERROR, EXIT_WAITING
from agentorch.events import read_jsonl
from agentorch.store import open_store


def _runs(cli: Cli) -> list[str]:
    store = open_store(cli.store_url)
    try:
        return [record.run_id for record in store.list_runs()]
    finally:
        store.close()


def test_missing_folders_are_made_for_events_and_output(cli: Cli, demo: Path) -> None:
    result = cli(
        "run", str(demo), "--approve-all", "--events", "logs/a/run.jsonl", "-o", "results/b"
    )
    assert result.exit_code == EXIT_OK, result.output
    kinds = [e.kind for e in read_jsonl(cli.cwd / "logs" / "a" / "run.jsonl")]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert (cli.cwd / "results" / "b").is_dir()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--events", "notes.txt/run.jsonl"], "--events notes.txt/run.jsonl: notes.txt is a file"),
        (["--events", "logs"], "--events logs is a folder, not a file"),
        (
            ["--output", "notes.txt/out"],
            "--output notes.txt/out: notes.txt is a file, not a folder",
        ),
        (["--output", "notes.txt"], "--output notes.txt is a file, not a folder"),
    ],
)
def test_a_bad_output_path_is_refused_before_the_run_starts(
    cli: Cli, demo: Path, args: list[str], message: str
) -> None:
    (cli.cwd / "notes.txt").write_text("keep me")
    (cli.cwd / "logs").mkdir()
    result = cli("run", str(demo), "--approve-all", *args)
    assert result.exit_code == EXIT_USER_ERROR, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert lines[1].startswith("hint: ") and "missing folders are created" in lines[1]
    assert "Traceback" not in result.output
    assert _runs(cli) == []  # nothing started, nothing to clean up
    assert (cli.cwd / "notes.txt").read_text() == "keep me"


def test_resume_checks_its_events_file_before_resuming(cli: Cli, demo: Path) -> None:
    waiting = cli("run", str(demo))
    assert waiting.exit_code == EXIT_WAITING, waiting.output
    rid = run_id_of(waiting.stdout)
    (cli.cwd / "notes.txt").write_text("")
    refused = cli("resume", rid, "--approve-all", "--events", "notes.txt/resume.jsonl")
    assert refused.exit_code == EXIT_USER_ERROR, refused.output
    assert refused.stderr.startswith("error: --events notes.txt/resume.jsonl: notes.txt is a file")
    store = open_store(cli.store_url)
    assert store.get_run(rid).status == "waiting_approval"
    store.close()
    resumed = cli("resume", rid, "--approve-all", "--events", "later/resume.jsonl")
    assert resumed.exit_code == EXIT_OK, resumed.output
    assert [e.kind for e in read_jsonl(cli.cwd / "later" / "resume.jsonl")][-1] == "run_finished"


def test_audit_export_follows_the_same_rule(cli: Cli, demo: Path) -> None:
    rid = run_id_of(cli("run", str(demo), "--approve-all").stdout)
    (cli.cwd / "notes.txt").write_text("")
    refused = cli("audit", "export", rid, "-o", "notes.txt/audit.jsonl")
    assert refused.exit_code == EXIT_USER_ERROR and "Traceback" not in refused.output
    assert refused.stderr.startswith("error: --output notes.txt/audit.jsonl: notes.txt is a file")
    assert cli("audit", "export", rid, "-o", "audit/x/run.jsonl").exit_code == EXIT_OK
    assert (cli.cwd / "audit" / "x" / "run.jsonl").read_text().startswith("{")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_nobody_may_write_in_is_refused(cli: Cli, demo: Path) -> None:
    locked = cli.cwd / "locked"
    locked.mkdir(mode=0o555)
    try:
        result = cli("run", str(demo), "--approve-all", "--events", "locked/deep/run.jsonl")
    finally:
        locked.chmod(0o755)
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert "permission denied" in result.stderr.splitlines()[0]
    assert _runs(cli) == []
