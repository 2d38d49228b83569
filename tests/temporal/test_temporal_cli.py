"""The two commands: `agentorch worker` (twice) and `agentorch run ... --temporal` (issue 16)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RFP = str(ROOT / "examples" / "rfp")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentorch", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


async def test_rfp_runs_on_two_cli_workers_as_it_does_embedded(
    workers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = f"sqlite:///{tmp_path}/runs.db"
    args = [sys.executable, "-m", "agentorch", "worker", RFP, "--temporal", workers.address]
    args += ["--task-queue", "rfp-cli", "--store", store]

    def serving() -> int:
        logs = [p.read_text() for p in tmp_path.glob("worker-*.log")]
        return sum("worker serving 'rfp'" in log for log in logs)

    workers.start(args, count=2, ready=serving)
    ran = _cli(
        "run", RFP, "--temporal", workers.address, "--task-queue", "rfp-cli",
        "--approve-all", "--store", store, "--json", cwd=tmp_path,
    )  # fmt: skip
    # the documented outcome of the bundled example: response written, submission refused
    assert ran.returncode == 6, ran.stdout[-2000:] + ran.stderr[-2000:]
    result = json.loads(ran.stdout)
    assert result["status"] == "succeeded" and result["outcome"]["kind"] == "not_submitted"
    assert (tmp_path / "out" / "response.md").stat().st_size > 0
    run_id = result["run_id"]
    listed = _cli("runs", "--store", store, cwd=tmp_path)
    assert run_id in listed.stdout, listed.stderr
    verified = _cli("audit", "verify", run_id, "--store", store, cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # the same example in this process gives the same steps, outputs and spend
    embedded = tmp_path / "embedded"
    embedded.mkdir()
    local = _cli("run", RFP, "--approve-all", "--store", f"sqlite:///{embedded}/runs.db",
                 "--json", cwd=embedded)  # fmt: skip
    assert local.returncode == 6, local.stderr[-2000:]
    there = json.loads(local.stdout)
    same = json.dumps(there["outcome"]).replace(str(embedded), str(tmp_path))
    assert json.loads(same) == result["outcome"]
    here, local_total = result["usage"]["total"], there["usage"]["total"]
    assert here["requests"] == local_total["requests"]  # the same model calls, each once
    # (token counts differ by the output folder's path, which the prompts show)
    assert abs(here["input_tokens"] - local_total["input_tokens"]) < 0.001 * here["input_tokens"]
    await _replay_rfp(workers.address, store, run_id, tmp_path, monkeypatch)


async def _replay_rfp(
    address: str, store: str, run_id: str, cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundled specialists' workflow code replays its history, deterministically, here."""
    from determinism import assert_replays

    from agentorch.approvals import DeferredApprover
    from agentorch.cli.prepare import RunOptions, prepare_workflow
    from agentorch.store import open_store
    from agentorch.temporal import Temporal

    monkeypatch.chdir(cwd)  # the workers' folder: outputs go to its ./out
    db = open_store(store)
    prepared = prepare_workflow(
        RFP, "offline", RunOptions(store=store), DeferredApprover(), None, db, None
    )
    await assert_replays(Temporal(address), "rfp", prepared.supervisor, run_id)


def test_bad_temporal_options_are_one_line_errors(tmp_path: Path) -> None:
    routed = _cli("run", RFP, "--route", "writer=gpu", "--store", f"sqlite:///{tmp_path}/r.db",
                  cwd=tmp_path)  # fmt: skip
    assert routed.returncode != 0 and "--route needs --temporal" in routed.stderr
    assert "Traceback" not in routed.stderr
    unreachable = _cli("run", RFP, "--temporal", "127.0.0.1:1", "--approve-all",
                       "--store", f"sqlite:///{tmp_path}/r.db", cwd=tmp_path)  # fmt: skip
    assert unreachable.returncode != 0 and "cannot reach Temporal" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
