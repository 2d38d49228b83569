"""Policy evaluation: permissions (stricter wins), approval rules, conditions and ``describe``."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentorch.policy import Policy, path_is_inside
from agentorch.tools.base import Tool, tool


@tool(risk="read", tags=["kb"])
def search_answers(query: str) -> str:
    """Search the knowledge base."""
    return query


@tool(risk="read")
def read_document(path: str) -> str:
    """Read a document."""
    return path


@tool(risk="write")
def write_file(path: str, text: str) -> str:
    """Write a file."""
    return path


@tool(risk="external")
def send_email(to: str, body: str) -> str:
    """Send an email."""
    return to


@tool(risk="external", tags=["web"])
def fetch_url(url: str) -> str:
    """Fetch a URL."""
    return url


@tool(risk="destructive", requires_approval=True)
def delete_records(table: str) -> int:
    """Delete records."""
    return 0


ALL: dict[str, Tool] = {
    t.name: t
    for t in (search_answers, read_document, write_file, send_email, fetch_url, delete_records)
}

POLICY = Policy.from_dict(
    {
        "version": 1,
        "defaults": {
            "risk_ceiling": "write",
            "require_approval": {"risk": ["external", "destructive"], "tools": ["send_email"]},
            "auto_approve": {"risk": ["read"], "tools": ["fetch_url"]},
        },
        "agents": {
            "writer": {"allow": ["search_answers", "read_document"]},
            "editor": {
                "allow": ["write_file", "read_document", "delete_records", "send_email"],
                "risk_ceiling": "destructive",
                "conditions": [
                    {"tool": "write_file", "when": {"argument": "path", "outside": "out/"}},
                ],
            },
            "researcher": {"risk_ceiling": "external", "deny": ["send_email"]},
        },
    }
)


# --- permissions ---------------------------------------------------------------------------------


def test_agent_that_declares_nothing_gets_nothing() -> None:
    reason = Policy.empty().check_permission("writer", search_answers, declared=None)
    assert (
        reason
        == "tool 'search_answers' is not permitted for agent 'writer' (the agent declares no tools)"
    )


def test_empty_policy_follows_the_declaration() -> None:
    empty = Policy.empty()
    assert empty.check_permission("w", search_answers, declared=["search_answers"]) is None
    assert empty.check_permission("w", delete_records, declared=["*"]) is None
    assert empty.check_permission("w", write_file, declared=["search_answers"]) == (
        "tool 'write_file' is not permitted for agent 'w' (not in the agent's tools)"
    )


@pytest.mark.parametrize(
    ("declared", "allowed"),
    [
        (["tag:kb"], {"search_answers"}),
        (["risk<=read"], {"search_answers", "read_document"}),
        (["risk<=write"], {"search_answers", "read_document", "write_file"}),
        (["*_file", "tag:web"], {"write_file", "fetch_url"}),
        (["read_document", "risk<=read"], {"search_answers", "read_document"}),
    ],
)
def test_declaration_selectors(declared: list[str], allowed: set[str]) -> None:
    empty = Policy.empty()
    got = {n for n, t in ALL.items() if empty.check_permission("a", t, declared=declared) is None}
    assert got == allowed


def test_policy_section_restricts_a_broad_declaration() -> None:
    # the writer declares everything, the policy allows two tools: the stricter wins
    assert POLICY.check_permission("writer", search_answers, declared=["*"]) is None
    assert POLICY.check_permission("writer", write_file, declared=["*"]) == (
        "tool 'write_file' is not permitted for agent 'writer' (not allowed by the policy)"
    )


def test_declaration_restricts_a_broad_policy() -> None:
    assert POLICY.check_permission("editor", write_file, declared=["read_document"]) == (
        "tool 'write_file' is not permitted for agent 'editor' (not in the agent's tools)"
    )


def test_default_risk_ceiling_caps_agents_without_a_section() -> None:
    assert POLICY.check_permission("critic", write_file, declared=["*"]) is None
    assert POLICY.check_permission("critic", fetch_url, declared=["*"]) == (
        "tool 'fetch_url' is not permitted for agent 'critic' "
        "(its risk 'external' is above the policy's risk ceiling 'write')"
    )


def test_agent_ceiling_overrides_default_ceiling_and_still_caps_allow() -> None:
    assert POLICY.check_permission("editor", delete_records, declared=["*"]) is None
    capped = Policy.from_dict(
        {"agents": {"w": {"allow": ["delete_records"], "risk_ceiling": "write"}}}
    )
    assert "above the policy's risk ceiling 'write'" in (
        capped.check_permission("w", delete_records, declared=["*"]) or ""
    )


def test_deny_wins_over_ceiling_and_declaration() -> None:
    assert POLICY.check_permission("researcher", fetch_url, declared=["*"]) is None
    assert POLICY.check_permission("researcher", send_email, declared=["send_email"]) == (
        "tool 'send_email' is not permitted for agent 'researcher' "
        "(denied by the policy: 'send_email')"
    )


def test_default_allow_applies_to_agents_without_their_own() -> None:
    policy = Policy.from_dict(
        {"defaults": {"allow": ["tag:kb"]}, "agents": {"x": {"allow": ["*"]}}}
    )
    assert policy.check_permission("y", read_document, declared=["*"]) is not None
    assert policy.check_permission("y", search_answers, declared=["*"]) is None
    assert policy.check_permission("x", read_document, declared=["*"]) is None


# --- approvals -----------------------------------------------------------------------------------


def test_no_approval_for_plain_tools() -> None:
    assert POLICY.approval_reason("writer", search_answers, {"query": "x"}) is None
    assert POLICY.approval_reason("editor", write_file, {"path": "out/a.md", "text": ""}) is None


def test_code_level_requires_approval_cannot_be_removed() -> None:
    reason = Policy.empty().approval_reason("editor", delete_records, {"table": "t"})
    assert reason == "tool 'delete_records' always requires approval"
    assert not Policy.from_dict({"defaults": {"auto_approve": {"tools": ["*"]}}}).auto_approves(
        "editor", delete_records, {"table": "t"}
    )


def test_approval_by_tool_name_and_risk() -> None:
    assert POLICY.approval_reason("editor", send_email, {"to": "a"}) == (
        "the policy requires approval for tool 'send_email'; "
        "the policy requires approval for external tools"
    )
    assert POLICY.approval_reason("editor", delete_records, {"table": "t"}) == (
        "tool 'delete_records' always requires approval; "
        "the policy requires approval for destructive tools"
    )


def test_approval_by_tag_adds_agent_rules_to_defaults() -> None:
    policy = Policy.from_dict(
        {
            "defaults": {"require_approval": {"tools": ["write_file"]}},
            "agents": {"w": {"require_approval": {"tags": ["kb"]}}},
        }
    )
    assert policy.approval_reason("w", search_answers, {}) == (
        "the policy requires approval for tools tagged 'kb'"
    )
    assert policy.approval_reason("w", write_file, {}) is not None
    assert policy.approval_reason("other", search_answers, {}) is None


def test_auto_approve_waives_risk_rules_only() -> None:
    # fetch_url is external (approval by risk) but auto-approved by name
    assert POLICY.approval_reason("researcher", fetch_url, {"url": "u"}) is not None
    assert POLICY.auto_approves("researcher", fetch_url, {"url": "u"})
    # send_email is named in require_approval.tools: never auto-approved
    auto_all = Policy.from_dict({"defaults": {
        "require_approval": {"tools": ["send_email"]}, "auto_approve": {"tools": ["*"]},
    }})  # fmt: skip
    assert not auto_all.auto_approves("x", send_email, {"to": "a"})
    assert auto_all.auto_approves("x", search_answers, {"query": "q"})


def test_agent_auto_approve_replaces_defaults() -> None:
    policy = Policy.from_dict(
        {
            "defaults": {"auto_approve": {"risk": ["read"]}},
            "agents": {"strict": {"auto_approve": {}}},
        }
    )
    assert policy.auto_approves("any", search_answers, {})
    assert not policy.auto_approves("strict", search_answers, {})
    assert not Policy.empty().auto_approves("any", search_answers, {})


@pytest.mark.parametrize(
    ("path", "needs_approval"),
    [
        ("out/a.md", False),
        ("out/sub/dir/a.md", False),
        ("./out/a.md", False),
        ("out/./x/../a.md", False),
        ("out\\a.md", False),
        ("out", False),
        ("out/../secrets.txt", True),
        ("out/../../etc/passwd", True),
        ("out\\..\\..\\x", True),
        ("../out/a.md", True),
        ("/etc/passwd", True),
        ("/out/a.md", True),
        ("~/out/a.md", True),
        ("C:/out/a.md", True),
        ("outbox/a.md", True),
        ("output.md", True),
        ("", True),
        ("out/a\x00.md", True),
    ],
)
def test_path_condition(path: str, needs_approval: bool) -> None:
    reason = POLICY.approval_reason("editor", write_file, {"path": path, "text": "x"})
    if needs_approval:
        assert reason == "the policy requires approval when argument 'path' is outside 'out/'"
        assert not POLICY.auto_approves("editor", write_file, {"path": path, "text": "x"})
    else:
        assert reason is None


def test_non_string_path_is_outside_and_missing_argument_never_matches() -> None:
    assert POLICY.approval_reason("editor", write_file, {"path": ["out/a"], "text": ""}) is not None
    assert POLICY.approval_reason("editor", write_file, {"text": ""}) is None


def test_absolute_prefix() -> None:
    assert path_is_inside("/srv/out/a", "/srv/out")
    assert not path_is_inside("/srv/out/../a", "/srv/out")
    assert not path_is_inside("out/a", "/srv/out")
    assert path_is_inside("anything/at/all", ".")
    assert not path_is_inside("../x", ".")


@given(st.lists(st.sampled_from(["out", "..", ".", "a", "b", "", "/"]), max_size=8))
def test_inside_never_escapes_the_prefix(parts: list[str]) -> None:
    path = "/".join(parts)
    if path_is_inside(path, "out/"):
        normalized = posixpath.normpath(path)
        assert not normalized.startswith(("/", ".."))
        assert normalized == "out" or normalized.startswith("out/")


@pytest.mark.parametrize(
    ("when", "arguments", "holds"),
    [
        ({"argument": "to", "equals": "ceo@example.com"}, {"to": "ceo@example.com"}, True),
        ({"argument": "to", "equals": "ceo@example.com"}, {"to": "me@example.com"}, False),
        ({"argument": "to", "not_equals": "me@example.com"}, {"to": "ceo@example.com"}, True),
        ({"argument": "to", "one_of": ["a", "b"]}, {"to": "b"}, True),
        ({"argument": "to", "matches": r"@(?!example\.com$)"}, {"to": "x@evil.org"}, True),
        ({"argument": "to", "matches": r"@(?!example\.com$)"}, {"to": "x@example.com"}, False),
        ({"argument": "to", "not_matches": r"^\S+@example\.com$"}, {"to": "x@evil.org"}, True),
        ({"argument": "to", "inside": "drafts"}, {"to": "drafts/a"}, True),
        ({"argument": "n", "matches": "^4"}, {"n": 42}, True),
    ],
)
def test_argument_conditions(
    when: dict[str, object], arguments: dict[str, object], holds: bool
) -> None:
    policy = Policy.from_dict(
        {"defaults": {"conditions": [{"tools": ["send_email"], "when": when}]}}
    )
    assert (policy.approval_reason("a", send_email, arguments) is not None) == holds


def test_all_tests_in_a_condition_must_hold_and_custom_reason() -> None:
    policy = Policy.from_dict({"defaults": {"conditions": [{
        "tool": "tag:kb",
        "when": [
            {"argument": "query", "matches": "salary"}, {"argument": "scope", "equals": "all"},
        ],
        "reason": "searching salaries across the company",
    }]}})  # fmt: skip
    assert policy.approval_reason("a", search_answers, {"query": "salary", "scope": "team"}) is None
    assert policy.approval_reason("a", search_answers, {"query": "salary", "scope": "all"}) == (
        "the policy requires approval when searching salaries across the company"
    )


# --- describe ------------------------------------------------------------------------------------


def test_describe_reports_what_each_agent_may_do() -> None:
    report = {
        r.agent: r
        for r in POLICY.describe(
            {"writer": ["*"], "editor": ["*"], "critic": None, "researcher": ["*"]}, ALL
        )
    }
    writer = report["writer"]
    assert writer.policy_section and writer.risk_ceiling == "write"
    assert [p.tool for p in writer.allowed] == ["read_document", "search_answers"]
    assert {r.tool for r in writer.refused} == set(ALL) - {"read_document", "search_answers"}

    editor = {p.tool: p for p in report["editor"].allowed}
    assert report["editor"].risk_ceiling == "destructive"
    assert editor["write_file"].approval == "conditional"
    assert editor["write_file"].conditions == ["argument 'path' is outside 'out/'"]
    assert editor["delete_records"].approval == "always"
    assert editor["send_email"].approval == "always"
    assert editor["read_document"].approval == "never"

    researcher = {p.tool: p for p in report["researcher"].allowed}
    assert researcher["fetch_url"].approval == "auto"
    assert "send_email" not in researcher

    critic = report["critic"]
    assert critic.declared is None and not critic.allowed and not critic.policy_section
    assert critic.model_dump()["refused"][0]["reason"].endswith("(the agent declares no tools)")
