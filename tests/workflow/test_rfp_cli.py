"""The RFP workflow from the command line: inputs that are not solicitations, your own library."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from _workflow_helpers import DATA, EXAMPLE, REPO
from typer.testing import CliRunner

from agentorch.cli.app import app

NORTHWIND = DATA / "library_northwind"


class Cli:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> object:
        return self.runner.invoke(app, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTORCH_STORE", f"sqlite:///{tmp_path / 'runs.db'}")
    monkeypatch.setenv("AGENTORCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("AGENTORCH_LIBRARY", raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    yield Cli(tmp_path)


def nothing_written(root: Path) -> bool:
    return not (root / "out").exists()  # no document and no outbox (it lives in out/)


def test_a_document_that_is_not_a_solicitation_ends_with_one_clear_line(cli: Cli) -> None:
    result = cli("run", str(EXAMPLE), "--file", str(REPO / "README.md"), "--approve-all")
    assert result.exit_code != 0  # type: ignore[attr-defined]
    output = result.output  # type: ignore[attr-defined]
    assert "no requirements found in README.md: is this a solicitation?" in output
    assert "Traceback" not in output and "Run succeeded" not in output
    assert nothing_written(cli.cwd)


def test_prose_with_no_numbered_requirement_yields_no_run(cli: Cli, tmp_path: Path) -> None:
    notes = tmp_path / "meeting-notes.md"
    notes.write_text(
        "# Team notes\n\nWe discussed the roadmap. Alice will send the minutes on Friday.\n",
        encoding="utf-8",
    )
    result = cli("run", str(EXAMPLE), "--file", str(notes), "--approve-all")
    assert result.exit_code != 0  # type: ignore[attr-defined]
    lines = [
        line
        for line in result.output.splitlines()  # type: ignore[attr-defined]
        if line.startswith("error:")
    ]
    assert len(lines) == 1
    assert lines[0].startswith(
        "error: no requirements found in meeting-notes.md: is this a solicitation?"
    )
    assert nothing_written(cli.cwd)


def _cited(markdown: str) -> set[str]:
    return set(re.findall(r"\b(?:AA|NW)-[A-Z0-9]+\b", markdown))


def test_library_option_drafts_from_that_library(cli: Cli) -> None:
    result = cli("run", str(EXAMPLE), "--library", str(NORTHWIND), "--approve-all")
    output = result.output  # type: ignore[attr-defined]
    assert f"Approved-answer library: {NORTHWIND}" in output
    review = (cli.cwd / "out" / "bid-review.md").read_text(encoding="utf-8")
    cited = _cited(review)
    assert {"NW-SSO", "NW-ENC", "NW-INS"} <= cited
    assert not any(c.startswith("AA-") for c in cited)
    assert f"library: {NORTHWIND}" in output.replace("\n", " ")


def test_library_from_the_environment(cli: Cli) -> None:
    result = cli("run", str(EXAMPLE), "--approve-all", env={"AGENTORCH_LIBRARY": str(NORTHWIND)})
    assert f"Approved-answer library: {NORTHWIND}" in result.output  # type: ignore[attr-defined]
    review = (cli.cwd / "out" / "bid-review.md").read_text(encoding="utf-8")
    assert "NW-SSO" in review and "AA-006" not in review


def test_a_library_that_does_not_exist_is_a_one_line_error(cli: Cli) -> None:
    result = cli("run", str(EXAMPLE), "--library", "no-such-library", "--approve-all")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert (
        "error: approved-answer library not found: no-such-library (from --library)"
        in result.output  # type: ignore[attr-defined]
    )
    assert nothing_written(cli.cwd)


def _usage_notes() -> list[str]:
    notes = []
    for file in sorted((EXAMPLE / "library").glob("AA-*.md")):
        match = re.search(r'^usage_notes = "(.*)"$', file.read_text(encoding="utf-8"), re.M)
        if match:
            notes += [s.strip() for s in re.split(r"(?<=\.) ", match.group(1)) if len(s) > 20]
    return notes


def test_the_example_under_approve_all_is_written_but_not_submitted(cli: Cli) -> None:
    result = cli("run", str(EXAMPLE), "--approve-all")
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 6, output  # type: ignore[attr-defined]
    assert "Run succeeded" not in output
    assert "Response written, NOT submitted: refused" in output
    assert "Status  succeeded · not submitted" in output
    assert not (cli.cwd / "out" / "submissions").exists()  # nothing went to the buyer
    assert "R-3.2 (conflict)" in output and "R-2.8 (missing)" in output
    # Listed later, the run says what happened to the job, not only that its steps finished.
    listed = cli("runs").stdout  # type: ignore[attr-defined]
    assert re.search(r"succeeded\s+│\s+not submitted", listed), listed
    assert json.loads(cli("runs", "--json").stdout)["runs"][0]["outcome"] == "not_submitted"  # type: ignore[attr-defined]
    rid = json.loads(cli("runs", "--json").stdout)["runs"][0]["run_id"]  # type: ignore[attr-defined]
    assert "Response written, NOT submitted" in cli("show", rid).stdout  # type: ignore[attr-defined]


def test_response_holds_only_text_for_the_buyer(cli: Cli) -> None:
    cli("run", str(EXAMPLE), "--approve-all")
    response = (cli.cwd / "out" / "response.md").read_text(encoding="utf-8")
    review = (cli.cwd / "out" / "bid-review.md").read_text(encoding="utf-8")
    assert not re.findall(r"\bAA-\d{3}\b", response)  # no library ids
    for placeholder in ("No approved answer", "needs input", "Not drafted", "TODO", "TBD"):
        assert placeholder.lower() not in response.lower()
    for internal in (
        "Compliance matrix",
        "Open issues",
        "usage note",
        "approved by",
        "escalation of write_",
    ):
        assert internal.lower() not in response.lower()
    assert not re.search(r"\| (covered|partial|conflict|missing) \|", response)
    notes = _usage_notes()
    assert len(notes) > 10
    assert [n for n in notes if n in response] == []
    # the internal document has what the response leaves out
    assert re.search(r"\bAA-033\b", review) and "Compliance matrix" in review
    assert "| R-3.2 | security | must | conflict | AA-017 |" in review
    assert "approved by cli:approve-all" in review
    assert any(n in review for n in notes)  # the critic's usage-note guidance, for the team
    # a requirement nothing approved covers is left out of the response, not answered by a note
    assert "R-2.8" not in response and "R-2.2 Single sign-on" in response


def test_denying_a_section_from_another_terminal_still_yields_the_response(cli: Cli) -> None:
    from agentorch.store import open_store

    first = cli("run", str(EXAMPLE))
    assert first.exit_code == 3, first.output  # type: ignore[attr-defined]
    # the waiting run lists each escalation's reasons one per line, values side by side
    assert "- R-3.2 (Federal authorization) is conflict" in first.output  # type: ignore[attr-defined]
    found = re.search(r"Run id\s+([0-9a-f]{12})", first.output)  # type: ignore[attr-defined]
    assert found
    rid = found.group(1)
    store = open_store(f"sqlite:///{cli.cwd / 'runs.db'}")
    result = first
    for _ in range(8):
        for pending in store.approvals(rid, pending_only=True):
            no = pending.step_id == "write_security" or pending.tool == "submit_response"
            extra = ["--deny", "--reason", "not this section"] if no else []
            decided = cli("approve", rid, "--request", pending.request_id, *extra)
            assert decided.exit_code == 0, decided.output  # type: ignore[attr-defined]
            if pending.step_id == "write_sla" and pending.subject == "escalation":
                # approve shows what a person decides: asked, proposed, values side by side
                shown = decided.output  # type: ignore[attr-defined]
                assert "Escalation of step write_sla" in shown
                assert "Asked" in shown and "Proposed" in shown
                assert re.search(r"required .+·  offered .+→ (falls short|conflicts)", shown)
                assert len(shown.splitlines()) <= 50
        result = cli("resume", rid)
        if result.exit_code != 3:  # type: ignore[attr-defined]
            break
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 6, output  # type: ignore[attr-defined]
    assert "Run succeeded" not in output and "Response written, NOT submitted" in output
    review = (cli.cwd / "out" / "bid-review.md").read_text(encoding="utf-8")
    assert "step write_security (writer) did not finish" in review
    assert "| R-3.3 | security | must | missing |" in review  # the gap, reported
    assert "escalation of write_security denied by cli:" in review
    response = (cli.cwd / "out" / "response.md").read_text(encoding="utf-8")
    assert "### R-2.2 " in response and "### R-3.3 " not in response
    assert not (cli.cwd / "out" / "submissions").exists()
