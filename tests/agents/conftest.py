"""Fixtures for the built-in specialists' tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _specialist_helpers import LIBRARY


@pytest.fixture
def state(tmp_path: Path) -> dict[str, Any]:
    """A run's state: the example library, a private index cache and output folder."""
    return {
        "library": str(LIBRARY),
        "cache_dir": str(tmp_path / "cache"),
        "output_dir": str(tmp_path / "out"),
    }
