"""Workflows: a task, its specialists and a declared plan, packaged to run from Python or the CLI.

A workflow folder holds a ``workflow.py`` that defines ``workflow = Workflow(...)`` (see
``examples/rfp``). ``load_workflow`` imports it under a private module name; ``choose_engine``
decides between real models and the offline engine (the built-in specialists' deterministic
function models) and says why, in words the command line prints.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentorch.agent import Agent
from agentorch.errors import ConfigError, UserError
from agentorch.plan import Plan

if TYPE_CHECKING:
    from agentorch.approvals import Approver
    from agentorch.budget import Budget
    from agentorch.events.types import BaseEvent
    from agentorch.models.base import Model
    from agentorch.orchestrator import EscalationPolicy, Limits
    from agentorch.policy import Policy
    from agentorch.store.base import Store
    from agentorch.supervisor import RunResult, Supervisor

#: Environment variables that mean "a provider key is configured".
PROVIDER_KEYS: tuple[str, ...] = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "AZURE_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GROQ_API_KEY",
    "MISTRAL_API_KEY",
    "COHERE_API_KEY",
    "TOGETHER_API_KEY",
    "OPENROUTER_API_KEY",
    "AWS_ACCESS_KEY_ID",
)
#: The model used, when a key is set but no --model given, for specialists without their own.
DEFAULT_MODELS: dict[str, str] = {
    "OPENAI_API_KEY": "openai:gpt-4.1-mini",
    "ANTHROPIC_API_KEY": "anthropic:claude-sonnet-4-5",
}
OFFLINE_EXPLANATION = (
    "No provider key found: running on the offline engine (deterministic rule-based specialists). "
    "Set OPENAI_API_KEY and pass --model openai:gpt-4.1-mini to use a real model."
)


def choose_engine(model: str | None, env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``("offline" | "models", explanation)`` for a ``--model`` value (or ``None``).

    A given model always means real models. Without one, a provider key in the environment means
    the agents' own models (their class defaults); no key at all means the offline engine.
    """
    environ = os.environ if env is None else env
    if model:
        return "models", f"Running on {model}."
    keys = [k for k in PROVIDER_KEYS if environ.get(k)]
    if not keys:
        return "offline", OFFLINE_EXPLANATION
    fallback = default_model(environ)
    default = f", else {fallback}" if fallback else ""
    return "models", (
        f"Found {keys[0]}: running each specialist on its own default model{default} "
        "(pass --model provider:model to choose one)."
    )


def default_model(env: Mapping[str, str] | None = None) -> str | None:
    """The model for specialists without one when no --model is given: from the keys set."""
    environ = os.environ if env is None else env
    return next((model for key, model in DEFAULT_MODELS.items() if environ.get(key)), None)


#: The run-state key holding the context budget (tokens of input per model call).
CONTEXT_TOKENS_KEY = "context_tokens"


@dataclass(frozen=True)
class PlanInputs:
    """What a plan builder may read before the run starts: its input files and its state.

    A builder that takes it (``plan=build(inputs)``) can plan steps per part of the documents,
    so that no model call reads more than ``context_tokens``.
    """

    files: tuple[Path, ...]
    state: Mapping[str, Any] = field(default_factory=dict)

    @property
    def context_tokens(self) -> int:
        """The run's context budget: tokens of input a single model call may read."""
        from agentorch.documents.chunks import DEFAULT_CONTEXT_TOKENS

        return int(self.state.get(CONTEXT_TOKENS_KEY) or DEFAULT_CONTEXT_TOKENS)


