"""``Policy``: permissions and approval rules as data, evaluated at every tool call."""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from agentorch.errors import ConfigError, PolicyError
from agentorch.policy.schema import (
    Condition,
    PolicyFile,
    Rule,
    Section,
    Selector,
    any_match,
    parse_selectors,
)
from agentorch.policy.source import Locator, format_key, format_validation, read_policy_file
from agentorch.tools.base import Tool, risk_rank

# --- what `describe` returns (the CLI renders it) -------------------------------------------------


class ToolPermission(BaseModel):
    """A tool an agent may call, and whether a person must approve the call."""

    model_config = ConfigDict(frozen=True)

    tool: str
    risk: str
    #: never | always | auto (approved by the policy without asking) | conditional (on arguments)
    approval: Literal["never", "always", "auto", "conditional"]
    reasons: list[str]
    conditions: list[str]


class RefusedTool(BaseModel):
    """A registered tool the agent may not call, and why."""

    model_config = ConfigDict(frozen=True)

    tool: str
    reason: str


class AgentPermissions(BaseModel):
    """What one agent may do under a policy."""

    model_config = ConfigDict(frozen=True)

    agent: str
    declared: list[str] | None
    policy_section: bool
    risk_ceiling: str | None
    allowed: list[ToolPermission]
    refused: list[RefusedTool]


# --- compiled rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CompiledRule:
    tools: tuple[Selector, ...] = ()
    risk: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()

    @classmethod
    def of(cls, rule: Rule) -> _CompiledRule:
        return cls(parse_selectors(rule.tools), frozenset(rule.risk), frozenset(rule.tags))

    def merged(self, other: _CompiledRule) -> _CompiledRule:
        return _CompiledRule(
            self.tools + other.tools, self.risk | other.risk, self.tags | other.tags
        )

    def matches(self, tool: Tool) -> bool:
        return (
            any_match(self.tools, tool) is not None
            or tool.risk in self.risk
            or bool(self.tags & tool.tags)
        )


@dataclass(frozen=True)
class _Effective:
    """The rules that apply to one agent: its own section layered over the defaults."""

    has_section: bool
    allow: tuple[Selector, ...] | None
    deny: tuple[Selector, ...]
    risk_ceiling: str | None
    require: _CompiledRule
    auto: _CompiledRule | None
    conditions: tuple[tuple[tuple[Selector, ...], Condition], ...]

    def conditions_for(self, tool: Tool) -> list[Condition]:
        return [
            cond for selectors, cond in self.conditions if any_match(selectors, tool) is not None
        ]


def _compile(defaults: Section, own: Section | None) -> _Effective:
    allow = own.allow if own is not None and own.allow is not None else defaults.allow
    auto = (
        own.auto_approve
        if own is not None and own.auto_approve is not None
        else defaults.auto_approve
    )
    require = _CompiledRule.of(defaults.require_approval)
    conditions = list(defaults.conditions)
    deny = list(defaults.deny)
    if own is not None:
        require = require.merged(_CompiledRule.of(own.require_approval))
        conditions += own.conditions
        deny += own.deny
    return _Effective(
        has_section=own is not None,
        allow=parse_selectors(allow) if allow is not None else None,
        deny=parse_selectors(deny),
        risk_ceiling=(
            own.risk_ceiling if own is not None and own.risk_ceiling else defaults.risk_ceiling
        ),
        require=require,
        auto=_CompiledRule.of(auto) if auto is not None else None,
        conditions=tuple((parse_selectors(c.selector_texts), c) for c in conditions),
    )


