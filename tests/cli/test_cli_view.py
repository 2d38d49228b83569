"""The live view, the plain progress and the summary, rendered to strings for a scripted run."""

from __future__ import annotations

import re
from io import StringIO

from rich.console import Console

from agentorch.budget import Budget
from agentorch.cli.plain import PlainProgress
from agentorch.cli.state import APPROVAL, DONE, FAILED, RUNNING, SKIPPED, WAITING, RunState
from agentorch.cli.summary import next_commands, render_summary, usage_table
from agentorch.cli.view import LiveView
from agentorch.events import types as ev
from agentorch.models.types import Usage
from agentorch.plan import Plan, Step
from agentorch.store.base import ApprovalRecord
from agentorch.supervisor import RunResult

PLAN = {
    "steps": [
        {"id": "parse", "agent": "parser", "instruction": "Parse the RFP."},
        {"id": "write", "agent": "writer", "instruction": "Write.", "depends_on": ["parse"]},
        {"id": "check", "agent": "critic", "instruction": "Check.", "reviews": "write"},
        {
            "id": "price",
            "agent": "writer",
            "instruction": "Price.",
            "depends_on": ["parse"],
            "risk": "high",
        },
        {"id": "legal", "agent": "writer", "instruction": "Legal.", "depends_on": ["parse"]},
        {
            "id": "submit",
            "agent": "editor",
            "instruction": "Submit.",
            "depends_on": ["write", "legal"],
        },
    ],
    "final_step": "submit",
}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def scripted_events() -> list[ev.BaseEvent]:
    """A run partway through: parse done, write streaming, price waiting, legal failed."""
    return [
        ev.RunStarted(
            run_id="r1",
            task="Draft the RFP response",
            workflow="examples/rfp",
            engine="offline",
            budget={"usd": 2.0, "tokens": 100_000},
        ),
        ev.PlanMade(run_id="r1", plan=PLAN, source="declared"),
        ev.StepStarted(
            run_id="r1", step_id="parse", agent="parser", model="function:offline-parser"
        ),
        ev.ModelCallFinished(
            run_id="r1",
            step_id="parse",
            agent="parser",
            call_key="k1",
            model="function:offline-parser",
            input_tokens=1000,
            output_tokens=500,
            cost_usd=0.25,
        ),
        ev.StepFinished(run_id="r1", step_id="parse", agent="parser"),
        ev.StepStarted(run_id="r1", step_id="write", agent="writer", model="openai:gpt-4.1-mini"),
        ev.ModelCallFinished(
            run_id="r1",
            step_id="write",
            agent="writer",
            call_key="k2",
            model="openai:gpt-4.1-mini",
            input_tokens=3000,
            output_tokens=1500,
            cost_usd=0.75,
        ),
        ev.TextDeltaEvent(
            run_id="r1", step_id="write", agent="writer", text="## Security\nWe encrypt "
        ),
        ev.TextDeltaEvent(run_id="r1", step_id="write", agent="writer", text="all data at rest."),
        ev.StepStarted(run_id="r1", step_id="price", agent="writer"),
        ev.ApprovalRequested(
            run_id="r1",
            step_id="price",
            agent="writer",
            request_id="q1",
            tool="commit_price",
            risk="external",
        ),
        ev.StepStarted(run_id="r1", step_id="legal", agent="writer"),
        ev.StepFailed(
            run_id="r1",
            step_id="legal",
            agent="writer",
            error_type="ProviderError",
            message="kept failing",
            dependants_skipped=["submit"],
        ),
    ]


def render(view: LiveView, width: int = 110) -> str:
    console = Console(file=StringIO(), width=width, force_terminal=True, color_system="truecolor")
    console.print(view.render())
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return ANSI.sub("", text)


def make_view(now: list[float]) -> LiveView:
    console = Console(file=StringIO(), width=110, force_terminal=True)
    view = LiveView(console, clock=lambda: now[0])
    for event in scripted_events():
        view(event)
    return view


def test_state_follows_the_steps() -> None:
    view = make_view([0.0])
    states = {s.id: s.state for s in view.state.steps.values()}
    assert states == {
        "parse": DONE,
        "write": RUNNING,
        "check": WAITING,
        "price": APPROVAL,
        "legal": FAILED,
        "submit": SKIPPED,
    }
    assert view.state.by_agent["writer"].cost_usd == 0.75
    assert view.state.total.tokens == 6000
    # Dependency order: parse first, submit after write and legal.
    order = [s.id for s in view.state.ordered_steps()]
    assert order.index("parse") == 0 and order.index("submit") > order.index("legal")


