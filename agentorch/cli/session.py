"""One terminal session of a run: what to run, how to show it, how it ends (``run`` and ``resume``)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from agentorch.cli import errors as ex
from agentorch.cli.prepare import (
    RunOptions,
    check_files,
    check_models,
    check_output,
    choose,
    choose_library,
    make_budget,
    open_cli_store,
    prepare_resume,
    prepare_task,
    prepare_workflow,
    resolve_store,
    resolve_target,
    store_flag,
)
from agentorch.cli.runner import Interrupted, PausingApprover, PromptInput, drive, stdin_is_terminal
from agentorch.cli.state import RunState

if TYPE_CHECKING:
    from agentorch.approvals import Approver
    from agentorch.budget import Budget
    from agentorch.cli.plain import PlainProgress
    from agentorch.cli.prepare import Prepared
    from agentorch.cli.view import LiveView
    from agentorch.events.redact import Redactor
    from agentorch.plan import Plan
    from agentorch.store.base import RunRecord, Store
    from agentorch.supervisor import RunResult


class Display:
    """Where a run is shown: the live view (terminal), plain lines (pipes, CI), or nothing (--json)."""

    def __init__(self, json_output: bool, console: Console | None = None) -> None:
        self.json = json_output
        self.console = console if console is not None else Console(highlight=False)
        self.err = ex.err_console()
        self.state = RunState()
        self.live: LiveView | None = None
        self.plain: PlainProgress | None = None
        #: The run's redactor: what the terminal shows of the run's result passes through it.
        self.redactor: Redactor | None = None
        if json_output:
            pass
        elif self.console.is_terminal:
            from agentorch.cli.view import LiveView

            self.live = LiveView(self.console, state=self.state)
        else:
            from agentorch.cli.plain import PlainProgress

            self.plain = PlainProgress(self.console, state=self.state)

    @property
    def subscriber(self) -> Any:
        if self.live is not None:
            return self.live
        if self.plain is not None:
            return self.plain
        return self.state.apply

    def use_redactor(self, redactor: Redactor) -> None:
        """Redact the result and the live view's streamed text with the supervisor's redactor."""
        self.redactor = redactor
        if self.live is not None:
            self.live.redactor = redactor

    def note(self, message: str, style: str = "dim") -> None:
        """A remark about the session (engine choice, hints): stderr in --json mode."""
        target = self.err if self.json else self.console
        target.print(Text(message, style=style), soft_wrap=True)


def make_approver(display: Display, opts: RunOptions, prompt: PromptInput | None) -> Approver:
    """Who decides approvals: approve-all, a terminal prompt, or the store (decided later)."""
    from agentorch.approvals import ApproveAll, DeferredApprover

    if opts.approve_all:
        return ApproveAll("cli:approve-all")
    if prompt is None:
        return DeferredApprover()
    from agentorch.cli.approver import TerminalApprover

    return PausingApprover(TerminalApprover(display.console, input=prompt), display.live)


# --- running ---------------------------------------------------------------------------------------


def run_session(opts: RunOptions, console: Console | None = None) -> int:
    """``agentorch run``: returns the exit code."""
    display = Display(opts.json, console)
    target = resolve_target(opts.target)
    check_files(opts.files)
    check_output(opts.output)
    check_events(opts.events)
    # on Temporal the workers make the model calls, with their own keys
    check_models(opts.model, opts.router_model, credentials=opts.temporal is None)
    if opts.review_plan and (opts.json or not stdin_is_terminal()):
        from agentorch.errors import UserError

        raise UserError(
            "--review-plan needs an interactive terminal",
            hint="drop --json, or run it in a terminal",
        )
    engine, explanation = choose(opts.model)
    if engine == "offline":
        display.note(explanation, style="yellow")
    url = resolve_store(opts.store)
    store = open_cli_store(url)
    prompt = PromptInput(display.console) if (stdin_is_terminal() and not opts.json) else None
    approver = make_approver(display, opts, prompt)
    if target.kind == "workflow":  # the options change the workflow's budget's limits
        prepared = prepare_workflow(
            target.value, engine, opts, approver, display.subscriber, store, None
        )
    else:
        budget = make_budget(opts.budget_usd, opts.budget_tokens)
        prepared = prepare_task(
            target.value, engine, opts, approver, display.subscriber, store, budget
        )
    library = choose_library(prepared.state, opts.library)
    if library:
        display.note(f"Approved-answer library: {library}")
    prepared.supervisor.stream_text = display.live is not None  # streamed text is shown live only
    display.use_redactor(prepared.supervisor.redactor)
    run_id = uuid.uuid4().hex[:12]
    display.state.run_id = run_id

    if opts.review_plan:
        prepared.supervisor.plan_reviewer = _plan_reviewer(prepared, display, prompt)

    temporal = _temporal(opts, target)
    if temporal is not None:
        # workers write where this command would have: under its folder (a shared disk, or -o)
        from pathlib import Path

        output = Path(str(prepared.state.get("output_dir") or "out"))
        prepared.state["output_dir"] = str(output.resolve())

    async def go() -> RunResult:
        if display.live is not None:
            display.live.start()
        return await prepared.supervisor.run(
            prepared.task,
            files=prepared.files,
            state=prepared.state,
            run_id=run_id,
            workflow=prepared.workflow,
            temporal=temporal,
        )

    closers = attach_sinks(prepared.supervisor, opts)
    try:
        code = _finish(go, display, opts, url, store, run_id, prompt)
    finally:
        for close in closers:
            close()
    if temporal is not None and code in (ex.EXIT_WAITING, ex.EXIT_IN_DOUBT):
        display.note(
            f"The run's workflow waits on Temporal: `agentorch approve {run_id}"
            f"{store_flag(url)}` continues it there (no resume needed).",
            style="yellow",
        )
    return code


def _temporal(opts: RunOptions, target: Any) -> Any:
    """``--temporal HOST:PORT``: where the run executes (``None``: in this process)."""
    if opts.temporal is None:
        if opts.routes:
            from agentorch.errors import UserError

            raise UserError(
                "--route needs --temporal", hint="agentorch run ... --temporal HOST:PORT"
            )
        return None
    from agentorch.cli.prepare import app_name
    from agentorch.errors import UserError
    from agentorch.temporal import Temporal

    if opts.review_plan:
        raise UserError(
            "--review-plan asks at this terminal, but a run on Temporal plans on its workers",
            hint="drop --temporal to review the plan here, or declare the plan in the workflow",
        )
    routes: dict[str, str] = {}
    for item in opts.routes:
        agent, sep, queue = item.partition("=")
        if not sep or not agent.strip() or not queue.strip():
            raise UserError(f"--route {item!r} is not AGENT=QUEUE", hint="e.g. --route writer=gpu")
        routes[agent.strip()] = queue.strip()
    return Temporal(
        opts.temporal,
        task_queue=opts.task_queue,
        app=app_name(target),
        routes=routes,
        approve_all=opts.approve_all,
    )


def resume_session(run_id: str, opts: RunOptions, console: Console | None = None) -> int:
    """``agentorch resume`` (and ``approve --resume``): returns the exit code."""
    display = Display(opts.json, console)
    check_events(opts.events)
    check_models(opts.model, opts.router_model, credentials=False)
    url = resolve_store(opts.store)
    store = open_cli_store(url)
    record = store.get_run(run_id)
    if "temporal" in record.spec:
        from agentorch.errors import UserError

        raise UserError(
            f"run {record.run_id} runs on Temporal: its workflow continues it, not resume",
            hint=f"see it with `agentorch show {record.run_id}`; decide its approvals with "
            "`agentorch approve`",
        )
    prompt = PromptInput(display.console) if (stdin_is_terminal() and not opts.json) else None
    approver = make_approver(display, opts, prompt)
    supervisor = prepare_resume(record, opts, approver, display.subscriber, store)
    check_models(opts.model, opts.router_model)  # given or recorded: their keys are needed here
    supervisor.stream_text = display.live is not None
    display.use_redactor(supervisor.redactor)
    budget = make_budget(opts.budget_usd, opts.budget_tokens, _recorded_budget(record))
    display.state.run_id = record.run_id
    if record.plan:
        display.state.set_plan(record.plan, "recorded")
    display.state.task, display.state.workflow = record.task, record.workflow

    async def go() -> RunResult:
        if display.live is not None:
            display.live.start()
        return await supervisor.resume(
            record.run_id, budget=budget, max_concurrent_steps=opts.max_concurrent_steps
        )

    closers = attach_sinks(supervisor, opts)
    try:
        return _finish(go, display, opts, url, store, record.run_id, prompt)
    finally:
        for close in closers:
            close()


def check_events(file: str | None) -> None:
    """``--events FILE`` can be appended to (its missing folders are made), before the run starts."""
    from agentorch.cli.outputs import check_output_file

    check_output_file("--events", file, "the events (JSON Lines)")


def attach_sinks(supervisor: Any, opts: RunOptions) -> list[Any]:
    """``--events FILE`` (JSON Lines) and ``--otlp URL`` (OpenTelemetry traces); their closers."""
    closers: list[Any] = []
    if opts.events:
        from agentorch.events import JsonlSink

        sink = JsonlSink(opts.events)
        supervisor.subscribe(sink)
        closers.append(sink.close)
    if opts.otlp:
        from agentorch.events import OTelSink, configure_otlp

        provider = configure_otlp(None if opts.otlp == "env" else opts.otlp)
        supervisor.subscribe(OTelSink(provider, capture_content=None))  # the GenAI env switch
        closers.append(provider.shutdown)
    return closers


def _recorded_budget(record: RunRecord) -> Budget:
    from agentorch.budget import Budget

    return Budget.from_dict(record.budget) if record.budget else Budget()


def _plan_reviewer(prepared: Prepared, display: Display, prompt: PromptInput | None) -> Any:
    """The supervisor's plan-review hook: pause the live view and ask at the terminal."""
    import asyncio

    from agentorch.cli.review import review_plan

    ask = prompt if prompt is not None else input

    async def reviewer(plan: Plan) -> Plan:
        if display.live is not None:
            display.live.pause()
        try:
            return await asyncio.to_thread(
                review_plan, plan, prepared.supervisor.agents, console=display.console, ask=ask
            )
        finally:
            if display.live is not None:
                display.live.resume()

    return reviewer


