"""The README's screenshot of the live view: its generator works, and the committed picture is one
of its outputs (a real run's final screen, no machine paths)."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "docs" / "screenshot.py"
COMMITTED = ROOT / "docs" / "images" / "live-view.svg"


def svg_text(svg: str) -> str:
    """The terminal's text as the SVG shows it (rich writes spaces as no-break spaces)."""
    root = ET.fromstring(svg)
    return "".join(root.itertext()).replace("\xa0", " ")


def assert_final_screen_of_the_rfp_run(text: str) -> None:
    for expected in (
        "agentorch run ",
        "~/rfp-demo/rfp  [offline engine]  succeeded",
        "✔ parse  parser  function:offline-parser  done",
        "✔ submit  submitter",
        "Spend",
        "Elapsed",
        "Response written, NOT submitted",
        "Run id",
    ):
        assert expected in text, expected
    # every step drawn in its final state: none left running or waiting
    assert not re.search(r"function:offline-\w+  (running|waiting)", text)
    assert "/tmp" not in text and "/home" not in text and "/root" not in text


def test_the_generator_draws_a_real_run_through_the_live_view(tmp_path: Path) -> None:
    output = tmp_path / "live-view.svg"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(output)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert_final_screen_of_the_rfp_run(svg_text(output.read_text(encoding="utf-8")))
    assert str(tmp_path) not in output.read_text(encoding="utf-8")
    assert list(tmp_path.iterdir()) == [output]  # the run's files stayed in its scratch folder


def test_the_committed_screenshot_is_such_a_picture() -> None:
    assert_final_screen_of_the_rfp_run(svg_text(COMMITTED.read_text(encoding="utf-8")))
