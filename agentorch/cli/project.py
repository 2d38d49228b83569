"""``agentorch agents``, ``tools``, ``policy check`` and ``init``: the project around the runs."""

from __future__ import annotations

import inspect as _inspect
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentorch.cli.errors import handle_errors
from agentorch.cli.run import DebugOpt, JsonOpt

if TYPE_CHECKING:
    from agentorch.agent import Agent
    from agentorch.tools.base import Tool

ProjectOpt = Annotated[
    str | None,
    typer.Option(
        "--project",
        metavar="DIR",
        help="Project folder with agents/ and tools/ (default: here).",
    ),
]
_RISK_STYLE = {"read": "green", "write": "yellow", "external": "magenta", "destructive": "bold red"}
TEMPLATES = Path(__file__).parent / "templates" / "project"

policy_app = typer.Typer(
    help="Check policy files.", no_args_is_help=True, pretty_exceptions_enable=False
)


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


def agent_source(cls: type[Agent]) -> str:
    """Where a specialist came from: built-in, the project (its file), or a package."""
    module = cls.__module__
    if module.startswith("_agentorch_ext.bundled."):
        return "built-in"
    if module.startswith("_agentorch_ext."):
        try:
            return "project: " + _relative(_inspect.getfile(cls))
        except (TypeError, OSError):
            return "project"
    return f"package: {module}"


def tool_source(item: Tool) -> str:
    from agentorch.discovery import bundled_dir

    source = item.source
    bundled = bundled_dir("tools")
    if bundled is not None and source.startswith(str(bundled)):
        return "built-in"
    if source.endswith(".py"):
        return "project: " + _relative(source)
    return source


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def _discover(project: str | None) -> tuple[dict[str, type[Agent]], dict[str, Tool]]:
    from agentorch.discovery import discover_agents, discover_tools
    from agentorch.errors import UserError

    if project is not None and not Path(project).is_dir():  # else: only the built-ins, silently
        raise UserError(
            f"project folder not found: {project}",
            hint="pass the folder that holds your agents/ and tools/ (default: the current one)",
        )
    agents = discover_agents(project)
    tools = {t.name: t for t in discover_tools(project)}
    return agents, tools


def first_sentence(text: str, limit: int = 72) -> str:
    """The first sentence of a description, shortened for a table cell."""
    text = " ".join((text or "").split())
    cut = text.find(". ")
    if 0 < cut < limit:
        return text[: cut + 1]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _model_name(cls: type[Agent]) -> str:
    from agentorch.agent import Agent

    model = cls.model
    name = model if isinstance(model, str) else (getattr(model, "id", None) or "(default)")
    if cls.offline_model is not Agent.offline_model:
        name += " · offline ✓"
    return name


# --- agents and tools ------------------------------------------------------------------------------


def agents(
    project: ProjectOpt = None, json_output: JsonOpt = False, debug: DebugOpt = False
) -> None:
    """List the specialists (built-in and your project's): description, model, tools and their risk."""
    from rich.table import Table
    from rich.text import Text

    from agentorch.cli.errors import write_json

    with handle_errors(debug, json_output=json_output):
        found, tools = _discover(project)
        if json_output:
            write_json(
                {
                    "agents": [
                        {
                            "name": name,
                            "description": cls.description,
                            "model": _model_name(cls),
                            "tools": [
                                {"name": t, "risk": tools[t].risk if t in tools else None}
                                for t in (cls.tools or [])
                            ],
                            "source": agent_source(cls),
                        }
                        for name, cls in found.items()
                    ]
                }
            )
            return
        table = Table(
            title="Specialists", title_justify="left", title_style="bold", header_style="bold"
        )
        for col in ("name", "description", "model", "tools (risk)", "source"):
            table.add_column(col, overflow="fold")
        for name, cls in found.items():
            listed = Text()
            for i, t in enumerate(cls.tools or []):
                risk = tools[t].risk if t in tools else "?"
                listed.append(("\n" if i else "") + t)
                listed.append(f" ({risk})", style=_RISK_STYLE.get(risk, "dim"))
            table.add_row(
                Text(name, style="bold cyan"),
                first_sentence(cls.description),
                _model_name(cls),
                listed
                if cls.tools
                else Text("all permitted" if cls.tools is None else "none", style="dim"),
                agent_source(cls),
            )
        _console().print(table)


