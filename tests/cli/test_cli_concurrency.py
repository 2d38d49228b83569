"""``agentorch run --max-concurrent-steps N``: the steps a run keeps in flight, recorded with it."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import Cli
from run_events import peak_steps

from agentorch.events import read_jsonl
from agentorch.limits import CONCURRENT_STEPS_KEY
from agentorch.store import open_store

RFP = str(Path(__file__).resolve().parents[2] / "examples" / "rfp")


def test_the_option_limits_the_steps_in_flight_and_is_recorded(cli: Cli, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    result = cli("run", RFP, "--approve-all", "--json", "--max-concurrent-steps", "2",
                 "--events", str(events))  # fmt: skip
    assert result.exit_code == 6, result.output  # the example's documented outcome
    run_id = json.loads(result.stdout)["run_id"]
    assert peak_steps(list(read_jsonl(events))) == 2
    store = open_store(cli.store_url)
    try:  # kept with the run: a resume (and a run's Temporal workflow) reads it from there
        assert store.get_run(run_id).spec["state"][CONCURRENT_STEPS_KEY] == 2
    finally:
        store.close()
    default = tmp_path / "default.jsonl"
    assert cli("run", RFP, "--approve-all", "--json", "--events", str(default)).exit_code == 6
    assert 2 < peak_steps(list(read_jsonl(default))) <= 16


def test_a_bad_value_is_a_usage_error(cli: Cli) -> None:
    result = cli("run", RFP, "--approve-all", "--max-concurrent-steps", "0")
    assert result.exit_code == 2
    assert "--max-concurrent-steps" in result.output and "Traceback" not in result.output


def test_resume_takes_a_new_limit_and_records_it(cli: Cli, tmp_path: Path) -> None:
    first, later = tmp_path / "first.jsonl", tmp_path / "later.jsonl"
    waiting = cli("run", RFP, "--json", "--max-concurrent-steps", "1", "--events", str(first))
    assert waiting.exit_code == 3, waiting.output  # waits for a person: resumed below
    run_id = json.loads(waiting.stdout)["run_id"]
    assert peak_steps(list(read_jsonl(first))) == 1
    resumed = cli("resume", run_id, "--approve-all", "--json", "--max-concurrent-steps", "3",
                  "--events", str(later))  # fmt: skip
    assert resumed.exit_code == 6, resumed.output
    assert peak_steps(list(read_jsonl(later))) == 3
    store = open_store(cli.store_url)
    try:
        assert store.get_run(run_id).spec["state"][CONCURRENT_STEPS_KEY] == 3
    finally:
        store.close()
    bad = cli("resume", run_id, "--max-concurrent-steps", "0")
    assert bad.exit_code == 2 and "--max-concurrent-steps" in bad.output
