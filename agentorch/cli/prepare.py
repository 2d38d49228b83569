"""Preparing a run from the command line: the store, the target, the checks, the supervisor."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentorch.approvals import Approver
    from agentorch.budget import Budget
    from agentorch.store.base import RunRecord, Store
    from agentorch.supervisor import Supervisor

#: Where runs go when neither ``--store`` nor ``$AGENTORCH_STORE`` says otherwise.
DEFAULT_STORE = "sqlite:///runs.db"
#: Key of the run's state where the command line keeps the options ``resume`` needs again.
CLI_STATE_KEY = "cli_options"


def resolve_store(url: str | None) -> str:
    return url or os.environ.get("AGENTORCH_STORE") or DEFAULT_STORE


def store_flag(url: str) -> str:
    """`` --store URL`` for printed commands, when the store is not the default one."""
    return "" if url == resolve_store(None) else f" --store {url}"


def open_cli_store(url: str) -> Store:
    """Open the store; it is closed when the command ends."""
    import click

    from agentorch.store import open_store

    store = open_store(url)
    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(store.close)
    return store


@dataclass
class RunOptions:
    """What ``agentorch run`` / ``resume`` / ``approve --resume`` were asked to do."""

    target: str = ""
    files: list[str] = field(default_factory=list)
    model: str | None = None
    router_model: str | None = None
    budget_usd: float | None = None
    budget_tokens: int | None = None
    policy: str | None = None
    store: str | None = None
    review_plan: bool = False
    json: bool = False
    output: str | None = None
    approve_all: bool = False
    debug: bool = False
    events: str | None = None
    otlp: str | None = None
    library: str | None = None
    #: Run on the Temporal service at HOST:PORT instead of in this process.
    temporal: str | None = None
    task_queue: str = "agentorch"
    #: AGENT=QUEUE: an agent's model and tool calls go to that task queue's workers.
    routes: list[str] = field(default_factory=list)
    context_tokens: int | None = None
    #: Steps the run keeps in flight at once (recorded in the run's state).
    max_concurrent_steps: int | None = None


def app_name(target: Target) -> str:
    """The name a worker serves a target under: the workflow folder's (or file's) name."""
    if target.kind == "workflow":
        path = Path(target.value)
        return path.stem if path.suffix == ".py" else path.name
    return "task"


@dataclass
class Target:
    """A workflow (folder or ``.py`` file) or a free-text task."""

    kind: str  # "workflow" | "task"
    value: str


def resolve_target(text: str) -> Target:
    """Decide whether ``text`` names a workflow or is a task; a missing workflow is an error."""
    from agentorch.errors import UserError

    if not text.strip():
        raise UserError(
            "nothing to run", hint='agentorch run examples/rfp, or agentorch run "a task in quotes"'
        )
    path = Path(text).expanduser()
    if path.exists():
        if path.is_dir() or path.suffix == ".py":
            return Target("workflow", str(path.resolve()))
        from agentorch.documents import SUPPORTED_SUFFIXES

        if path.suffix.lower() in SUPPORTED_SUFFIXES:  # a document: the input, not the workflow
            raise UserError(
                f"{text} is a document, not a workflow",
                hint=f"pass it as the workflow's input: agentorch run rfp --file {text}",
            )
        raise UserError(
            f"{text} is not a workflow", hint="pass a folder with a workflow.py, or a .py file"
        )
    looks_like_path = not any(c.isspace() for c in text) and (
        "/" in text or os.sep in text or text.endswith(".py")
    )
    if looks_like_path:
        raise UserError(
            f"unknown workflow {text!r}: no such folder or file",
            hint="pass a workflow folder (with workflow.py) or a .py file; quote a free-text task",
        )
    from agentorch.discovery import bundled_examples

    examples = bundled_examples()
    if text in examples:  # an example that ships with agentorch: `agentorch run rfp`
        return Target("workflow", str(examples[text]))
    if not any(c.isspace() for c in text):  # one word: a task, unless it is a mistyped folder
        known = [*_workflow_folders(Path.cwd()), *examples]
        near = difflib.get_close_matches(text, known, n=1, cutoff=0.75)
        if near:
            raise UserError(
                f"unknown workflow {text!r}: no such folder (did you mean {near[0]}?)",
                hint='pass a workflow folder; a free-text task goes in quotes: "Summarise X"',
            )
    return Target("task", text)


def _workflow_folders(root: Path) -> list[str]:
    """Folders under ``root`` (one or two levels) that hold a workflow.py, as relative paths."""
    found = []
    for pattern in ("*/workflow.py", "*/*/workflow.py"):
        found += [f.parent.relative_to(root).as_posix() for f in sorted(root.glob(pattern))]
    return found + [Path(f).name for f in found]


def check_files(files: list[str]) -> None:
    from agentorch.errors import InputFileError

    for file in files:
        path = Path(file)
        if path.is_dir():
            raise InputFileError(
                f"input file {file} is a folder, not a document",
                hint="pass each document with its own --file (e.g. --file "
                f"{(path / 'rfp.pdf').as_posix()})",
            )
        if not path.is_file():
            raise InputFileError(
                f"input file not found: {file}", hint="check the path given with --file"
            )


def check_output(folder: str | None) -> None:
    """``--output`` names a folder (made when missing): a file there would fail the run's last
    steps after everything else was paid for."""
    from agentorch.cli.outputs import check_output_folder

    check_output_folder("--output", folder)


def check_models(*models: str | None, credentials: bool = True) -> None:
    """Fail fast (before anything runs) on a malformed ``provider:model`` string, and on a
    missing API key when this process makes the calls (``credentials``): a run that could only
    fail is not started, so it leaves no failed run behind."""
    from agentorch.models import infer_model

    for spec in models:
        if spec:
            model = infer_model(spec)
            if credentials:
                model.check_credentials()


def make_budget(usd: float | None, tokens: int | None, base: Budget | None = None) -> Budget | None:
    from agentorch.budget import Budget

    if base is not None:
        if usd is None and tokens is None:
            return base
        limits: dict[str, Any] = {}
        if usd is not None:
            limits["usd"] = usd
        if tokens is not None:
            limits["tokens"] = tokens
        return base.with_limits(**limits)
    if usd is None and tokens is None:
        return None
    return Budget(usd=usd, tokens=tokens)


@dataclass
class Prepared:
    """A supervisor ready to run, and how to call it."""

    supervisor: Supervisor
    task: str
    files: list[str]
    state: dict[str, Any]
    workflow: str | None


def cli_options(opts: RunOptions, engine: str) -> dict[str, Any]:
    return {"engine": engine, "model": opts.model, "router_model": opts.router_model}


def run_limits(state: dict[str, Any], opts: RunOptions) -> None:
    """``--max-concurrent-steps``: recorded in the run's state (a resume and Temporal keep it)."""
    from agentorch.limits import CONCURRENT_STEPS_KEY

    if opts.max_concurrent_steps is not None:
        state[CONCURRENT_STEPS_KEY] = opts.max_concurrent_steps


