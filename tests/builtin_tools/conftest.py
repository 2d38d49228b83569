"""Fixtures for the built-in tool tests."""

from __future__ import annotations

import pytest
from tools_helpers import make_ctx


@pytest.fixture
def ctx_factory():
    return make_ctx