def _unknown_path(name: str, known: Sequence[str], paths_known: bool) -> str | None:
    """Why the nested agent path ``name`` names no agent (``None``: it may, unseen from here)."""
    parts = name.split(".")
    if any(not part for part in parts):
        return f"agent path {name!r} has an empty part (write it as 'supervisor.agent')"
    if not paths_known:
        if parts[-1] in known:
            return None
        close = difflib.get_close_matches(parts[-1], known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"agent path {name!r} ends in unknown agent {parts[-1]!r}{hint}"
    for end in range(1, len(parts)):
        head = ".".join(parts[:end])
        if head in known and not any(k.startswith(head + ".") for k in known):
            return f"unknown agent path {name!r}: {head!r} is not a nested supervisor"
    nested = [k for k in known if "." in k]
    close = difflib.get_close_matches(name, nested or known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown agent path {name!r}{hint}"


# --- the policy ----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Policy:
    """Permissions and approval rules, loaded from a TOML/YAML file or a dict. Immutable.

    The registry asks it, at every call, whether an agent may use a tool (``check_permission``),
    whether a person must approve these arguments (``approval_reason``) and whether the policy
    approves them itself (``auto_approves``). ``hash`` is recorded with every run.
    """

    data: PolicyFile
    source: str = "<dict>"
    _locator: Locator | None = field(default=None, repr=False)
    _cache: dict[str, _Effective] = field(default_factory=dict, repr=False)
    _declared_cache: dict[tuple[str, ...], tuple[Selector, ...]] = field(
        default_factory=dict, repr=False
    )

    # --- construction ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """Load a ``.toml`` or ``.yaml``/``.yml`` policy file; errors name the line and key."""
        data, locator, source = read_policy_file(path)
        return cls._build(data, source, locator)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> Policy:
        """Build a policy from plain data shaped like the file."""
        if not isinstance(data, Mapping):
            raise PolicyError(f"{source}: a policy must be a mapping, got {type(data).__name__}")
        return cls._build(dict(data), source, None)

    @classmethod
    def empty(cls) -> Policy:
        """No restrictions beyond what agents and tools declare in code."""
        return cls(PolicyFile(), source="<empty>")

    @classmethod
    def _build(cls, data: dict[str, Any], source: str, locator: Locator | None) -> Policy:
        try:
            model = PolicyFile.model_validate(data)
        except ValidationError as exc:
            raise format_validation(exc, source, locator) from None
        return cls(model, source=source, _locator=locator)

    def to_dict(self) -> dict[str, Any]:
        """The canonical content: defaults left out, so equivalent policies compare equal."""
        dumped: dict[str, Any] = self.data.model_dump(mode="json", exclude_defaults=True)
        return dumped

    @functools.cached_property
    def hash(self) -> str:
        """sha256 of the canonical content (independent of key order, whitespace and format)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def __repr__(self) -> str:
        return f"Policy(source={self.source!r}, hash={self.hash[:12]!r})"

    # --- evaluation -----------------------------------------------------------------------------

    def _for(self, agent: str) -> _Effective:
        effective = self._cache.get(agent)
        if effective is None:
            effective = _compile(self.data.defaults, self.data.agents.get(agent))
            self._cache[agent] = effective
        return effective

    def _declared(self, declared: Sequence[str]) -> tuple[Selector, ...]:
        key = tuple(declared)
        selectors = self._declared_cache.get(key)
        if selectors is None:
            if isinstance(declared, str):
                raise ConfigError(
                    f"an agent's tools must be a list of names, not the string {declared!r}"
                )
            selectors = parse_selectors(key)
            self._declared_cache[key] = selectors
        return selectors

    def check_permission(
        self, agent: str, tool: Tool, *, declared: Sequence[str] | None
    ) -> str | None:
        """``None`` if ``agent`` may call ``tool``; otherwise the reason it may not.

        The agent's own declaration and the policy must both allow the tool (the stricter wins);
        ``None`` as the declaration means the agent declared no tools. A policy risk ceiling caps
        everything, including tools the policy names in ``allow``.
        """
        refused = f"tool {tool.name!r} is not permitted for agent {agent!r}"
        if declared is None:
            return f"{refused} (the agent declares no tools)"
        if any_match(self._declared(declared), tool) is None:
            return f"{refused} (not in the agent's tools)"
        rules = self._for(agent)
        denied = any_match(rules.deny, tool)
        if denied is not None:
            return f"{refused} (denied by the policy: {denied.text!r})"
        if rules.allow is not None and any_match(rules.allow, tool) is None:
            return f"{refused} (not allowed by the policy)"
        if rules.risk_ceiling is not None and risk_rank(tool.risk) > risk_rank(rules.risk_ceiling):
            return (
                f"{refused} (its risk {tool.risk!r} is above the policy's risk ceiling "
                f"{rules.risk_ceiling!r})"
            )
        return None

    def _static_reasons(self, rules: _Effective, tool: Tool) -> list[str]:
        reasons = []
        if tool.requires_approval:
            reasons.append(f"tool {tool.name!r} always requires approval")
        if any_match(rules.require.tools, tool) is not None:
            reasons.append(f"the policy requires approval for tool {tool.name!r}")
        if tool.risk in rules.require.risk:
            reasons.append(f"the policy requires approval for {tool.risk} tools")
        for tag in sorted(rules.require.tags & tool.tags):
            reasons.append(f"the policy requires approval for tools tagged {tag!r}")
        return reasons

    def approval_reason(self, agent: str, tool: Tool, arguments: dict[str, Any]) -> str | None:
        """``None`` if no approval is needed; otherwise why a person must approve this call.

        A tool declared with ``requires_approval=True`` always needs approval: a policy can add
        approval requirements, never remove one.
        """
        rules = self._for(agent)
        reasons = self._static_reasons(rules, tool)
        for condition in rules.conditions_for(tool):
            if all(test.holds(arguments) for test in condition.tests):
                reasons.append(f"the policy requires approval when {condition.describe()}")
        return "; ".join(reasons) if reasons else None

    def auto_approves(self, agent: str, tool: Tool, arguments: dict[str, Any]) -> bool:
        """Whether the policy approves this call itself (recorded as ``policy:auto``).

        ``auto_approve`` can waive a requirement by risk level or tag; it never waives a
        code-level ``requires_approval``, a tool named in ``require_approval.tools``, or an
        argument condition that holds.
        """
        rules = self._for(agent)
        if rules.auto is None or tool.requires_approval:
            return False
        if any_match(rules.require.tools, tool) is not None:
            return False
        for condition in rules.conditions_for(tool):
            if all(test.holds(arguments) for test in condition.tests):
                return False
        return rules.auto.matches(tool)

    # --- checks and reports ---------------------------------------------------------------------

    def _selector_sites(self) -> Iterable[tuple[tuple[str | int, ...], str]]:
        """Every tool selector in the policy, with its key path."""
        sections: list[tuple[tuple[str | int, ...], Section]] = [
            (("defaults",), self.data.defaults)
        ]
        sections += [(("agents", name), section) for name, section in self.data.agents.items()]
        for base, section in sections:
            for key in ("allow", "deny"):
                for i, text in enumerate(getattr(section, key) or []):
                    yield (*base, key, i), text
            for key in ("require_approval", "auto_approve"):
                rule = getattr(section, key)
                for i, text in enumerate(rule.tools if rule is not None else []):
                    yield (*base, key, "tools", i), text
            for c, condition in enumerate(section.conditions):
                if condition.tool is not None:
                    yield (*base, "conditions", c, "tool"), condition.tool
                for i, text in enumerate(condition.tools or []):
                    yield (*base, "conditions", c, "tools", i), text

    def _where(self, path: tuple[str | int, ...], value: str | None = None) -> tuple[int, str]:
        """The line of ``path`` (0 when unknown) and the ``<source> line N`` prefix."""
        line = self._locator.line(path, value) if self._locator is not None else None
        return line or 0, f"{self.source} line {line}" if line is not None else self.source

    def validate_names(
        self, agents: Iterable[str], tools: Iterable[str], *, paths_known: bool = True
    ) -> None:
        """Check that every agent and tool the policy names exists.

        ``agents`` holds nested agents by path (``ops.clerk``). With ``paths_known=False`` (the
        nested supervisors are built in code the caller cannot see) a path is checked only for its
        last part naming a known agent.

        Raises:
            PolicyError: naming the key and, for a file, the line of each unknown name.
        """
        known_agents = sorted(
            {a if isinstance(a, str) else getattr(a, "name", str(a)) for a in agents}
        )
        known_tools = sorted(
            {t if isinstance(t, str) else getattr(t, "name", str(t)) for t in tools}
        )
        found: list[tuple[int, str]] = []
        for name in self.data.agents:
            if name in known_agents:
                continue
            if "." in name:
                message = _unknown_path(name, known_agents, paths_known)
                if message is None:
                    continue
            else:
                close = difflib.get_close_matches(name, known_agents, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                message = f"unknown agent {name!r}{hint}"
            line, where = self._where(("agents", name))
            found.append((line, f"{where}: {format_key(('agents', name))}: {message}"))
        for path, text in self._selector_sites():
            for selector in parse_selectors([text]):
                if selector.kind == "name" and selector.value not in known_tools:
                    close = difflib.get_close_matches(selector.value, known_tools, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    message = f"unknown tool {selector.value!r}{hint}"
                elif selector.kind == "glob" and not any(
                    selector.matches_name(name) for name in known_tools
                ):
                    message = f"the pattern {selector.value!r} matches no tool"
                else:
                    continue
                line, where = self._where(path, text)
                found.append((line, f"{where}: {format_key(path)}: {message}"))
        problems = [text for _, text in sorted(found, key=lambda item: item[0])]
        if not problems:
            return
        hint = (
            f"known agents: {', '.join(known_agents) or 'none'}; "
            f"known tools: {', '.join(known_tools) or 'none'}"
        )
        if len(problems) == 1:
            raise PolicyError(problems[0], hint=hint)
        raise PolicyError(
            f"{self.source}: {len(problems)} problems:\n  " + "\n  ".join(problems), hint=hint
        )

    def describe(
        self, agents: Mapping[str, Sequence[str] | None], tools: Mapping[str, Tool]
    ) -> list[AgentPermissions]:
        """What each agent may do: allowed tools and their approval rules, refused tools."""
        report = []
        for agent, declared in agents.items():
            rules = self._for(agent)
            allowed, refused = [], []
            for name in sorted(tools):
                tool = tools[name]
                reason = self.check_permission(agent, tool, declared=declared)
                if reason is not None:
                    refused.append(RefusedTool(tool=name, reason=reason))
                    continue
                reasons = self._static_reasons(rules, tool)
                conditions = [c.describe() for c in rules.conditions_for(tool)]
                auto = (
                    rules.auto is not None
                    and not tool.requires_approval
                    and any_match(rules.require.tools, tool) is None
                    and rules.auto.matches(tool)
                )
                approval: Literal["never", "always", "auto", "conditional"]
                if reasons:
                    approval = "auto" if auto else "always"
                else:
                    approval = "conditional" if conditions else "never"
                allowed.append(
                    ToolPermission(
                        tool=name,
                        risk=tool.risk,
                        approval=approval,
                        reasons=reasons,
                        conditions=conditions,
                    )
                )
            report.append(
                AgentPermissions(
                    agent=agent,
                    declared=list(declared) if declared is not None else None,
                    policy_section=rules.has_section,
                    risk_ceiling=rules.risk_ceiling,
                    allowed=allowed,
                    refused=refused,
                )
            )
        return report
