"""Reading policy text (TOML or YAML) and pointing errors at the line that caused them."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agentorch.errors import MissingDependencyError, PolicyError
from agentorch.policy.schema import KNOWN_KEYS

PathKey = tuple[str | int, ...]


def format_key(path: Sequence[str | int]) -> str:
    """``("agents", "writer", "allow", 1)`` -> ``agents.writer.allow[1]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            shown = f'"{part}"' if "." in part else part  # a nested agent's path is one key
            text += ("." if text else "") + shown
    return text or "<root>"


class Locator:
    """Finds the 1-based line of a key path (and optionally a value) in the policy text."""

    def __init__(self, lines: dict[PathKey, int] | None = None, text: str = "") -> None:
        self._lines = lines or {}
        self._text_lines = text.splitlines()
        self._header_lines = sorted(
            line for path, line in self._lines.items() if path and path[-1] == "<table>"
        )

    def line(self, path: Sequence[str | int], value: str | None = None) -> int | None:
        key = tuple(path)
        while key:
            if key in self._lines:
                start = self._lines[key]
                if value is not None:
                    found = self._find_value(start, value)
                    if found is not None:
                        return found
                return start
            key = key[:-1]
        if value is not None:
            return self._find_value(1, value)
        return None

    def _find_value(self, start: int, value: str) -> int | None:
        """The first line from ``start`` holding ``value``, before the next TOML table header."""
        stop = next((h for h in self._header_lines if h > start), len(self._text_lines) + 1)
        region = range(start, min(stop, len(self._text_lines) + 1))
        quoted = re.compile(r"""(["'])""" + re.escape(value) + r"\1")
        bare = re.compile(r"(?:^|[\s\[,:{-])" + re.escape(value) + r"(?=$|[\s\],}#])")
        for pattern in (quoted, bare):
            for number in region:
                if pattern.search(self._text_lines[number - 1]):
                    return number
        return None


# --- TOML ----------------------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(
    r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*="""
)
_PARTS = re.compile(r"""("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)""")


def _split_key(text: str) -> list[str]:
    """``agents."ops.clerk".allow`` -> ``["agents", "ops.clerk", "allow"]`` (quotes keep dots)."""
    return [part.strip("\"'") for part in _PARTS.findall(text)]


def _toml_lines(text: str) -> dict[PathKey, int]:
    """Where each table header and each ``key =`` line is (a scanner, not a parser)."""
    lines: dict[PathKey, int] = {}
    table: PathKey = ()
    array_counts: dict[PathKey, int] = {}
    depth = 0  # bracket depth of a multi-line value: its lines hold no keys of ours
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if depth == 0:
            header = _HEADER.match(line)
            if header:
                parts: PathKey = tuple(_split_key(header.group(2)))
                if header.group(1) == "[[":
                    index = array_counts.get(parts, 0)
                    array_counts[parts] = index + 1
                    parts = (*parts, index)
                table = parts
                for end in range(1, len(parts) + 1):
                    lines.setdefault(parts[:end], number)
                lines[(*parts, "<table>")] = number
                continue
            key = _KEY.match(line)
            if key:
                lines.setdefault((*table, *_split_key(key.group(1))), number)
        if stripped and not stripped.startswith("#"):
            code = re.sub(r"""("[^"]*"|'[^']*')""", "", stripped.split(" #")[0])
            depth = max(
                0, depth + code.count("[") + code.count("{") - code.count("]") - code.count("}")
            )
    return lines


def parse_toml(text: str, source: str) -> tuple[dict[str, Any], Locator]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if at is None:
            raise PolicyError(f"{source}: invalid TOML: {message}") from None
        where = f"{source} line {at.group(1)}, column {at.group(2)}"
        raise PolicyError(f"{where}: invalid TOML: {message[: at.start()]}") from None
    return data, Locator(_toml_lines(text), text)


# --- YAML ----------------------------------------------------------------------------------------


