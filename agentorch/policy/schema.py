"""The policy file's shape (pydantic), tool selectors and argument conditions.

A selector picks tools: a name (``"search_answers"``), a glob (``"github_*"``), every tool
(``"*"``), a tag (``"tag:kb"``) or a risk ceiling (``"risk<=write"``).
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from agentorch.errors import ConfigError
from agentorch.tools.base import RISK_LEVELS, Tool, risk_rank

_RISKS_TEXT = ", ".join(RISK_LEVELS)
_NAME = re.compile(r"^[A-Za-z0-9_.\-*?\[\]]+$")


def _check_risk(value: str) -> str:
    if value not in RISK_LEVELS:
        raise PydanticCustomError(
            "risk_level",
            "{value} is not a risk level ({levels})",
            {"value": repr(value), "levels": _RISKS_TEXT},
        )
    return value


RiskLevel = Annotated[str, AfterValidator(_check_risk)]


# --- selectors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selector:
    """One entry of an allow/deny list, parsed."""

    kind: Literal["all", "name", "glob", "tag", "risk"]
    value: str
    text: str

    def matches(self, tool: Tool) -> bool:
        if self.kind == "all":
            return True
        if self.kind == "name":
            return tool.name == self.value
        if self.kind == "glob":
            return fnmatch.fnmatchcase(tool.name, self.value)
        if self.kind == "tag":
            return self.value in tool.tags
        return risk_rank(tool.risk) <= risk_rank(self.value)

    def matches_name(self, name: str) -> bool:
        """For name and glob selectors: whether they pick the tool called ``name``."""
        if self.kind == "name":
            return name == self.value
        return self.kind == "glob" and fnmatch.fnmatchcase(name, self.value)


def parse_selector(text: str) -> Selector:
    """Parse ``"name"``, ``"glob*"``, ``"*"``, ``"tag:<tag>"`` or ``"risk<=<level>"``.

    Raises:
        ConfigError: the entry is none of those.
    """
    entry = text.strip() if isinstance(text, str) else text
    if not isinstance(entry, str) or not entry:
        raise ConfigError(
            f"tool selector {text!r}: expected a tool name, '*', 'tag:<tag>' or 'risk<=<level>'"
        )
    if entry == "*":
        return Selector("all", "*", text)
    if entry.startswith("tag:"):
        tag = entry[4:].strip()
        if not tag:
            raise ConfigError(f"tool selector {text!r}: 'tag:' needs a tag name")
        return Selector("tag", tag, text)
    if entry.startswith("risk"):
        m = re.fullmatch(r"risk\s*<=\s*(\S+)", entry)
        if m is None:
            raise ConfigError(f"tool selector {text!r}: write a risk ceiling as 'risk<=<level>'")
        level = m.group(1)
        if level not in RISK_LEVELS:
            raise ConfigError(
                f"tool selector {text!r}: {level!r} is not a risk level ({_RISKS_TEXT})"
            )
        return Selector("risk", level, text)
    if not _NAME.match(entry):
        raise ConfigError(
            f"tool selector {text!r}: expected a tool name, '*', 'tag:<tag>' or 'risk<=<level>'"
        )
    if any(ch in entry for ch in "*?["):
        return Selector("glob", entry, text)
    return Selector("name", entry, text)


def parse_selectors(entries: Iterable[str]) -> tuple[Selector, ...]:
    return tuple(parse_selector(entry) for entry in entries)


def any_match(selectors: Sequence[Selector], tool: Tool) -> Selector | None:
    """The first selector that matches ``tool``, or ``None``."""
    for selector in selectors:
        if selector.matches(tool):
            return selector
    return None


def _check_selector(value: str) -> str:
    try:
        parse_selector(value)
    except ConfigError as exc:
        raise PydanticCustomError("selector", "{message}", {"message": str(exc)}) from None
    return value


SelectorText = Annotated[str, AfterValidator(_check_selector)]


# --- argument conditions -------------------------------------------------------------------------


def path_is_inside(value: Any, prefix: str) -> bool:
    """Whether ``value`` stays inside the folder ``prefix`` once ``.``/``..`` are resolved.

    Purely lexical and conservative: backslashes count as separators, ``~`` and absolute paths
    are inside only an absolute prefix, and anything that is not a clean string is outside.
    """
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        return False
    path = value.replace("\\", "/").strip()
    base = prefix.replace("\\", "/").strip()
    if path.startswith("~") or re.match(r"^[A-Za-z]:", path):
        return False
    path_abs, base_abs = path.startswith("/"), base.startswith("/")
    if path_abs != base_abs:
        return False
    norm_path = posixpath.normpath(path)
    norm_base = posixpath.normpath(base)
    if not path_abs and (norm_path == ".." or norm_path.startswith("../")):
        return False
    path_parts = [p for p in norm_path.split("/") if p not in ("", ".")]
    base_parts = [p for p in norm_base.split("/") if p not in ("", ".")]
    return path_parts[: len(base_parts)] == base_parts


class ArgumentCondition(BaseModel):
    """A test on one argument: exactly one of the operators must be given."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    argument: str = Field(min_length=1)
    outside: str | None = None
    inside: str | None = None
    equals: Any = None
    not_equals: Any = None
    one_of: list[Any] | None = None
    matches: str | None = None
    not_matches: str | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> ArgumentCondition:
        given = [op for op in self._operators() if op in self.model_fields_set]
        if len(given) != 1:
            raise PydanticCustomError(
                "condition_operator",
                "a condition needs exactly one of: outside, inside, equals, not_equals, one_of, "
                "matches, not_matches (got {given})",
                {"given": ", ".join(given) or "none"},
            )
        for op in ("matches", "not_matches"):
            pattern = getattr(self, op)
            if op in self.model_fields_set:
                try:
                    re.compile(pattern or "")
                except re.error as exc:
                    raise PydanticCustomError(
                        "regex",
                        "{op}: invalid regular expression {pattern}: {error}",
                        {"op": op, "pattern": repr(pattern), "error": str(exc)},
                    ) from None
        return self

    @model_serializer(mode="wrap")
    def _dump_given(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dump only the argument and the operator given, so the dump validates again."""
        dumped = handler(self)
        op = self._operator()
        return {"argument": self.argument, op: dumped.get(op, getattr(self, op))}

    @staticmethod
    def _operators() -> tuple[str, ...]:
        return ("outside", "inside", "equals", "not_equals", "one_of", "matches", "not_matches")

    def _operator(self) -> str:
        return next(op for op in self._operators() if op in self.model_fields_set)

    def holds(self, arguments: dict[str, Any]) -> bool:
        """Whether the condition is true for these arguments (a missing argument never matches)."""
        if self.argument not in arguments:
            return False
        value = arguments[self.argument]
        op = self._operator()
        if op == "outside":
            return not path_is_inside(value, self.outside or "")
        if op == "inside":
            return path_is_inside(value, self.inside or "")
        if op == "equals":
            return bool(value == self.equals)
        if op == "not_equals":
            return bool(value != self.not_equals)
        if op == "one_of":
            return value in (self.one_of or [])
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        found = re.search(getattr(self, op) or "", text) is not None
        return found if op == "matches" else not found

    def describe(self) -> str:
        op = self._operator()
        operand = getattr(self, op)
        words = {
            "outside": "is outside",
            "inside": "is inside",
            "equals": "equals",
            "not_equals": "is not",
            "one_of": "is one of",
            "matches": "matches",
            "not_matches": "does not match",
        }[op]
        return f"argument {self.argument!r} {words} {operand!r}"


class Condition(BaseModel):
    """Require approval for some tools when their arguments meet every test in ``when``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: SelectorText | None = None
    tools: list[SelectorText] | None = None
    when: ArgumentCondition | list[ArgumentCondition]
    require_approval: Literal[True] = True
    reason: str | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Condition:
        if (self.tool is None) == (self.tools is None):
            raise PydanticCustomError(
                "condition_target",
                "a condition names its tools with exactly one of 'tool' or 'tools'",
            )
        return self

    @property
    def selector_texts(self) -> list[str]:
        return [self.tool] if self.tool is not None else list(self.tools or [])

    @property
    def tests(self) -> list[ArgumentCondition]:
        return self.when if isinstance(self.when, list) else [self.when]

    def describe(self) -> str:
        text = self.reason or " and ".join(test.describe() for test in self.tests)
        return text


# --- the file ------------------------------------------------------------------------------------


class Rule(BaseModel):
    """Which tools a rule covers: by name (or selector), by risk level, or by tag."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tools: list[SelectorText] = Field(default_factory=list)
    risk: list[RiskLevel] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class Section(BaseModel):
    """The rules for one agent, or the defaults for every agent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow: list[SelectorText] | None = None
    deny: list[SelectorText] = Field(default_factory=list)
    risk_ceiling: RiskLevel | None = None
    require_approval: Rule = Field(default_factory=Rule)
    auto_approve: Rule | None = None
    conditions: list[Condition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_contradiction(self) -> Section:
        if self.auto_approve is None:
            return self
        for key in ("risk", "tags"):
            both = sorted(
                set(getattr(self.require_approval, key)) & set(getattr(self.auto_approve, key))
            )
            if both:
                raise PydanticCustomError(
                    "contradiction",
                    "{key} {both} is both in require_approval and auto_approve",
                    {"key": key, "both": ", ".join(both)},
                )
        return self


class PolicyFile(BaseModel):
    """A whole policy file (``version = 1``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    defaults: Section = Field(default_factory=Section)
    agents: dict[str, Section] = Field(default_factory=dict)


KNOWN_KEYS: frozenset[str] = frozenset(
    name
    for model in (PolicyFile, Section, Rule, Condition, ArgumentCondition)
    for name in model.model_fields
)