def tools(
    project: ProjectOpt = None, json_output: JsonOpt = False, debug: DebugOpt = False
) -> None:
    """List the tools: name, risk, whether a call needs approval, and where it comes from."""
    from rich.table import Table
    from rich.text import Text

    from agentorch.cli.errors import write_json

    with handle_errors(debug, json_output=json_output):
        _, found = _discover(project)
        rows = [
            (
                t.name,
                t.risk,
                "always" if t.requires_approval else "by policy",
                tool_source(t),
                t.description,
            )
            for t in found.values()
        ]
        if json_output:
            write_json(
                {
                    "tools": [
                        dict(
                            zip(
                                ("name", "risk", "approval", "source", "description"),
                                r,
                                strict=True,
                            )
                        )
                        for r in rows
                    ]
                }
            )
            return
        table = Table(title="Tools", title_justify="left", title_style="bold", header_style="bold")
        for col in ("name", "risk", "approval", "source", "description"):
            table.add_column(col, overflow="fold")
        for name, risk, approval, source, description in rows:
            table.add_row(
                Text(name, style="bold cyan"),
                Text(risk, style=_RISK_STYLE.get(risk, "")),
                approval,
                source,
                first_sentence(description, 60),
            )
        _console().print(table)


# --- policy check ----------------------------------------------------------------------------------