def _finish(
    go: Any,
    display: Display,
    opts: RunOptions,
    url: str,
    store: Store,
    run_id: str,
    prompt: PromptInput | None,
) -> int:
    from agentorch.cli.review import PlanCancelled

    flag = store_flag(url)
    try:
        result = drive(go(), prompt=prompt)
    except Interrupted:
        _stop_live(display)
        return _interrupted(display, opts, store, run_id, flag)
    except PlanCancelled as exc:
        _stop_live(display)
        if opts.json:
            ex.write_json(
                {
                    "run_id": None,
                    "status": "cancelled",
                    "exit_code": ex.EXIT_INTERRUPTED,
                    "error": str(exc),
                }
            )
        else:
            display.note(str(exc), style="yellow")
        return ex.EXIT_INTERRUPTED
    except BaseException:
        _stop_live(display)
        raise
    _stop_live(display)
    return report(result, display, opts, flag)


def _stop_live(display: Display) -> None:
    if display.live is not None:
        display.live.stop()


def _interrupted(display: Display, opts: RunOptions, store: Store, run_id: str, flag: str) -> int:
    from agentorch.errors import RunNotFoundError

    try:
        status = store.get_run(run_id).status
    except RunNotFoundError:
        status = None
    if status is None:
        message, resume = "interrupted before the run started; nothing was run", None
    else:
        message, resume = (
            f"run {run_id} interrupted; its progress is saved",
            f"agentorch resume {run_id}{flag}",
        )
    if opts.json:
        ex.write_json(
            {
                "run_id": run_id if status else None,
                "status": "interrupted",
                "exit_code": ex.EXIT_INTERRUPTED,
                "resume": resume,
            }
        )
    else:
        display.console.print(Text(f"\n⏸ {message}", style="bold yellow"))
        if resume:
            display.console.print(
                Text("Resume it with: ", style="bold") + Text(resume, style="cyan")
            )
    return ex.EXIT_INTERRUPTED