def parse_yaml(text: str, source: str) -> tuple[dict[str, Any], Locator]:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is a dependency
        raise MissingDependencyError(
            "reading a YAML policy needs PyYAML",
            hint="pip install pyyaml, or write the policy in TOML",
        ) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PolicyError(f"{source}:{where}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: invalid YAML: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError(
            f"{source}: a policy must be a mapping of keys, got {type(data).__name__}"
        )
    lines: dict[PathKey, int] = {}
    if node is not None:
        _walk_yaml(node, (), lines, source)
    return data, Locator(lines, text)


def _walk_yaml(node: Any, path: PathKey, lines: dict[PathKey, int], source: str) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise PolicyError(
                    f"{source} line {line}: {format_key((*path, key))}: duplicate key "
                    f"(first defined on line {seen[key]})"
                )
            seen[key] = line
            lines[(*path, key)] = line
            _walk_yaml(value_node, (*path, key), lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk_yaml(item, (*path, index), lines, source)


def parse_text(text: str, source: str, kind: str) -> tuple[dict[str, Any], Locator]:
    """Parse policy text; ``kind`` is ``"toml"`` or ``"yaml"``."""
    if kind == "toml":
        return parse_toml(text, source)
    return parse_yaml(text, source)


def read_policy_file(path: str | Path) -> tuple[dict[str, Any], Locator, str]:
    """Read and parse a policy file; returns its data, a line locator and its display name."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise PolicyError(
            f"{file}: a policy file must end in .toml, .yaml or .yml "
            f"(got {suffix or 'no suffix'!r})"
        )
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"policy file not found: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read policy file {file}: {exc}") from None
    data, locator = parse_text(text, str(file), "toml" if suffix == ".toml" else "yaml")
    return data, locator, str(file)


# --- validation errors ---------------------------------------------------------------------------


def _line(locator: Locator | None, path: Sequence[str | int], value: Any = None) -> int | None:
    if locator is None:
        return None
    return locator.line(path, value if isinstance(value, str) else None)


def format_validation(exc: ValidationError, source: str, locator: Locator | None) -> PolicyError:
    """One ``PolicyError`` listing every problem as ``<source> line N: <key>: <what is wrong>``."""
    found: list[tuple[int, str]] = []
    for error in exc.errors():
        loc = [part for part in error["loc"] if not _is_union_tag(part)]
        kind = error["type"]
        value = error.get("input")
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else "?"
            close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1)
            suggestion = f" (did you mean {close[0]!r}?)" if close else ""
            if len(loc) == 3 and loc[0] == "agents" and isinstance(value, dict) and not close:
                path = f"{loc[1]}.{loc[2]}"
                suggestion = (
                    f" (to name agent {loc[2]!r} of the nested supervisor {loc[1]!r}, quote its "
                    f'path as one key: [agents."{path}"] in TOML, "{path}": in YAML)'
                )
            message = f"unknown key{suggestion}"
        elif kind == "literal_error" and loc == ["version"]:
            message = f"unsupported policy version {value!r} (this agentorch reads version 1)"
        elif kind == "missing":
            message = "this key is required"
        elif kind in (
            "risk_level",
            "selector",
            "condition_operator",
            "condition_target",
            "contradiction",
            "regex",
        ):
            message = error["msg"]
        else:
            message = f"{error['msg']} (got {value!r})"
        line = _line(locator, loc, value if kind in ("risk_level", "selector") else None)
        where = f"{source} line {line}" if line is not None else source
        found.append((line or 0, f"{where}: {format_key(loc)}: {message}"))
    problems = list(dict.fromkeys(text for _, text in sorted(found, key=lambda item: item[0])))
    if len(problems) == 1:
        return PolicyError(problems[0])
    return PolicyError(f"{source}: {len(problems)} problems:\n  " + "\n  ".join(problems))


def _is_union_tag(part: str | int) -> bool:
    """pydantic puts the union member's name in ``loc`` (e.g. ``list[ArgumentCondition]``)."""
    return isinstance(part, str) and ("[" in part or part in ("ArgumentCondition",))