def prepare_workflow(
    path: str,
    engine: str,
    opts: RunOptions,
    approver: Approver,
    on_event: Any,
    store: Store,
    budget: Budget | None,
) -> Prepared:
    """The workflow's supervisor. ``budget`` replaces the workflow's budget; without one,
    ``--budget-usd`` / ``--budget-tokens`` change only the limit they name (its prices stay)."""
    from agentorch.workflow import CONTEXT_TOKENS_KEY, load_workflow

    workflow = load_workflow(path)
    if budget is None:
        base = workflow.budget.fresh() if workflow.budget is not None else None
        budget = make_budget(opts.budget_usd, opts.budget_tokens, base)
    state = workflow.run_state()
    if opts.output:
        state["output_dir"] = str(Path(opts.output).resolve())
    if opts.context_tokens is not None:
        state[CONTEXT_TOKENS_KEY] = opts.context_tokens
    run_limits(state, opts)
    state[CLI_STATE_KEY] = cli_options(opts, engine)
    # --file replaces the workflow's own input files (it is the same job on another document)
    files = list(opts.files) or [str(f) for f in (getattr(workflow, "files", None) or [])]
    supervisor = workflow.supervisor(
        engine=engine,
        model=opts.model,
        router_model=opts.router_model,
        budget=budget,
        store=store,
        approver=approver,
        on_event=on_event,
        policy=opts.policy,
        files=files,
        state=state,
    )
    return Prepared(supervisor, workflow.task, files, state, path)


