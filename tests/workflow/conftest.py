"""Fixtures for the RFP workflow and discovery tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentorch.discovery import clear_cache


@pytest.fixture
def rfp_state(tmp_path: Path) -> dict[str, Any]:
    """A run's state with a private output folder, outbox and index cache."""
    return {
        "output_dir": str(tmp_path / "out"),
        "outbox_dir": str(tmp_path / "outbox"),
        "cache_dir": str(tmp_path / "cache"),
    }


@pytest.fixture
def fresh_discovery() -> Any:
    """Forget loaded project folders before and after the test."""
    clear_cache()
    yield
    clear_cache()
