"""Policy files: TOML and YAML parsing, the hash, and errors that name the line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentorch.errors import ConfigError, PolicyError
from agentorch.policy import Policy

EXAMPLE_TOML = """\
version = 1

[defaults]
risk_ceiling = "write"            # no agent may use external/destructive tools unless granted
require_approval = { risk = ["external", "destructive"], tools = ["send_email"] }
auto_approve = { risk = ["read"] }

[agents.writer]
allow = ["search_answers", "read_document"]

[agents.editor]
allow = [
  "write_file",
  "submit_response",
]
risk_ceiling = "destructive"

[[agents.editor.conditions]]
tool = "write_file"
when = { argument = "path", outside = "out/" }
require_approval = true
"""

EXAMPLE_YAML = """\
version: 1
defaults:
  risk_ceiling: write
  require_approval: {risk: [external, destructive], tools: [send_email]}
  auto_approve: {risk: [read]}
agents:
  writer:
    allow: [search_answers, read_document]
  editor:
    allow:
      - write_file
      - submit_response
    risk_ceiling: destructive
    conditions:
      - tool: write_file
        when: {argument: path, outside: out/}
        require_approval: true
"""

AGENTS = ["writer", "editor"]
TOOLS = ["search_answers", "read_document", "write_file", "submit_response", "send_email"]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, name: str, text: str) -> str:
    with pytest.raises(PolicyError) as info:
        Policy.load(write(tmp_path, name, text))
    return str(info.value)


# --- loading -------------------------------------------------------------------------------------


def test_toml_and_yaml_load_to_the_same_policy(tmp_path: Path) -> None:
    toml = Policy.load(write(tmp_path, "p.toml", EXAMPLE_TOML))
    yaml = Policy.load(write(tmp_path, "p.yml", EXAMPLE_YAML))
    assert toml.hash == yaml.hash
    assert toml.to_dict() == yaml.to_dict()
    assert toml.source.endswith("p.toml")
    toml.validate_names(AGENTS, TOOLS)
    yaml.validate_names(AGENTS, TOOLS)


def test_hash_ignores_key_order_whitespace_and_defaults() -> None:
    a = Policy.from_dict({"version": 1, "agents": {"w": {"allow": ["x"], "risk_ceiling": "read"}}})
    b = Policy.from_dict({"agents": {"w": {"risk_ceiling": "read", "allow": ["x"], "deny": []}}})
    c = Policy.from_dict({"agents": {"w": {"allow": ["x"], "risk_ceiling": "write"}}})
    assert a.hash == b.hash != c.hash
    assert len(a.hash) == 64
    assert Policy.empty().hash == Policy.from_dict({}).hash


def test_to_dict_round_trips() -> None:
    policy = Policy.from_dict(
        {
            "defaults": {"conditions": [{"tools": ["tag:fs"], "when": [
                {"argument": "path", "outside": "out/"}, {"argument": "mode", "equals": "w"},
            ]}]},
        }
    )  # fmt: skip
    again = Policy.from_dict(policy.to_dict())
    assert again.hash == policy.hash


def test_policy_is_immutable() -> None:
    policy = Policy.empty()
    with pytest.raises(AttributeError):
        policy.source = "other"  # type: ignore[misc]


def test_yaml_extension_variants_and_empty_yaml(tmp_path: Path) -> None:
    assert Policy.load(write(tmp_path, "p.yaml", "")).hash == Policy.empty().hash


# --- file errors ---------------------------------------------------------------------------------


def test_missing_file_and_bad_suffix(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="policy file not found"):
        Policy.load(tmp_path / "nope.toml")
    with pytest.raises(PolicyError, match=r"must end in \.toml, \.yaml or \.yml"):
        Policy.load(write(tmp_path, "p.json", "{}"))


def test_toml_syntax_error_names_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, "p.toml", 'version = 1\n[agents.writer]\nallow = "a" "b"\n')
    assert message.endswith(
        "p.toml line 3, column 13: invalid TOML: "
        "Expected newline or end of document after a statement"
    )


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, "p.yaml", "agents:\n  writer:\n    allow: [a, b\n")
    assert "invalid YAML" in message
    assert "line" in message


def test_yaml_duplicate_key_is_an_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, "p.yaml", "agents:\n  writer: {}\n  writer: {allow: ['*']}\n")
    assert (
        "line 3" in message and "agents.writer: duplicate key (first defined on line 2)" in message
    )


def test_yaml_root_must_be_a_mapping(tmp_path: Path) -> None:
    assert "must be a mapping" in error_of(tmp_path, "p.yaml", "- a\n- b\n")


def test_bad_risk_level_names_key_and_line(tmp_path: Path) -> None:
    text = 'version = 1\n\n[agents.writer]\nallow = ["a"]\nrisk_ceiling = "dangerous"\n'
    message = error_of(tmp_path, "p.toml", text)
    assert message.endswith(
        "p.toml line 5: agents.writer.risk_ceiling: 'dangerous' is not a risk level "
        "(read, write, external, destructive)"
    )


def test_bad_risk_level_in_yaml_list(tmp_path: Path) -> None:
    text = "defaults:\n  require_approval:\n    risk:\n      - external\n      - nuclear\n"
    message = error_of(tmp_path, "p.yaml", text)
    assert (
        "p.yaml line 5: defaults.require_approval.risk[1]: 'nuclear' is not a risk level" in message
    )


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    message = error_of(tmp_path, "p.toml", 'version = 1\n[agents.writer]\nalow = ["a"]\n')
    assert message.endswith(
        "p.toml line 3: agents.writer.alow: unknown key (did you mean 'allow'?)"
    )


def test_several_problems_are_listed_in_line_order(tmp_path: Path) -> None:
    text = (
        "version = 1\n[defaults]\nrisk_ceiling = 'huge'\n"
        "[agents.writer]\nallow = ['a']\nextra = 1\n"
    )
    message = error_of(tmp_path, "p.toml", text)
    assert "2 problems" in message
    assert message.index("line 3") < message.index("line 6")


def test_unsupported_version(tmp_path: Path) -> None:
    message = error_of(tmp_path, "p.toml", "version = 2\n")
    assert "line 1: version: unsupported policy version 2" in message


def test_wrong_type_says_what_it_got() -> None:
    with pytest.raises(PolicyError, match=r"<dict>: agents\.w\.allow: .*list.*got 'search'"):
        Policy.from_dict({"agents": {"w": {"allow": "search"}}})


def test_from_dict_rejects_non_mappings() -> None:
    with pytest.raises(PolicyError, match="must be a mapping"):
        Policy.from_dict(["a"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("risk<=huge", "'huge' is not a risk level"),
        ("risk>write", "write a risk ceiling as 'risk<=<level>'"),
        ("tag:", "'tag:' needs a tag name"),
        ("two words", "expected a tool name"),
    ],
)
def test_bad_selectors(selector: str, expected: str) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_dict({"agents": {"w": {"allow": [selector]}}})
    assert "agents.w.allow[0]" in str(info.value)
    assert expected in str(info.value)


def test_conditions_need_one_operator_and_one_target() -> None:
    with pytest.raises(PolicyError, match="exactly one of: outside, inside"):
        Policy.from_dict({"defaults": {"conditions": [
            {"tool": "w", "when": {"argument": "p", "outside": "a", "inside": "b"}},
        ]}})  # fmt: skip
    with pytest.raises(PolicyError, match="exactly one of 'tool' or 'tools'"):
        Policy.from_dict({"defaults": {"conditions": [{"when": {"argument": "p", "equals": 1}}]}})
    with pytest.raises(PolicyError, match="invalid regular expression"):
        Policy.from_dict({"defaults": {"conditions": [
            {"tool": "w", "when": {"argument": "p", "matches": "(unclosed"}},
        ]}})  # fmt: skip


def test_contradictory_approval_rules_are_rejected() -> None:
    with pytest.raises(
        PolicyError, match="risk external is both in require_approval and auto_approve"
    ):
        Policy.from_dict({"defaults": {
            "require_approval": {"risk": ["external"]}, "auto_approve": {"risk": ["external"]},
        }})  # fmt: skip


# --- validate_names ------------------------------------------------------------------------------


def test_unknown_agent_and_tool_name_their_lines(tmp_path: Path) -> None:
    policy = Policy.load(write(tmp_path, "p.toml", EXAMPLE_TOML))
    with pytest.raises(PolicyError) as info:
        policy.validate_names(["writer", "editr"], ["search_answers", "write_file", "send_email"])
    message = str(info.value)
    assert "3 problems" in message
    assert "line 9: agents.writer.allow[1]: unknown tool 'read_document'" in message
    assert "line 11: agents.editor: unknown agent 'editor' (did you mean 'editr'?)" in message
    assert "line 14: agents.editor.allow[1]: unknown tool 'submit_response'" in message
    assert info.value.hint is not None and "known tools: search_answers" in info.value.hint


def test_unknown_names_in_yaml_use_node_marks(tmp_path: Path) -> None:
    policy = Policy.load(write(tmp_path, "p.yaml", EXAMPLE_YAML))
    with pytest.raises(PolicyError) as info:
        policy.validate_names(["writer"], [t for t in TOOLS if t != "write_file"])
    message = str(info.value)
    assert "p.yaml line 9: agents.editor: unknown agent 'editor'" in message
    assert "p.yaml line 11: agents.editor.allow[0]: unknown tool 'write_file'" in message
    assert "p.yaml line 15: agents.editor.conditions[0].tool: unknown tool 'write_file'" in message


def test_single_unknown_tool_is_one_line_with_suggestion(tmp_path: Path) -> None:
    text = "version = 1\n\n[defaults]\nrequire_approval = { tools = ['send_emial'] }\n"
    policy = Policy.load(write(tmp_path, "p.toml", text))
    with pytest.raises(PolicyError) as info:
        policy.validate_names([], ["send_email"])
    assert str(info.value).endswith(
        "p.toml line 4: defaults.require_approval.tools[0]: unknown tool 'send_emial' "
        "(did you mean 'send_email'?)"
    )


def test_condition_tool_in_array_of_tables_names_its_line(tmp_path: Path) -> None:
    text = (
        "[[defaults.conditions]]\ntool = 'write_file'\nwhen = { argument = 'p', equals = 1 }\n\n"
        "[[defaults.conditions]]\ntool = 'wrte_file'\nwhen = { argument = 'p', equals = 2 }\n"
    )
    policy = Policy.load(write(tmp_path, "p.toml", text))
    with pytest.raises(PolicyError, match=r"line 6: defaults\.conditions\[1\]\.tool: unknown tool"):
        policy.validate_names([], ["write_file"])


def test_globs_tags_and_wildcards_in_validate_names() -> None:
    policy = Policy.from_dict(
        {"defaults": {"allow": ["*", "tag:kb", "risk<=write", "github_*"], "deny": ["gitlab_*"]}}
    )
    with pytest.raises(
        PolicyError, match=r"<dict>: defaults\.deny\[0\]: the pattern 'gitlab_\*' matches no tool"
    ):
        policy.validate_names([], ["github_issue"])
    Policy.from_dict({"defaults": {"allow": ["github_*"]}}).validate_names([], ["github_pr"])


def test_invalid_declared_selector_is_a_config_error() -> None:
    from agentorch.tools.base import tool

    @tool
    def search(q: str) -> str:
        """Search."""
        return q

    with pytest.raises(ConfigError, match="not a risk level"):
        Policy.empty().check_permission("w", search, declared=["risk<=huge"])


def test_validate_names_accepts_objects_with_a_name() -> None:
    from types import SimpleNamespace

    policy = Policy.from_dict({"agents": {"writer": {"allow": ["search"]}}})
    policy.validate_names([SimpleNamespace(name="writer")], [SimpleNamespace(name="search")])
