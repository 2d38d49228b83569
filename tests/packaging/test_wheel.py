"""The wheel users install: typed, carrying the bundled folders under agentorch/, deps declared."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (built,) = out.glob("agentorch-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_is_typed_and_carries_the_bundled_folders(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert "agentorch/py.typed" in names  # PEP 561: users' type checkers read our annotations
    assert "agentorch/_bundled/agents/parser.py" in names
    assert "agentorch/_bundled/tools/documents.py" in names
    assert "agentorch/_bundled/examples/rfp/workflow.py" in names  # `agentorch run rfp`
    assert any(n.startswith("agentorch/_bundled/examples/rfp/library/") for n in names)
    assert not any(n.startswith(("agents/", "tools/")) for n in names)
    # the review inbox's templates and vendored scripts (agentorch serve)
    assert {"agentorch/web/templates/inbox.html", "agentorch/web/static/htmx.min.js"} <= names


def test_the_wheel_declares_what_the_code_imports(wheel: zipfile.ZipFile) -> None:
    (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    requires = [
        line.split(":", 1)[1].strip()
        for line in wheel.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    assert any(r.lower().startswith("pyyaml") for r in requires)
    mcp = [r for r in requires if r.startswith("mcp") and "extra == 'mcp'" in r]
    assert mcp and "<3" in mcp[0] and ">=2" in mcp[0]  # the adapter speaks the 2.x SDK only
