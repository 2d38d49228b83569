"""README and docs examples run exactly as written (offline, in a scratch folder), so they cannot rot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(markdown: str, under: str) -> list[str]:
    """The ```python blocks of the section whose heading is ``under`` (up to the next heading)."""
    section = markdown.split(f"\n{under}\n", 1)[1]
    section = re.split(r"\n#{2,3} ", section, maxsplit=1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_first_python_example_runs_as_written(tmp_path: Path) -> None:
    (block,) = python_blocks(
        (ROOT / "README.md").read_text(encoding="utf-8"), "## Using it from Python"
    )
    script = tmp_path / "example.py"
    script.write_text(block, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    first, second = run.stdout.splitlines()
    assert first == "succeeded | SUP-1: 3,600 USD for 3 years"  # as the comment says
    assert int(second.split()[0]) > 0
    assert (tmp_path / "runs.db").is_file()


def test_the_own_specialist_example_is_a_project_that_runs_offline(tmp_path: Path) -> None:
    blocks = python_blocks(
        (ROOT / "docs" / "guides" / "specialists.md").read_text(encoding="utf-8"),
        "## Defining your own specialist: one class in one file",
    )
    agent_file, tool_file, usage = blocks
    for block in (agent_file, tool_file):
        relative = block.splitlines()[0].removeprefix("# ")  # "# agents/pricing.py"
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(block, encoding="utf-8")
    (tmp_path / "use.py").write_text(usage, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "use.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "sku='SUP-1' unit_price=1200.0"
