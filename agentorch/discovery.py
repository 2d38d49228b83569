"""Finding specialists and tools: bundled folders, the user's project folders, entry points.

A specialist is any ``Agent`` subclass with a ``name`` defined in a module of an ``agents/``
folder; a tool is any module-level ``Tool`` (made with ``@tool``) in a ``tools/`` folder.
Folders are imported as packages under private names (``_agentorch_ext.bundled.agents``,
``_agentorch_ext.project_<hash>.tools``), never as top-level ``agents``/``tools``: the OpenAI
Agents SDK owns the import name ``agents``. Modules whose names start with ``_`` are helpers:
importable (relatively) by the others, but not scanned.

Sources, in order: the bundled folders (``<repo>/agents`` and ``<repo>/tools`` in a source
checkout, ``agentorch/_bundled/...`` in a wheel), the project's ``./agents`` and ``./tools``, and
the entry-point groups ``agentorch.agents`` and ``agentorch.tools``. Two items with one name from
different places is a ``DuplicateNameError`` naming both; a project specialist may not shadow a
built-in one either (rename it).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import inspect
import sys
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from agentorch.agent import Agent
from agentorch.errors import ConfigError, DuplicateNameError
from agentorch.tools.base import Tool

ROOT_PACKAGE = "_agentorch_ext"
AGENT_GROUP = "agentorch.agents"
TOOL_GROUP = "agentorch.tools"
#: The order built-in specialists are listed in (others follow alphabetically).
_BUILTIN_ORDER = ("parser", "writer", "compliance", "critic", "editor", "submitter")


@dataclass
class _Folder:
    """What one folder yielded (cached per process)."""

    package: str
    modules: list[ModuleType] = field(default_factory=list)
    agents: dict[str, tuple[type[Agent], str]] = field(default_factory=dict)
    tools: dict[str, Tool] = field(default_factory=dict)


_cache: dict[tuple[str, Path], _Folder] = {}
_lock = threading.RLock()


# --- where things are ----------------------------------------------------------------------------


def bundled_dir(kind: str) -> Path | None:
    """The bundled ``agents``, ``tools`` or ``examples`` folder: in the wheel, else the checkout."""
    package_dir = Path(__file__).resolve().parent
    wheel = package_dir / "_bundled" / kind
    if wheel.is_dir():
        return wheel
    repo = package_dir.parent
    # Only a source checkout (pyproject beside the package); in site-packages, ``agents`` is
    # someone else's package.
    checkout = repo / kind
    if checkout.is_dir() and (repo / "pyproject.toml").is_file():
        return checkout
    return None


def bundled_examples() -> dict[str, Path]:
    """The example workflows that ship with agentorch, by name (``rfp``): folders with a workflow.py."""
    root = bundled_dir("examples")
    if root is None:
        return {}
    return {f.parent.name: f.parent for f in sorted(root.glob("*/workflow.py"))}


def _project_dir(kind: str, project_dir: str | Path | None) -> Path | None:
    base = Path(project_dir) if project_dir is not None else Path.cwd()
    folder = (base / kind).resolve()
    if not folder.is_dir():
        return None
    bundled = bundled_dir(kind)
    if bundled is not None and bundled.resolve() == folder:
        return None  # running from the source checkout: the project folder is the bundled one
    return folder


# --- loading folders -----------------------------------------------------------------------------


def _ensure_parent(name: str) -> None:
    """Create the synthetic namespace packages above ``name`` (``_agentorch_ext``, ...)."""
    parts = name.split(".")
    for i in range(1, len(parts)):
        parent = ".".join(parts[:i])
        if parent not in sys.modules:
            spec = importlib.machinery.ModuleSpec(parent, None, is_package=True)
            module = importlib.util.module_from_spec(spec)
            module.__path__ = []
            sys.modules[parent] = module


def _import_package(name: str, folder: Path) -> ModuleType:
    existing = sys.modules.get(name)
    if existing is not None:
        return existing
    _ensure_parent(name)
    init = folder / "__init__.py"
    if init.is_file():
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(folder)]
        )
    else:  # a plain folder of modules: a synthetic package over it
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
    if spec is None:
        raise ConfigError(f"cannot load {folder} as a package")
    module = importlib.util.module_from_spec(spec)
    if spec.loader is None:
        module.__path__ = [str(folder)]
    sys.modules[name] = module
    try:
        if spec.loader is not None:
            spec.loader.exec_module(module)
    except BaseException as exc:
        del sys.modules[name]
        raise _load_error(init, exc) from exc
    return module


def _import_module(name: str, file: Path) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise _load_error(file, exc) from exc


def _load_error(file: Path, exc: BaseException) -> ConfigError:
    if isinstance(exc, ConfigError):
        return exc
    if isinstance(exc, SyntaxError):
        where = str(exc.filename or file) + (f", line {exc.lineno}" if exc.lineno else "")
        return ConfigError(
            f"syntax error in {where}: {exc.msg}",
            hint="fix the file (or rename it with a leading '_' to stop it being loaded)",
        )
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(file)]
    line = f", line {frames[-1].lineno}" if frames else ""
    return ConfigError(
        f"cannot load {file}{line}: {type(exc).__name__}: {exc}",
        hint="fix the error in that file (or rename it with a leading '_' to stop it being loaded)",
    )


def _module_files(folder: Path) -> list[tuple[str, Path]]:
    """Public modules of a folder: ``x.py`` files and ``x/`` packages, skipping ``_`` names."""
    found: list[tuple[str, Path]] = []
    for path in sorted(folder.iterdir()):
        stem = path.stem if path.suffix == ".py" else path.name
        if stem.startswith(("_", ".")) or not stem.isidentifier():
            continue
        if path.is_file() and path.suffix == ".py":
            found.append((stem, path))
        elif path.is_dir() and (path / "__init__.py").is_file():
            found.append((stem, path / "__init__.py"))
    return found


def _load_folder(kind: str, folder: Path, scope: str) -> _Folder:
    key = (kind, folder.resolve())
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        package = f"{ROOT_PACKAGE}.{scope}.{kind}"
        _import_package(package, folder)
        result = _Folder(package=package)
        for stem, file in _module_files(folder):
            module = _import_module(f"{package}.{stem}", file)
            result.modules.append(module)
            _scan(module, str(file), result)
        _cache[key] = result
        return result


def _scan(module: ModuleType, source: str, into: _Folder) -> None:
    for value in vars(module).values():
        if _is_agent_class(value) and value.__module__ == module.__name__:
            _add_agent(into.agents, value, source)
        elif isinstance(value, Tool):
            _add_tool(into.tools, value, source)


def _is_agent_class(value: Any) -> bool:
    return (
        inspect.isclass(value)
        and issubclass(value, Agent)
        and value is not Agent
        and bool(getattr(value, "name", ""))
        and not inspect.isabstract(value)
    )


def _add_agent(into: dict[str, tuple[type[Agent], str]], cls: type[Agent], source: str) -> None:
    existing = into.get(cls.name)
    if existing is not None and existing[0] is not cls:
        raise DuplicateNameError(
            f"two specialists are named {cls.name!r}: "
            f"{_describe(*existing)} and {_describe(cls, source)}",
            hint="rename one of them (the class attribute `name`); a project specialist may not "
            "reuse a built-in specialist's name",
        )
    into[cls.name] = (cls, source)


def _add_tool(into: dict[str, Tool], item: Tool, source: str) -> None:
    if item.source == "code":
        item.source = source
    existing = into.get(item.name)
    if existing is not None and existing is not item:
        raise DuplicateNameError(
            f"two tools are named {item.name!r}: from {existing.source} and from {item.source}",
            hint="rename one of them with @tool(name=...)",
        )
    into[item.name] = item


def _describe(cls: type[Agent], source: str) -> str:
    return f"{cls.__name__} in {source}"


def _scope_name(folder: Path) -> str:
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:10]
    return f"project_{digest}"


# --- entry points --------------------------------------------------------------------------------


def _entry_point_items(group: str) -> list[tuple[Any, str]]:
    items: list[tuple[Any, str]] = []
    for entry in importlib.metadata.entry_points(group=group):
        dist = entry.dist.name if entry.dist is not None else entry.value
        source = f"entry-point:{dist}:{entry.name}"
        try:
            value = entry.load()
        except Exception as exc:
            raise ConfigError(
                f"cannot load entry point {entry.name!r} ({entry.value}) of group {group!r} "
                f"from {dist}: {type(exc).__name__}: {exc}",
                hint=f"fix or uninstall {dist}",
            ) from exc
        values = list(value) if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, ModuleType):
                items.extend((v, source) for k, v in vars(item).items() if not k.startswith("_"))
            else:
                items.append((item, source))
    return items


# --- the API --------------------------------------------------------------------------------------


def discover_agents(
    project_dir: str | Path | None = None, *, bundled: bool = True, entry_points: bool = True
) -> dict[str, type[Agent]]:
    """Every specialist class found, by name.

    Args:
        project_dir: The user's project (its ``agents/`` folder is scanned); default: the
            current directory. Pass ``bundled=False`` to leave out the built-in specialists.
        bundled: Include the built-in specialists.
        entry_points: Include classes of installed packages' ``agentorch.agents`` entry points.

    Raises:
        DuplicateNameError: two specialists share a name (both sources are named).
        ConfigError: a file has a syntax error or fails to import (file and line are named).
    """
    return _agents(_folders("agents", project_dir, bundled), entry_points)


def _agents(folders: list[tuple[Path, str]], entry_points: bool) -> dict[str, type[Agent]]:
    found: dict[str, tuple[type[Agent], str]] = {}
    for folder, scope in folders:
        for cls, source in _load_folder("agents", folder, scope).agents.values():
            _add_agent(found, cls, source)
    if entry_points:
        for value, source in _entry_point_items(AGENT_GROUP):
            if _is_agent_class(value):
                _add_agent(found, value, source)
    return {name: cls for name, (cls, _) in sorted(found.items(), key=lambda kv: _order(kv[0]))}


def discover_tools(
    project_dir: str | Path | None = None, *, bundled: bool = True, entry_points: bool = True
) -> list[Tool]:
    """Every tool found: module-level ``Tool`` objects of the tools folders and entry points.

    Raises:
        DuplicateNameError: two tools share a name (both sources are named).
        ConfigError: a file has a syntax error or fails to import.
    """
    return _tools(_folders("tools", project_dir, bundled), entry_points)


def _tools(folders: list[tuple[Path, str]], entry_points: bool) -> list[Tool]:
    found: dict[str, Tool] = {}
    for folder, scope in folders:
        for item in _load_folder("tools", folder, scope).tools.values():
            _add_tool(found, item, item.source)
    if entry_points:
        for value, source in _entry_point_items(TOOL_GROUP):
            if isinstance(value, Tool):
                _add_tool(found, value, source)
    return [found[name] for name in sorted(found)]


def builtin_agents() -> list[Agent]:
    """One instance of each built-in specialist (parser, writer, compliance, critic, ...)."""
    return [cls() for cls in _agents(_folders("agents", None, True, project=False), False).values()]


def builtin_tools() -> list[Tool]:
    """The built-in tools (documents, approved-answer library, output files, submission)."""
    return _tools(_folders("tools", None, True, project=False), False)


def builtin_module(kind: str, name: str) -> ModuleType:
    """A module of a bundled folder, e.g. ``builtin_module("agents", "_types")``."""
    folder = bundled_dir(kind)
    if folder is None:
        raise ConfigError(f"the bundled {kind!r} folder is missing from this installation")
    loaded = _load_folder(kind, folder, "bundled")
    return _import_module(f"{loaded.package}.{name}", folder / f"{name}.py")


def clear_cache() -> None:
    """Forget loaded project folders, so edited files are read again (built-ins stay loaded)."""
    with _lock:
        for key, loaded in list(_cache.items()):
            if loaded.package.startswith(f"{ROOT_PACKAGE}.bundled."):
                continue
            prefix = loaded.package + "."
            for name in [n for n in sys.modules if n == loaded.package or n.startswith(prefix)]:
                del sys.modules[name]
            del _cache[key]


def _folders(
    kind: str, project_dir: str | Path | None, bundled: bool, *, project: bool = True
) -> list[tuple[Path, str]]:
    folders: list[tuple[Path, str]] = []
    if bundled:
        folder = bundled_dir(kind)
        if folder is not None:
            folders.append((folder, "bundled"))
    if project:
        folder = _project_dir(kind, project_dir)
        if folder is not None:
            folders.append((folder, _scope_name(folder)))
    return folders


def _order(name: str) -> tuple[int, str]:
    return (_BUILTIN_ORDER.index(name) if name in _BUILTIN_ORDER else len(_BUILTIN_ORDER), name)


__all__ = [
    "AGENT_GROUP",
    "TOOL_GROUP",
    "builtin_agents",
    "builtin_module",
    "builtin_tools",
    "bundled_dir",
    "clear_cache",
    "discover_agents",
    "discover_tools",
]