_USER_ERROR_NAMES = (
    "UserError",
    "ConfigError",
    "UnknownModelError",
    "MissingDependencyError",
    "MissingCredentialsError",
    "UnknownAgentError",
    "UnknownToolError",
    "DuplicateNameError",
    "InputFileError",
    "PolicyError",
    "PriceError",
    "RunNotFoundError",
    "RunLockedError",
)


def user_error_in(result: RunResult) -> bool:
    """Whether a failed run failed on the user's setup (no API key, unknown model, bad policy)."""
    error = result.error or ""
    return result.status == "failed" and error.startswith(tuple(f"{n}:" for n in _USER_ERROR_NAMES))


def redact_result(result: RunResult, redactor: Redactor) -> RunResult:
    """The result with secrets in its output, error and pending approvals replaced."""
    from dataclasses import replace

    return replace(
        result,
        output=redactor.redact_value(result.output),
        error=redactor.redact_text(result.error) if result.error else result.error,
        pending_approvals=[redactor.redact_event(a) for a in result.pending_approvals],
    )


def report(result: RunResult, display: Display, opts: RunOptions, flag: str) -> int:
    """Print the summary (or the JSON result) and return the exit code."""
    from agentorch.cli.summary import (
        output_path,
        render_summary,
        result_json,
        run_outcome,
        save_output,
    )

    if display.redactor is not None:  # nothing secret reaches the terminal or a saved file
        result = redact_result(result, display.redactor)
    code = ex.exit_code_for(result.status)
    outcome = run_outcome(result.output) if result.status == "succeeded" else None
    if outcome is not None and not outcome["complete"]:
        code = ex.EXIT_INCOMPLETE
    credentials = list(display.state.credential_errors)
    if result.status == "failed" and (credentials or user_error_in(result)):
        code = ex.EXIT_USER_ERROR
    location = output_path(result.output)
    if (
        location is None
        and opts.output
        and result.status == "succeeded"
        and result.output is not None
    ):
        location = save_output(result.output, opts.output, result.run_id)
    if opts.json:
        ex.write_json(result_json(result, output_location=location, exit_code=code))
        return code
    display.console.print(
        render_summary(
            result, output_location=location, store_flag=flag, credential_errors=credentials
        )
    )
    if code == ex.EXIT_USER_ERROR:
        key_hint = "set the provider's API key (e.g. OPENAI_API_KEY), or drop --model to use the offline engine"
        if credentials:
            ex.print_error(
                display.err, f"the provider rejected the API key: {credentials[0]}", key_hint
            )
        else:
            error = result.error or "the run failed on its configuration"
            ex.print_error(display.err, error, key_hint if "API key" in error else None)
    return code