#: The run-state key the bundled answer tools read the approved-answer library from.
LIBRARY_KEY = "library"
LIBRARY_ENV = "AGENTORCH_LIBRARY"


def choose_library(state: dict[str, Any], given: str | None) -> str | None:
    """``--library``, else ``$AGENTORCH_LIBRARY``, else the workflow's own: checked, absolute.

    Sets ``state["library"]`` and returns it (``None`` when no library applies to the run).
    """
    from agentorch.errors import ConfigError

    configured = given or os.environ.get(LIBRARY_ENV)
    if not configured:
        current = state.get(LIBRARY_KEY)
        return str(current) if current else None
    path = Path(configured).expanduser()
    source = "--library" if given else f"${LIBRARY_ENV}"
    if not path.exists():
        raise ConfigError(
            f"approved-answer library not found: {configured} (from {source})",
            hint="give a library folder of *.md answers or a *.jsonl file",
        )
    state[LIBRARY_KEY] = str(path.resolve())
    return state[LIBRARY_KEY]


def prepare_task(
    task: str,
    engine: str,
    opts: RunOptions,
    approver: Approver,
    on_event: Any,
    store: Store,
    budget: Budget | None,
) -> Prepared:
    from agentorch.discovery import discover_agents
    from agentorch.errors import ConfigError
    from agentorch.supervisor import Supervisor

    router = opts.router_model or opts.model
    if engine == "offline" or router is None:
        raise ConfigError(
            "planning a free-text task needs a router model",
            hint="pass --model (or --router-model) such as openai:gpt-4.1-mini with its API key set, "
            "or run a workflow offline: agentorch run rfp (the bundled RFP example)",
        )
    agents = discover_agents()
    supervisor = Supervisor(
        list(agents.values()),
        model=opts.model,
        router_model=router,
        budget=budget,
        store=store,
        approver=approver,
        on_event=on_event,
        policy=opts.policy,
        engine=engine,
    )
    state: dict[str, Any] = {CLI_STATE_KEY: cli_options(opts, engine)}
    run_limits(state, opts)
    if opts.output:
        state["output_dir"] = str(Path(opts.output).resolve())
    return Prepared(supervisor, task, list(opts.files), state, None)


def prepare_resume(
    record: RunRecord, opts: RunOptions, approver: Approver, on_event: Any, store: Store
) -> Supervisor:
    """Rebuild the supervisor of a recorded run: its workflow, or the discovered specialists."""
    saved = dict((record.spec.get("state") or {}).get(CLI_STATE_KEY) or {})
    opts.model = opts.model or saved.get("model")
    opts.router_model = opts.router_model or saved.get("router_model")
    engine = (
        "models"
        if opts.model
        else str(record.spec.get("engine") or saved.get("engine") or "offline")
    )
    if record.workflow:
        prepared = prepare_workflow(record.workflow, engine, opts, approver, on_event, store, None)
        return prepared.supervisor
    return prepare_task(record.task, engine, opts, approver, on_event, store, None).supervisor


def choose(model: str | None) -> tuple[str, str]:
    from agentorch.workflow import choose_engine

    return choose_engine(model)