def test_a_decided_approval_puts_the_step_back_where_it_was() -> None:
    """A tool call approved mid-step goes on running; an escalation of a finished step, once
    accepted, leaves the step done (it was shown as running forever)."""
    view = make_view([0.0])
    view(ev.ApprovalDecided(run_id="r1", step_id="price", request_id="q1", decision="approved"))
    view(ev.ApprovalRequested(run_id="r1", step_id="parse", request_id="q2", subject="escalation"))
    assert view.state.steps["parse"].state == APPROVAL
    view(ev.ApprovalDecided(run_id="r1", step_id="parse", request_id="q2", decision="approved"))
    assert view.state.steps["price"].state == RUNNING
    assert view.state.steps["parse"].state == DONE


def test_live_view_renders_plan_tree_states_spend_and_stream() -> None:
    now = [100.0]
    view = make_view(now)
    now[0] = 165.0
    text = render(view)
    assert "run r1" in text and "examples/rfp" in text and "offline engine" in text
    assert "Plan  1/6 done  (declared)" in text
    assert "✔ parse  parser  function:offline-parser  done" in text
    assert "▶ write  writer  openai:gpt-4.1-mini  running" in text
    assert "⏸ price  writer" in text and "waiting for approval" in text and "commit_price" in text
    assert "✖ legal" in text and "ProviderError: kept failing" in text
    assert "↷ submit" in text and "★ final" in text
    # The reviewer hangs under the step it reviews.
    lines = text.splitlines()
    write_line = next(i for i, line in enumerate(lines) if "write  writer" in line)
    assert "check  critic" in lines[write_line + 1] and lines[write_line + 1].index(
        "check"
    ) > lines[write_line].index("write")
    assert "write is writing" in text and "We encrypt all data at rest." in text
    assert "$1.00 / $2.00 (50%)" in text and "6,000 / 100,000 (6%)" in text
    assert "Elapsed 01:05" in text
    assert re.search(r"writer\s+1\s+4,500\s+\$0\.75", text)
    assert "Waiting for approval: tool commit_price" in text


def test_live_view_without_budget_and_before_the_plan() -> None:
    view = LiveView(Console(file=StringIO(), force_terminal=True), clock=lambda: 0.0)
    view(ev.RunStarted(run_id="r2", task="Summarize the notes", engine="models"))
    text = render(view)
    assert "planning…" in text and "(no budget limit)" in text and "Summarize the notes" in text


def test_live_display_pauses_for_prompts() -> None:
    out = StringIO()
    view = LiveView(Console(file=out, width=100, force_terminal=True), refresh_per_second=50)
    view(scripted_events()[0])
    with view:
        view.pause()
        view.pause()  # nested: two prompts at once
        assert view._live is not None and not view._live.is_started
        view.resume()
        assert not view._live.is_started
        view.resume()
        assert view._live.is_started
    assert view._live is None
    assert "run r1" in ANSI.sub("", out.getvalue())


def test_plain_progress_prints_one_line_per_event() -> None:
    out = StringIO()
    progress = PlainProgress(Console(file=out, width=200))
    for event in scripted_events():
        progress(event)
    progress(
        ev.ToolCallStarted(
            run_id="r1",
            step_id="parse",
            agent="parser",
            tool="read_document",
            call_id="c1",
            idempotency_key="i1",
        )
    )
    progress(
        ev.ToolCallFinished(
            run_id="r1",
            step_id="parse",
            agent="parser",
            tool="read_document",
            call_id="c1",
            idempotency_key="i1",
        )
    )
    progress(
        ev.RunFinished(
            run_id="r1", status="failed", error="boom", usage={"total": {"cost_usd": 1.0}}
        )
    )
    text = out.getvalue()
    assert "\x1b[" not in text  # not a terminal: no colour codes
    assert "run r1 started: examples/rfp [offline engine]" in text
    assert "plan (declared, 6 steps): parse (parser)" in text
    assert "step parse (parser) done, $0.25, 1,500 tokens" in text
    assert "approval needed [q1]: step price, tool commit_price (external)" in text
    assert "step legal (writer) FAILED: ProviderError: kept failing (skipping submit)" in text
    assert "run finished: failed, spent $1.00 - boom" in text
    assert "read_document" not in text  # successful reads are not worth a line
    assert "Security" not in text  # streamed text is not printed line by line


def test_plain_progress_says_why_a_tool_call_failed() -> None:
    out = StringIO()
    progress = PlainProgress(Console(file=out, width=200))
    error = "Error: tool 'search_answers' failed: ConfigError: approved-answer library not found"
    progress(
        ev.ToolCallFinished(run_id="r1", step_id="write", agent="writer", tool="search_answers",
                            call_id="c1", idempotency_key="i1", is_error=True, error=error)
    )  # fmt: skip
    assert out.getvalue().strip() == (
        "[00:00] tool search_answers by writer: error - tool 'search_answers' failed: "
        "ConfigError: approved-answer library not found"
    )


