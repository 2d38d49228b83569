"""``agentorch run``, ``resume`` and ``approve`` through typer's CliRunner: outcomes and exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_runner import Cli

from agentorch.cli.errors import (
    EXIT_BUDGET,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USER_ERROR,
    EXIT_WAITING,
    exit_code_for,
)
from agentorch.store import open_store


def run_id_of(output: str) -> str:
    match = re.search(r"Run id\s+([0-9a-f]{12})", output)
    assert match, output
    return match.group(1)


def test_exit_codes_are_documented_values() -> None:
    assert (EXIT_OK, EXIT_FAILED, EXIT_USER_ERROR, EXIT_WAITING, EXIT_BUDGET, EXIT_INTERRUPTED) == (
        0,
        1,
        2,
        3,
        4,
        130,
    )
    assert exit_code_for("in_doubt") == 5 and exit_code_for("something-else") == 1


def test_run_with_approve_all_succeeds(cli: Cli, demo: Path) -> None:
    result = cli("run", str(demo), "--approve-all")
    assert result.exit_code == EXIT_OK, result.output
    out = result.stdout
    assert "offline engine" in out  # the engine explanation
    assert (
        "step one (worker) done" in out
        and "approval [" in out
        and "approved by cli:approve-all" in out
    )
    assert "✔ Run succeeded" in out and "the report is published" in out
    rid = run_id_of(out)
    assert f"agentorch show {rid} --trace" in out and f"agentorch audit verify {rid}" in out
    record = open_store(cli.store_url).get_run(rid)
    assert record.status == "succeeded" and record.workflow == str(demo.resolve())


def test_waiting_run_then_approve_and_resume(cli: Cli, demo: Path) -> None:
    result = cli("run", str(demo))
    assert result.exit_code == EXIT_WAITING, result.output
    assert (
        "⏸ Run is waiting for approval" in result.stdout
        and "step publish: tool publish" in result.stdout
    )
    rid = run_id_of(result.stdout)

    shown = cli("show", rid)
    assert (
        shown.exit_code == 0
        and "Pending approvals" in shown.stdout
        and "waiting_approval" in shown.stdout
    )

    denied = cli("approve", rid, "--deny")
    assert denied.exit_code == EXIT_USER_ERROR and "needs a reason" in denied.stderr

    approved = cli("approve", rid, "--step", "publish", "--reason", "looks fine")
    assert approved.exit_code == 0, approved.output
    assert "approved:" in approved.stdout and f"agentorch resume {rid}" in approved.stdout

    resumed = cli("resume", rid[:8])
    assert resumed.exit_code == EXIT_OK, resumed.output
    assert (
        "resumed (2 step(s) already done)" in resumed.stdout and "✔ Run succeeded" in resumed.stdout
    )
    assert "step one (worker) started" not in resumed.stdout  # done steps are not re-run

    again = cli("resume", rid)
    assert again.exit_code == EXIT_USER_ERROR and "already succeeded" in again.stderr


def test_approve_with_edited_arguments_and_resume_in_one_go(cli: Cli, demo: Path) -> None:
    rid = run_id_of(cli("run", str(demo)).stdout)
    bad = cli("approve", rid, "--arguments", "{not json")
    assert bad.exit_code == EXIT_USER_ERROR and "not valid JSON" in bad.stderr
    done = cli("approve", rid, "--arguments", '{"title": "weekly report v2"}', "--resume", "--json")
    assert done.exit_code == EXIT_OK, done.output
    data = json.loads(done.stdout)
    assert data["status"] == "succeeded"
    approvals = open_store(cli.store_url).approvals(rid)
    assert approvals[0].status == "edited" and approvals[0].decided_arguments == {
        "title": "weekly report v2"
    }


def test_deny_ends_the_step_and_run_can_be_inspected(cli: Cli, demo: Path) -> None:
    rid = run_id_of(cli("run", str(demo)).stdout)
    assert cli("approve", rid, "--all", "--deny", "--reason", "not this week").exit_code == 0
    resumed = cli("resume", rid)
    assert resumed.exit_code in (EXIT_OK, EXIT_FAILED)
    assert "denied" in cli("show", rid, "--trace").stdout


def test_json_prints_one_object_and_nothing_else(cli: Cli, demo: Path) -> None:
    result = cli("run", str(demo), "--json")
    assert result.exit_code == EXIT_WAITING
    data = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert data["status"] == "waiting_approval" and data["exit_code"] == EXIT_WAITING
    assert data["pending_approvals"][0]["tool"] == "publish"
    assert set(data) >= {"run_id", "status", "output_path", "usage", "error"}
    assert "offline engine" in result.stderr


def test_json_error_is_json_too(cli: Cli) -> None:
    result = cli("run", "no/such/workflow", "--json")
    assert result.exit_code == EXIT_USER_ERROR
    data = json.loads(result.stdout)
    assert data["status"] == "error" and "unknown workflow" in data["error"]


def test_budget_exhausted_exit_code_and_resume_with_more(cli: Cli, demo: Path) -> None:
    result = cli("run", str(demo), "--approve-all", "--budget-tokens", "60")
    assert result.exit_code == EXIT_BUDGET, result.output
    assert "budget exhausted" in result.stdout
    rid = run_id_of(result.stdout)
    assert f"agentorch resume {rid} --budget-tokens <more>" in result.stdout  # the limit that hit
    more = cli("resume", rid, "--budget-tokens", "100000", "--approve-all")
    assert more.exit_code == EXIT_OK, more.output


def test_output_folder_receives_a_text_result(cli: Cli, demo: Path) -> None:
    result = cli("run", str(demo), "--approve-all", "--output", "results")
    assert result.exit_code == EXIT_OK
    rid = run_id_of(result.stdout)
    saved = cli.cwd / "results" / f"result-{rid}.md"
    assert saved.read_text() == "the report is published" and "results" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "examples/nope"], "unknown workflow 'examples/nope'"),
        (["run", "{demo}", "--file", "missing.md"], "input file not found: missing.md"),
        (["run", "{demo}", "--file", "{demo}"], "is a folder, not a document"),
        (["run", "dmeo"], "unknown workflow 'dmeo': no such folder (did you mean demo?)"),
        (["run", "{demo}", "--model", "gpt4"], "is not of the form 'provider:model'"),
        (["run", "{demo}", "--model", "acme:big"], "unknown model provider 'acme'"),
        (["run", "{demo}", "--policy", "nope.toml"], "policy file not found"),
        (["run", "summarize the notes for me"], "planning a free-text task needs a router model"),
        (["run", "{demo}", "--budget-usd", "-1"], "usd"),
        (["run", "{demo}", "--store", "mysql://x"], "unknown store URL"),
        (["run", "{demo}", "--output", "{demo}/workflow.py"], "is a file, not a folder"),
        (["show", "ffffffffffff"], "ffffffffffff"),
        (["resume", "ffffffffffff"], "ffffffffffff"),
        (["approve", "ffffffffffff"], "ffffffffffff"),
        (["audit", "verify", "ffffffffffff"], "ffffffffffff"),
        (["policy", "check", "nope.toml"], "policy file not found"),
        (["agents", "--project", "nope"], "project folder not found: nope"),
        (["tools", "--project", "nope"], "project folder not found: nope"),
    ],
)
def test_user_errors_are_one_line_and_a_hint(
    cli: Cli, demo: Path, args: list[str], message: str
) -> None:
    result = cli(*[a.replace("{demo}", str(demo)) for a in args])
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.output


def test_a_document_given_as_the_workflow_is_pointed_at_file(cli: Cli) -> None:
    (cli.cwd / "tender.pdf").write_bytes(b"%PDF-1.4")
    result = cli("run", "tender.pdf")
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert result.stderr.splitlines() == [
        "error: tender.pdf is a document, not a workflow",
        "hint: pass it as the workflow's input: agentorch run rfp --file tender.pdf",
    ]


def test_missing_api_key_is_a_user_error(cli: Cli, demo: Path) -> None:
    result = cli("run", str(demo), "--model", "openai:gpt-4.1-mini")
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert "no API key for openai" in result.stderr and "hint: set OPENAI_API_KEY" in result.stderr


def test_debug_shows_the_traceback(cli: Cli) -> None:
    quiet = cli("run", "examples/nope")
    loud = cli("run", "examples/nope", "--debug")
    assert "Traceback" not in quiet.stderr and "Traceback" in loud.stderr
    assert loud.exit_code == EXIT_USER_ERROR


def test_usage_errors_exit_2(cli: Cli) -> None:
    assert cli("run").exit_code == 2
    assert cli("run", "x", "--no-such-option").exit_code == 2
    assert cli("frobnicate").exit_code == 2
    assert cli("runs", "--limit", "0").exit_code == 2  # not a silent "every run"


def test_review_plan_needs_a_terminal(cli: Cli, demo: Path) -> None:
    result = cli("run", str(demo), "--review-plan")
    assert result.exit_code == EXIT_USER_ERROR and "interactive terminal" in result.stderr


def test_no_color_is_respected(cli: Cli, demo: Path) -> None:
    result = cli("run", str(demo), "--approve-all", env={"NO_COLOR": "1", "FORCE_COLOR": ""})
    assert result.exit_code == 0 and "\x1b[" not in result.output


def test_rejected_api_key_is_a_user_error(
    cli: Cli, demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Reject(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b'{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}'
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Reject)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/v1")
        result = cli("run", str(demo), "--model", "openai:gpt-4.1-mini")
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert "401" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.output


def test_every_argument_and_value_option_has_an_upper_case_metavar() -> None:
    """One notation in every usage line: RUN_ID, FILE, N; no {run_id} or <str>."""
    import typer.main

    from agentorch.cli.app import app

    group = typer.main.get_command(app)
    seen = 0
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None) or {name: command}
        for sub in subcommands.values():
            for param in sub.params:
                if getattr(param, "is_flag", False) or param.name == "help":
                    continue
                seen += 1
                assert param.metavar and param.metavar.isupper(), (sub.name, param.name)
    assert seen > 20


def test_the_final_output_is_redacted_at_every_exit(
    cli: Cli, demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A secret in the final output is not printed (plain, --json) nor saved (--output)."""
    env_secret = "vault-Pa55word-for-the-demo"
    key = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
    monkeypatch.setenv("DEMO_SERVICE_TOKEN", env_secret)
    monkeypatch.setenv("DEMO_OUTPUT_SUFFIX", f" with key {key} and token {env_secret}")
    plain = cli("run", str(demo), "--approve-all")
    assert plain.exit_code == 0, plain.output
    assert "the report is published with key [REDACTED]" in plain.stdout
    assert key not in plain.output and env_secret not in plain.output
    as_json = cli("run", str(demo), "--approve-all", "--json")
    data = json.loads(as_json.stdout)
    assert data["output"] == "the report is published with key [REDACTED] and token [REDACTED]"
    assert key not in as_json.output and env_secret not in as_json.output
    saved = cli("run", str(demo), "--approve-all", "--output", str(tmp_path / "saved"))
    assert saved.exit_code == 0, saved.output
    for path in (tmp_path / "saved").iterdir():
        text = path.read_text()
        assert key not in text and env_secret not in text and "[REDACTED]" in text