@dataclass
class Workflow:
    """A packaged workflow: task, specialists, declared plan, input files, policy, run state.

    Relative paths (``files``, ``policy``, paths in ``state``) are used as given, so a workflow
    file should build them from ``Path(__file__).parent`` when they live beside it.
    """

    name: str
    task: str
    agents: Sequence[Agent | type[Agent]]
    plan: Plan | Callable[[], Plan] | Callable[[PlanInputs], Plan] | None = None
    files: Sequence[str | Path] = ()
    policy: str | Path | Policy | None = None
    state: dict[str, Any] = field(default_factory=dict)
    budget: Budget | None = None
    escalation: EscalationPolicy | None = None
    limits: Limits | None = None
    description: str = ""
    #: Tokens of input a single model call may read (default 32,000): a plan builder that takes
    #: ``PlanInputs`` splits the work to keep within it. ``--context-tokens`` overrides it.
    context_tokens: int | None = None
    #: Where the workflow was loaded from (set by ``load_workflow``).
    source: str | None = None

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ConfigError("a workflow needs a name")
        if not isinstance(self.task, str) or not self.task.strip():
            raise ConfigError(f"workflow {self.name!r} has no task")
        if not self.agents:
            raise ConfigError(f"workflow {self.name!r} lists no agents")
        if self.context_tokens is not None:
            from agentorch.documents.chunks import check_context_tokens

            try:
                check_context_tokens(self.context_tokens)
            except ValueError as exc:
                raise ConfigError(f"workflow {self.name!r}: {exc}") from None

    def run_state(self, state: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The run's state: the workflow's, ``state`` merged in, and the context budget."""
        merged = {**self.state, **(state or {})}
        if self.context_tokens is not None:
            merged.setdefault(CONTEXT_TOKENS_KEY, self.context_tokens)
        return merged

    def build_plan(
        self,
        files: Sequence[str | Path] | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> Plan | None:
        """The declared plan (calling the builder, if it is one, with the run's files and state)."""
        if self.plan is None or isinstance(self.plan, Plan):
            return self.plan
        if inspect.signature(self.plan).parameters:
            chosen = self.files if files is None else files
            inputs = PlanInputs(tuple(Path(f) for f in chosen), self.run_state(state))
            plan = self.plan(inputs)  # type: ignore[call-arg]
        else:
            plan = self.plan()  # type: ignore[call-arg]
        if not isinstance(plan, Plan):
            raise ConfigError(
                f"workflow {self.name!r}: its plan builder returned "
                f"{type(plan).__name__}, not a Plan"
            )
        return plan

    def specialists(self, model: str | Model | None = None) -> list[Agent]:
        """Fresh instances of the workflow's specialists; ``model`` replaces their own models."""
        agents: list[Agent] = []
        for item in self.agents:
            if isinstance(item, type):
                agent = item(model=model) if model is not None else item()
            else:
                agent = copy.copy(item)
                if model is not None:
                    agent.model = model
            agents.append(agent)
        return agents

    def supervisor(
        self,
        engine: str | None = None,
        model: str | Model | None = None,
        router_model: str | Model | None = None,
        budget: Budget | None = None,
        store: str | Store | None = None,
        approver: Approver | None = None,
        on_event: Callable[[BaseEvent], Any] | Sequence[Callable[[BaseEvent], Any]] | None = None,
        policy: str | Path | Policy | None = None,
        files: Sequence[str | Path] | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> Supervisor:
        """A supervisor that runs this workflow.

        Args:
            engine: "offline" (each specialist's deterministic model) or "models"; default:
                ``choose_engine(model)``.
            model: Every specialist's model (overrides their class defaults). Without it, on
                real models, specialists use their own, else ``default_model()``.
            router_model: Only used when the plan is not declared.
            budget: Overrides the workflow's default budget.
            store: As for ``Supervisor``.
            approver: As for ``Supervisor``.
            on_event: As for ``Supervisor``.
            policy: Overrides the workflow's policy file.
            files: The run's input files, for a plan built from them (default: the
                workflow's own).
            state: The run's initial state, for a plan built from it (default: the
                workflow's own).
        """
        from agentorch.budget import Budget
        from agentorch.supervisor import Supervisor

        if engine is None:
            engine = choose_engine(model if isinstance(model, str) else None)[0]
            if model is not None:
                engine = "models"
        if budget is None and self.budget is not None:
            budget = Budget.from_dict(self.budget.to_dict())  # a fresh budget per run
        chosen_model = model if engine == "models" else None
        fallback = chosen_model or (default_model() if engine == "models" else None)
        tools = None
        if self.source is not None:  # the workflow's own folder may bring a tools/ of its own
            from agentorch.discovery import discover_tools

            source = Path(self.source)
            tools = discover_tools(source if source.is_dir() else source.parent)
        return Supervisor(
            self.specialists(chosen_model),
            tools=tools,
            model=fallback,
            router_model=router_model,
            budget=budget,
            store=store,
            approver=approver,
            policy=policy if policy is not None else self.policy,
            plan=self.build_plan(files, state),
            limits=self.limits,
            escalation=self.escalation,
            on_event=on_event,
            engine=engine,
            name=self.name,
            description=self.description or f"The {self.name} workflow.",
        )

    async def run(
        self,
        *,
        files: Sequence[str | Path] | None = None,
        state: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        **supervisor_options: Any,
    ) -> RunResult:
        """Run the workflow once: ``files`` replace its default files, ``state`` is merged in."""
        chosen = list(self.files if files is None else files)
        run_state = self.run_state(state)
        supervisor = self.supervisor(files=chosen, state=run_state, **supervisor_options)
        return await supervisor.run(
            self.task,
            files=chosen,
            state=run_state,
            run_id=run_id,
            workflow=self.source or self.name,
        )

    def run_sync(self, **kwargs: Any) -> RunResult:
        """``run`` for synchronous code."""
        from agentorch._loop import run_sync

        return run_sync(self.run(**kwargs))


def load_workflow(path: str | Path) -> Workflow:
    """Load ``workflow`` from a folder's ``workflow.py`` or from a ``.py`` file.

    Raises:
        UserError: the folder or file does not exist, or defines no ``workflow``.
        ConfigError: the file has a syntax error or fails to import (file and line named).
    """
    target = Path(path)
    if not target.exists():
        raise UserError(
            f"workflow not found: {target}",
            hint="pass a folder that contains workflow.py (e.g. examples/rfp) or a .py file",
        )
    file = target / "workflow.py" if target.is_dir() else target
    if not file.is_file():
        raise UserError(
            f"{target} has no workflow.py",
            hint="a workflow folder holds workflow.py defining `workflow = Workflow(...)`",
        )
    if file.suffix != ".py":
        raise UserError(f"{file} is not a Python file", hint="a workflow is defined in a .py file")
    resolved = file.resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:10]
    name = f"_agentorch_ext.workflows.w{digest}"
    module = sys.modules.get(name)
    if module is None:
        from agentorch.discovery import _ensure_parent, _load_error

        _ensure_parent(name)
        spec = importlib.util.spec_from_file_location(name, resolved)
        if spec is None or spec.loader is None:
            raise ConfigError(f"cannot load {file} as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:
            del sys.modules[name]
            if isinstance(exc, UserError):
                raise
            if not isinstance(exc, Exception):
                raise
            raise _load_error(resolved, exc) from exc
    workflow = getattr(module, "workflow", None)
    if workflow is None:
        raise UserError(
            f"{file} defines no `workflow`",
            hint="define `workflow = Workflow(name=..., task=..., agents=[...], plan=...)` "
            "at module level",
        )
    if not isinstance(workflow, Workflow):
        raise UserError(
            f"`workflow` in {file} is a {type(workflow).__name__}, not an agentorch Workflow"
        )
    if workflow.source is None:
        workflow.source = str(target.resolve())
    return workflow


__all__ = [
    "CONTEXT_TOKENS_KEY",
    "DEFAULT_MODELS",
    "OFFLINE_EXPLANATION",
    "PROVIDER_KEYS",
    "PlanInputs",
    "Workflow",
    "choose_engine",
    "default_model",
    "load_workflow",
]
