"""``agentorch run`` and ``agentorch resume``."""

from __future__ import annotations

from typing import Annotated

import typer

from agentorch.cli.errors import handle_errors

StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="URL",
        help="Store URL (default: $AGENTORCH_STORE, else sqlite:///runs.db).",
        show_default=False,
    ),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON result on stdout and nothing else.")
]
EventsOpt = Annotated[
    str | None,
    typer.Option("--events", metavar="FILE", help="Also write every event to FILE (JSON Lines)."),
]
TemporalOpt = Annotated[
    str | None,
    typer.Option(
        "--temporal",
        metavar="HOST:PORT",
        help="Run on this Temporal service's workers (start them with `agentorch worker`).",
    ),
]
QueueOpt = Annotated[
    str,
    typer.Option("--task-queue", metavar="QUEUE", help="The Temporal task queue of the workers."),
]
ConcurrentOpt = Annotated[
    int | None,
    typer.Option(
        "--max-concurrent-steps",
        metavar="N",
        min=1,
        help="Steps (so model calls) the run keeps in flight at once; the others wait their "
        "turn in plan order (default 16). Kept by resume and by Temporal workers.",
    ),
]
ResumeConcurrentOpt = Annotated[
    int | None,
    typer.Option(
        "--max-concurrent-steps",
        metavar="N",
        min=1,
        help="Steps the run keeps in flight at once from here on, instead of its recorded value "
        "(recorded in its place, so a later resume keeps it).",
    ),
]
OtlpOpt = Annotated[
    str | None,
    typer.Option(
        "--otlp",
        metavar="URL",
        help="Send OpenTelemetry traces to this OTLP/HTTP endpoint ('env': OTEL_EXPORTER_OTLP_*).",
    ),
]


def run(
    target: Annotated[
        str,
        typer.Argument(
            help="A workflow folder or .py file (e.g. examples/rfp), or a task in quotes.",
            metavar="TASK_OR_WORKFLOW",
            show_default=False,
        ),
    ],
    file: Annotated[
        list[str] | None,
        typer.Option("--file", "-f", metavar="FILE", help="An input file (repeatable)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", metavar="MODEL", help="Model for every specialist, e.g. openai:gpt-4.1-mini."
        ),
    ] = None,
    router_model: Annotated[
        str | None,
        typer.Option("--router-model", metavar="MODEL", help="Model that plans free-text tasks."),
    ] = None,
    budget_usd: Annotated[
        float | None,
        typer.Option(
            "--budget-usd",
            metavar="USD",
            help="Hard dollar limit for the whole run (a workflow's budget keeps its token "
            "limit and prices).",
        ),
    ] = None,
    budget_tokens: Annotated[
        int | None,
        typer.Option(
            "--budget-tokens",
            metavar="N",
            help="Hard token limit for the whole run (a workflow's budget keeps its dollar "
            "limit and prices).",
        ),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy", metavar="FILE", help="Policy file (.toml/.yaml) with tool permissions."
        ),
    ] = None,
    store: StoreOpt = None,
    review_plan: Annotated[
        bool,
        typer.Option("--review-plan", help="Review (approve, drop, edit, cancel) the plan first."),
    ] = False,
    json_output: JsonOpt = False,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="DIR", help="Folder for the run's output."),
    ] = None,
    approve_all: Annotated[
        bool,
        typer.Option(
            "--approve-all",
            help="Approve every tool call and escalation (trusted, sandboxed runs only).",
        ),
    ] = False,
    library: Annotated[
        str | None,
        typer.Option(
            "--library",
            metavar="PATH",
            help="Your approved-answer library (folder or .jsonl) to draft from "
            "(default: $AGENTORCH_LIBRARY, else the workflow's own).",
        ),
    ] = None,
    context_tokens: Annotated[
        int | None,
        typer.Option(
            "--context-tokens",
            metavar="N",
            min=4000,
            help="Tokens of input a single model call may read: the workflow splits its work "
            "to keep within it (default 32000).",
        ),
    ] = None,
    max_concurrent_steps: ConcurrentOpt = None,
    events: EventsOpt = None,
    otlp: OtlpOpt = None,
    temporal: TemporalOpt = None,
    task_queue: QueueOpt = "agentorch",
    route: Annotated[
        list[str] | None,
        typer.Option(
            "--route",
            metavar="AGENT=QUEUE",
            help="With --temporal: run AGENT's model and tool calls on QUEUE's workers (repeatable).",
        ),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Run a workflow or a free-text task, with a live view of the plan, steps and spend."""
    from agentorch.cli.prepare import RunOptions
    from agentorch.cli.session import run_session

    opts = RunOptions(
        target=target,
        files=list(file or []),
        model=model,
        router_model=router_model,
        budget_usd=budget_usd,
        budget_tokens=budget_tokens,
        policy=policy,
        store=store,
        review_plan=review_plan,
        json=json_output,
        output=output,
        approve_all=approve_all,
        debug=debug,
        events=events,
        otlp=otlp,
        library=library,
        temporal=temporal,
        task_queue=task_queue,
        routes=list(route or []),
        context_tokens=context_tokens,
        max_concurrent_steps=max_concurrent_steps,
    )
    with handle_errors(debug, json_output=json_output):
        code = run_session(opts)
    raise typer.Exit(code)


def resume(
    run_id: Annotated[
        str,
        typer.Argument(
            help="The run id (or an unambiguous prefix).", metavar="RUN_ID", show_default=False
        ),
    ],
    budget_usd: Annotated[
        float | None,
        typer.Option(
            "--budget-usd",
            metavar="USD",
            help="A new dollar limit for the whole run (its token limit and prices stay).",
        ),
    ] = None,
    budget_tokens: Annotated[
        int | None,
        typer.Option(
            "--budget-tokens",
            metavar="N",
            help="A new token limit for the whole run (its dollar limit and prices stay).",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", metavar="MODEL", help="Continue on this model instead of the recorded one."
        ),
    ] = None,
    store: StoreOpt = None,
    json_output: JsonOpt = False,
    approve_all: Annotated[
        bool, typer.Option("--approve-all", help="Approve every tool call and escalation.")
    ] = False,
    max_concurrent_steps: ResumeConcurrentOpt = None,
    events: EventsOpt = None,
    otlp: OtlpOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Continue an interrupted, waiting, failed or budget-stopped run from its last checkpoint."""
    from agentorch.cli.prepare import RunOptions
    from agentorch.cli.session import resume_session

    opts = RunOptions(
        model=model,
        budget_usd=budget_usd,
        budget_tokens=budget_tokens,
        store=store,
        json=json_output,
        approve_all=approve_all,
        debug=debug,
        events=events,
        otlp=otlp,
        max_concurrent_steps=max_concurrent_steps,
    )
    with handle_errors(debug, json_output=json_output):
        code = resume_session(run_id, opts)
    raise typer.Exit(code)