PRICED = '''
"""One step on a model the workflow prices itself, within a budget of tokens and dollars."""

from pydantic import BaseModel

from agentorch import Agent, Budget, Plan, Step
from agentorch.models.testing import FunctionModel, json_response
from agentorch.workflow import Workflow


class Check(BaseModel):
    passed: bool


class Checker(Agent):
    name = "checker"
    description = "Checks a draft."
    instructions = "Check the draft."
    output_type = Check

    def offline_model(self):
        return FunctionModel(lambda request: json_response(Check(passed=True)), name="careful")


prices = {"careful": {"input_per_mtok": 100, "output_per_mtok": 100}}
workflow = Workflow(
    name="priced",
    task="Check the draft.",
    agents=[Checker],
    plan=Plan(steps=[Step(id="check", agent="checker", instruction="Check it.")]),
    budget=Budget(usd=0.000001, tokens=90_000, prices=prices, warn_at=0.5),
)
'''


@pytest.mark.parametrize(
    ("flags", "usd", "tokens"),
    [(["--budget-usd", "5"], 5.0, 90_000), (["--budget-tokens", "80000"], 0.000001, 80_000)],
)
def test_a_budget_option_overrides_only_the_limit_it_names(
    cli: Cli, tmp_path: Path, flags: list[str], usd: float, tokens: int
) -> None:
    """The workflow's own prices, its other limit and its options stay (they used to be lost)."""
    path = tmp_path / "priced.py"
    path.write_text(PRICED, encoding="utf-8")
    result = cli("run", str(path), *flags)
    rid = run_id_of(result.stdout)
    record = open_store(cli.store_url).get_run(rid)
    assert (record.budget["usd"], record.budget["tokens"]) == (usd, tokens)
    assert record.budget["prices"]["careful"]["input_per_mtok"] == 100
    assert record.budget["warn_at"] == 0.5
    if usd == 5.0:
        assert result.exit_code == EXIT_OK, result.output
        assert record.usage["total"]["cost_usd"] > 0  # priced as the workflow says
    else:  # the workflow's dollar limit still holds: the call is refused before it is made
        assert result.exit_code == EXIT_BUDGET, result.output


