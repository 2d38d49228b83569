"""Fixtures for the review inbox's tests: a store with waiting runs, users, a signed-in client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web_helpers import Web

from agentorch.store import open_store


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    root = tmp_path_factory.mktemp("web")
    yield Web(root)


@pytest.fixture(scope="module")
def store(web: Web) -> Iterator[object]:
    db = open_store(web.store_url)
    yield db
    db.close()
