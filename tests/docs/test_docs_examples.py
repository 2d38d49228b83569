"""Every code block of README.md and docs/**/*.md runs as written (offline): one test per block,
named ``page:line``. The rules a page follows are in tests/docs/README.md."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_harness import (
    ROOT,
    Block,
    Page,
    Services,
    code_examples,
    open_page,
    parse_page,
    relative,
    run_until,
)
from pg_fixture import pg_server  # noqa: F401  (fixture: started only if a page asks for it)
from sybil import Document


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks() -> Iterator[object]:
    for path in pages():
        for example in code_examples(parse_page(path)):
            block: Block = example.region.parsed
            yield pytest.param(path, block.line, id=f"{relative(path)}:{block.line}")


class Pages:
    """The pages being run in this session (each opened on its first block)."""

    def __init__(self, folder: Path, services: Services) -> None:
        self.folder = folder
        self.services = services
        self.open: dict[Path, tuple[Page, Document]] = {}

    def get(self, path: Path) -> tuple[Page, Document]:
        if path not in self.open:
            name = relative(path).replace("/", "_").removesuffix(".md")
            self.open[path] = open_page(path, self.folder / name, self.services)
        return self.open[path]

    def close(self) -> None:
        for page, _ in self.open.values():
            page.close()
        self.services.close()


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Pages]:
    running = Pages(tmp_path_factory.mktemp("pages"), Services(request.getfixturevalue))
    yield running
    running.close()


@pytest.mark.parametrize(("path", "line"), list(blocks()))
def test_block_runs(running: Pages, path: Path, line: int) -> None:
    page, document = running.get(path)
    run_until(page, document, line)


def test_every_page_is_found() -> None:
    assert ROOT / "README.md" in pages()
    assert len(list(blocks())) > 0
