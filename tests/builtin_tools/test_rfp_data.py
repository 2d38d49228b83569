"""The example data stays usable: RFPs with requirements, a careful library, a valid policy."""

from __future__ import annotations

import re
import tomllib

import pytest
from tools_helpers import DATA, EXAMPLE, TOOLS_DIR, tools_module

library_mod = tools_module("_library")

REQUIREMENT = re.compile(r"^(\d+)\.(\d+) ", re.M)


@pytest.mark.parametrize(
    ("path", "minimum"), [(EXAMPLE / "rfp.md", 25), (DATA / "rfp_facilities.md", 20)]
)
def test_rfps_have_requirements_in_every_section(path, minimum: int) -> None:
    text = path.read_text(encoding="utf-8")
    sections = {int(major) for major, _ in REQUIREMENT.findall(text) if major != "1"}
    assert sections >= {2, 3, 4, 5, 6}
    assert len([m for m in REQUIREMENT.findall(text) if m[0] != "1"]) >= minimum
    # both tempt risky commitments: guaranteed uptime/outcomes, fixed prices, uncapped liability
    for risky in ("guarantee", "fixed", "indemnify", "liability", "without limit"):
        assert risky in text.lower(), risky


def test_example_rfp_length() -> None:
    words = len((EXAMPLE / "rfp.md").read_text(encoding="utf-8").split())
    assert 2500 <= words <= 4000


@pytest.mark.parametrize(
    ("path", "minimum"), [(EXAMPLE / "library", 30), (DATA / "library_facilities", 15)]
)
def test_libraries_are_valid_and_careful(path, minimum: int) -> None:
    entries = library_mod.load_library(path)
    assert len(entries) >= minimum
    assert len({e.category for e in entries}) == 6
    for entry in entries:
        text = entry.text.lower()
        assert "we guarantee" not in text and "100% uptime" not in text, entry.id
        if entry.category == "pricing":
            assert "subject to contract" in text, entry.id
            assert "rate card" in text or "rate schedule" in text, entry.id


def test_policy_names_only_bundled_tools() -> None:
    policy = tomllib.loads((EXAMPLE / "policy.toml").read_text(encoding="utf-8"))
    assert policy["version"] == 1
    named = {tool for agent in policy["agents"].values() for tool in agent["allow"]}
    bundled = {
        name
        for module in ("documents", "answers", "files", "commitments")
        for name, value in vars(tools_module(module)).items()
        if type(value).__name__ == "Tool"
    }
    assert (
        named
        == bundled
        == {
            "find_requirements",
            "read_document",
            "search_answers",
            "get_answer",
            "check_commitment",
            "write_file",
            "submit_response",
        }
    )
    assert sorted(p.name for p in TOOLS_DIR.glob("[!_]*.py")) == [
        "answers.py",
        "commitments.py",
        "documents.py",
        "files.py",
    ]