def test_resume_with_more_money_keeps_the_recorded_prices(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "priced.py"
    path.write_text(PRICED, encoding="utf-8")
    stopped = cli("run", str(path))
    assert stopped.exit_code == EXIT_BUDGET, stopped.output
    rid = run_id_of(stopped.stdout)
    more = cli("resume", rid, "--budget-usd", "5")
    assert more.exit_code == EXIT_OK, more.output
    record = open_store(cli.store_url).get_run(rid)
    assert (record.budget["usd"], record.budget["tokens"]) == (5.0, 90_000)
    assert record.budget["prices"]["careful"]["input_per_mtok"] == 100
    assert record.usage["total"]["cost_usd"] > 0


@pytest.mark.parametrize(
    "args",
    [
        ["run", "{demo}", "--model", "anthropic:claude-sonnet-4-5"],
        ["run", "List the requirements", "--router-model", "openai:gpt-4.1-mini"],
        ["run", "List the requirements", "--model", "openai:gpt-4.1-mini"],
    ],
)
def test_a_missing_api_key_is_refused_before_a_run_starts(
    cli: Cli, demo: Path, args: list[str]
) -> None:
    """One line naming the key, and no failed run left in the store (a free-text task's
    --router-model was told it needs a router model)."""
    result = cli(*[a.replace("{demo}", str(demo)) for a in args])
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert result.stderr.startswith("error: no API key for "), result.stderr
    assert open_store(cli.store_url).list_runs() == []


def test_resume_refuses_without_the_recorded_models_key(
    cli: Cli, demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run recorded on a model whose key is gone here is left as it was, not failed."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # never reached: no step runs
    stopped = cli("run", str(demo), "--model", "openai:gpt-4.1-mini", "--budget-tokens", "1")
    assert stopped.exit_code == EXIT_BUDGET, stopped.output
    rid = run_id_of(stopped.stdout)
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("OPENAI_BASE_URL")
    resumed = cli("resume", rid, "--budget-tokens", "100000")
    assert resumed.exit_code == EXIT_USER_ERROR, resumed.output
    assert "no API key for openai" in resumed.stderr
    assert open_store(cli.store_url).get_run(rid).status == "budget_exceeded"