@policy_app.command("check")
def policy_check(
    file: Annotated[
        str,
        typer.Argument(
            help="The policy file (.toml, .yaml).", metavar="POLICY_FILE", show_default=False
        ),
    ],
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            metavar="DIR",
            help="Project folder with agents/ and tools/ (default: the policy file's folder).",
        ),
    ] = None,
    json_output: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Validate a policy file and print what each agent may do: tools, approvals, ceilings."""
    from rich.table import Table
    from rich.text import Text

    from agentorch.cli.errors import write_json
    from agentorch.policy import Policy

    with handle_errors(debug, json_output=json_output):
        policy = Policy.load(file)
        # the policy sits in its project: its agents are the ones it names, wherever we run from
        found, registered = _discover(project if project is not None else str(Path(file).parent))
        # nested supervisors are built in code: a path (ops.clerk) is checked by its last part here,
        # and in full when a supervisor loads the policy
        policy.validate_names(found, registered, paths_known=False)
        declared = {n: c.tools for n, c in found.items()}
        for name in policy.data.agents:
            if "." in name:
                declared[name] = found[name.rsplit(".", 1)[-1]].tools
        report = policy.describe(declared, registered)
        if json_output:
            write_json(
                {
                    "policy": file,
                    "hash": policy.hash,
                    "agents": [a.model_dump(mode="json") for a in report],
                }
            )
            return
        console = _console()
        console.print(
            Text("✔ ", style="bold green")
            + Text(f"{file} is valid")
            + Text(f"  (hash {policy.hash[:16]})", style="dim")
        )
        for perms in report:
            title = Text(perms.agent, style="bold cyan")
            if perms.risk_ceiling:
                title.append(f"  risk ceiling: {perms.risk_ceiling}", style="yellow")
            if not perms.policy_section:
                title.append("  (defaults only)", style="dim")
            if "." in perms.agent:
                title.append("  (an agent of a nested supervisor)", style="dim")
            console.print(title)
            if perms.allowed:
                table = Table(box=None, padding=(0, 2), header_style="bold dim", show_edge=False)
                for col in ("  tool", "risk", "approval", "why / when"):
                    table.add_column(col, overflow="fold")
                for p in perms.allowed:
                    why = "; ".join([*p.reasons, *p.conditions])
                    table.add_row(
                        f"  {p.tool}",
                        Text(p.risk, style=_RISK_STYLE.get(p.risk, "")),
                        Text(p.approval, style="magenta" if p.approval != "never" else "dim"),
                        why,
                    )
                console.print(table)
            else:
                console.print(Text("  may call no tools", style="dim"))
            if perms.refused:
                refused = ", ".join(r.tool for r in perms.refused)
                console.print(Text(f"  refused: {refused}", style="dim"))


# --- init ------------------------------------------------------------------------------------------


def template_files() -> list[tuple[str, Path]]:
    """(relative path in the new project, template file) for every file ``init`` writes."""
    out = []
    for path in sorted(TEMPLATES.rglob("*.tmpl")):
        out.append((str(path.relative_to(TEMPLATES))[: -len(".tmpl")], path))
    return out


def init(
    directory: Annotated[
        str | None,
        typer.Argument(
            metavar="DIR",
            help="Where to create the project (default: here, or the example's name).",
            show_default=False,
        ),
    ] = None,
    example: Annotated[
        str | None,
        typer.Option(
            "--example",
            metavar="NAME",
            help="Copy a bundled example workflow instead (rfp: the RFP response, its library "
            "and policy) to edit and run as your own.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files that already exist.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Scaffold a project: one specialist, one tool, a policy, a workflow; runs offline as is."""
    from rich.text import Text

    with handle_errors(debug):
        from agentorch.errors import UserError

        if example is not None:
            _copy_example(example, directory, force)
            return
        directory = directory or "."
        root = Path(directory)
        files = template_files()
        clashes = [rel for rel, _ in files if (root / rel).exists()]
        if clashes and not force:
            raise UserError(
                f"{root} already has {', '.join(clashes)}",
                hint="choose an empty folder, or pass --force to overwrite",
            )
        name = root.resolve().name or "project"
        for rel, template in files:
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(
                template.read_text(encoding="utf-8").replace("{{project}}", name), encoding="utf-8"
            )
        console = _console()
        console.print(Text("✔ ", style="bold green") + Text(f"created a project in {root}"))
        for rel, _ in files:
            console.print(Text(f"  {rel}", style="cyan"))
        here = "" if directory == "." else f"cd {directory} && "
        console.print(
            Text("Next: ", style="bold")
            + Text(f"{here}agentorch agents && agentorch run .", style="cyan")
        )


#: Left behind by runs of an example; never copied out of it.
_RUN_LEFTOVERS = ("out", "submissions", "__pycache__", "runs.db*", ".cache")


def _copy_example(name: str, directory: str | None, force: bool) -> None:
    """``init --example NAME [DIR]``: the bundled example's folder, copied to DIR (default NAME)."""
    import shutil

    from rich.text import Text

    from agentorch.discovery import bundled_examples
    from agentorch.errors import UserError

    examples = bundled_examples()
    if name not in examples:
        raise UserError(
            f"no bundled example named {name!r}",
            hint=f"bundled examples: {', '.join(examples) or 'none found'}",
        )
    root = Path(directory or name)
    if root.exists() and any(root.iterdir()) and not force:
        raise UserError(
            f"{root} already exists and is not empty",
            hint="choose another folder, or pass --force to overwrite the example's files",
        )
    shutil.copytree(
        examples[name],
        root,
        ignore=shutil.ignore_patterns(*_RUN_LEFTOVERS),
        dirs_exist_ok=True,
    )
    console = _console()
    console.print(Text("✔ ", style="bold green") + Text(f"copied the {name} example to {root}"))
    for path in sorted(p for p in root.iterdir()):
        console.print(Text(f"  {path.name}{'/' if path.is_dir() else ''}", style="cyan"))
    console.print(Text("Next: ", style="bold") + Text(f"agentorch run {root}", style="cyan"))