def test_plain_progress_counts_a_one_step_plan_in_the_singular() -> None:
    out = StringIO()
    progress = PlainProgress(Console(file=out, width=200))
    progress(ev.RunStarted(run_id="r1", task="List the requirements", engine="models"))
    plan = Plan(steps=[Step(id="parser_1", agent="parser", instruction="List them.")])
    progress(ev.PlanMade(run_id="r1", plan=plan.model_dump(mode="json"), source="router"))
    assert "plan (router, 1 step): parser_1 (parser)" in out.getvalue()


def _result(status: str, **kwargs: object) -> RunResult:
    budget = Budget(usd=2.0)
    budget.charge(
        agent="writer",
        model_id="openai:gpt-4.1-mini",
        step_id="write",
        usage=Usage(input_tokens=3000, output_tokens=1500, cost_usd=0.75, requests=1),
    )
    budget.charge(
        agent="parser",
        model_id="function:offline-parser",
        step_id="parse",
        usage=Usage(input_tokens=1000, output_tokens=500, cost_usd=0.25, requests=1),
    )
    plan = Plan(steps=[Step(id="a", agent="writer", instruction="x")])
    return RunResult(
        run_id="r1",
        status=status,
        output=kwargs.pop("output", "The answer."),
        plan=plan,
        steps={},
        usage=budget.report(),
        **kwargs,
    )  # type: ignore[arg-type]


def _text(renderable: object) -> str:
    console = Console(file=StringIO(), width=120)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_summary_shows_output_costs_run_id_and_next_commands() -> None:
    text = _text(render_summary(_result("succeeded"), output_location="out/response.md"))
    assert "✔ Run succeeded" in text and "out/response.md" in text and "r1" in text
    assert re.search(
        r"agent\s+│\s+writer\s+│\s+1\s+│\s+3,000\s+│\s+1,500\s+│\s+\$0\.75\s+│\s+75%", text
    )
    assert "openai:gpt-4.1-mini" in text and "function:offline-parser" in text
    assert "budget: $1.00 of $2.00" in text
    assert "agentorch show r1 --trace" in text and "agentorch audit verify r1" in text


def test_summary_of_a_waiting_run_lists_the_approvals() -> None:
    pending = [
        ApprovalRecord(
            request_id="r1:publish",
            run_id="r1",
            step_id="publish",
            tool="publish",
            reason="tool 'publish' always requires approval",
        )
    ]
    text = _text(
        render_summary(
            _result("waiting_approval", pending_approvals=pending), store_flag=" --store x.db"
        )
    )
    assert "⏸ Run is waiting for approval" in text
    assert "r1:publish  step publish: tool publish" in text
    assert "agentorch approve r1 --store x.db --resume" in text


def test_next_commands_per_status() -> None:
    assert next_commands("r", "interrupted")[0] == "agentorch resume r"
    assert next_commands("r", "budget_exceeded")[0] == "agentorch resume r --budget-usd <more>"
    tokens_only = "budget exceeded for the run: ... but only 12 tokens remain, too little"
    assert next_commands("r", "budget_exceeded", error=tokens_only)[0].endswith(
        " --budget-tokens <more>"
    )
    both = "budget exceeded for the run: ... but only $0.0010 and 12 tokens remain"
    assert next_commands("r", "budget_exceeded", error=both)[0].endswith(
        " --budget-usd <more> --budget-tokens <more>"
    )
    assert "--decision run_again|skipped|mark_done" in next_commands("r", "in_doubt")[0]
    assert (
        next_commands("r", "waiting_approval", pending=3)[1] == "agentorch approve r --all --resume"
    )
    assert len(next_commands("r", "succeeded")) == 2


def test_usage_table_marks_unpriced_models() -> None:
    budget = Budget(allow_unpriced=True)
    budget.charge(
        agent="a",
        model_id="m",
        step_id=None,
        usage=Usage(input_tokens=10, output_tokens=1, requests=1, unpriced=True),
    )
    assert "(unpriced)" in _text(usage_table(budget.report()))


def test_run_state_records_credential_failures() -> None:
    state = RunState()
    state.apply(
        ev.ModelCallFailed(
            call_key="k",
            model="openai:gpt-4.1",
            error_type="ProviderError",
            message="openai:gpt-4.1: HTTP 401: invalid api key",
        )
    )
    assert state.credential_errors


def test_tool_progress_shows_in_the_plain_output_and_the_live_state() -> None:
    out = StringIO()
    progress = PlainProgress(Console(file=out, width=200))
    event = ev.ToolProgress(
        run_id="r1",
        step_id="parse",
        agent="parser",
        tool="find_requirements",
        call_id="c1",
        done=4000,
        total=15834,
        message="blocks shredded",
    )
    progress(event)
    assert "tool find_requirements by parser: 4,000 of 15,834 blocks shredded" in out.getvalue()
    assert event.ephemeral  # never persisted or audited
