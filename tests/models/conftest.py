"""Fixtures for the model-layer tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from _models_helpers import MockHTTP


@pytest.fixture
async def mock_http() -> AsyncIterator[MockHTTP]:
    http = MockHTTP()
    yield http
    await http.client.aclose()
