"""search_answers / get_answer: BM25 ranking over the approved-answer library, cached on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tools_helpers import DATA, EXAMPLE, make_ctx, tools_module

from agentorch.errors import ConfigError, ModelRetry

answers = tools_module("answers")
index_mod = tools_module("_answer_index")
library_mod = tools_module("_library")

LIBRARY = EXAMPLE / "library"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTORCH_LIBRARY", raising=False)
    monkeypatch.delenv("AGENTORCH_CACHE_DIR", raising=False)


@pytest.fixture
def ctx(tmp_path: Path):
    return make_ctx(library=str(LIBRARY), cache_dir=str(tmp_path / "cache"))


async def search(ctx, query: str, **args: object) -> list[dict]:
    return await answers.search_answers.invoke({"query": query, **args}, ctx)


async def test_sso_query_ranks_the_sso_answer_first(ctx) -> None:
    results = await search(ctx, "single sign-on SAML")
    assert results[0]["id"] == "AA-006"
    assert set(results[0]) == {"id", "title", "category", "score", "snippet"}
    assert results[0]["score"] > results[1]["score"] > 0
    assert "[SAML]" in results[0]["snippet"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("guarantee 100% uptime availability", "AA-025"),
        ("firm fixed price with no escalation for five years", "AA-030"),
        ("unlimited liability", "AA-033"),
        ("indemnify and hold harmless", "AA-034"),
        ("backup RPO RTO disaster recovery", "AA-024"),
        ("encrypted in transit TLS and at rest AES-256", "AA-018"),
        ("inspections without network connectivity offline", "AA-011"),
    ],
)
async def test_rfp_requirements_find_their_answer(ctx, query: str, expected: str) -> None:
    assert (await search(ctx, query, limit=3))[0]["id"] == expected


async def test_stemming_matches_other_word_forms(ctx) -> None:
    results = await search(ctx, "encrypting keys rotated", limit=1)
    assert results[0]["id"] == "AA-018"


async def test_category_filter_and_limit(ctx) -> None:
    results = await search(ctx, "data", category="legal", limit=3)
    assert 0 < len(results) <= 3
    assert {r["category"] for r in results} == {"legal"}
    assert await search(ctx, "RPO RTO disaster recovery", category="SLA") == []
    assert len(await search(ctx, "the", limit=500)) <= answers.MAX_RESULTS


async def test_bad_arguments_go_back_to_the_model(ctx) -> None:
    with pytest.raises(ModelRetry, match="unknown category 'finance'"):
        await search(ctx, "price", category="finance")
    with pytest.raises(ModelRetry, match="no words"):
        await search(ctx, '" * ( )')


async def test_query_syntax_is_not_interpreted(ctx) -> None:
    # FTS5 operators and quotes in a query are searched as words, never parsed as syntax
    results = await search(ctx, 'SAML" OR NEAR(title: *) AND NOT')
    assert results[0]["id"] == "AA-006"
    assert await search(ctx, "zzzunknownword") == []


async def test_get_answer(ctx) -> None:
    answer = await answers.get_answer.invoke({"answer_id": "aa-025"}, ctx)
    assert answer["id"] == "AA-025"
    assert answer["category"] == "sla"
    assert answer["approved"] == "2025-03-10"
    assert "99.9%" in answer["text"] and "\n" not in answer["text"]
    assert "100%" in answer["usage_notes"]
    with pytest.raises(ModelRetry, match="no approved answer with id 'AA-999'"):
        await answers.get_answer.invoke({"answer_id": "AA-999"}, ctx)


def test_index_is_built_once_and_rebuilt_when_the_library_changes(tmp_path: Path) -> None:
    library = tmp_path / "library"
    shutil.copytree(LIBRARY, library)
    cache = tmp_path / "cache"
    first = index_mod.open_index(library, cache)
    assert first.built
    mtime = first.path.stat().st_mtime_ns
    second = index_mod.open_index(library, cache)
    assert not second.built and second.path == first.path
    assert first.path.stat().st_mtime_ns == mtime

    entry = next(library.glob("AA-006-*.md"))
    entry.write_text(entry.read_text().replace("Ping Identity", "Ping Identity and Keycloak"))
    third = index_mod.open_index(library, cache)
    assert third.built and third.path != first.path
    assert not first.path.exists()  # the stale index for this library was removed
    hits = index_mod.search(third, "Keycloak", category=None, limit=5)
    assert [h["id"] for h in hits] == ["AA-006"]

    (library / "README.md").write_text("docs only, not an answer")  # not part of the library
    assert not index_mod.open_index(library, cache).built


def test_a_damaged_cache_file_is_rebuilt(tmp_path: Path) -> None:
    first = index_mod.open_index(LIBRARY, tmp_path)
    first.path.write_bytes(b"not a database")
    again = index_mod.open_index(LIBRARY, tmp_path)
    assert again.built
    assert index_mod.all_ids(again)[:2] == ["AA-001", "AA-002"]


async def test_environment_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTORCH_LIBRARY", str(DATA / "library_facilities"))
    monkeypatch.setenv("AGENTORCH_CACHE_DIR", str(tmp_path / "envcache"))
    results = await search(make_ctx(), "emergency work order response time", limit=2)
    assert results[0]["id"] == "HFS-010"
    assert list((tmp_path / "envcache" / "answer-index").glob("*.sqlite"))


async def test_jsonl_library_for_a_different_rfp(tmp_path: Path) -> None:
    ctx = make_ctx(library=str(DATA / "library_facilities"), cache_dir=str(tmp_path))
    assert (await search(ctx, "Joint Commission survey"))[0]["id"] == "HFS-006"
    assert (await search(ctx, "HIPAA business associate agreement"))[0]["id"] == "HFS-008"
    assert (await search(ctx, "infection control risk assessment ICRA"))[0]["id"] == "HFS-005"
    assert len(library_mod.load_library(DATA / "library_facilities")) >= 15


def test_missing_library_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./library here
    with pytest.raises(ConfigError, match="approved-answer library not found: library"):
        library_mod.resolve_library({})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("no front matter", "starts with TOML front matter"),
        ('+++\nid = "X-1\n+++\ntext', "front matter is not valid TOML"),
        (
            '+++\nid = "X-1"\ntitle = "t"\ncategory = "finance"\napproved = 2025-01-01\n'
            'owner = "o"\n+++\nbody',
            "category: Input should be",
        ),
        (
            '+++\nid = "X-1"\ntitle = "t"\ncategory = "legal"\nowner = "o"\n+++\nbody',
            "approved: Field required",
        ),
    ],
)
def test_invalid_entries_name_the_file(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "X-1.md").write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        library_mod.load_library(tmp_path)
    assert "X-1.md" in str(info.value)


def test_duplicate_ids_and_empty_library(tmp_path: Path) -> None:
    line = (
        '{"id": "D-1", "title": "t", "category": "SLA", "approved": "2025-01-01", '
        '"owner": "o", "text": "x"}\n'
    )
    (tmp_path / "a.jsonl").write_text(line + line)
    with pytest.raises(ConfigError, match=r"duplicate approved-answer id 'D-1' in .*a.jsonl:2"):
        library_mod.load_library(tmp_path)
    (tmp_path / "a.jsonl").write_text("[1, 2]\n")
    with pytest.raises(ConfigError, match=r"a\.jsonl:1: each line must be a JSON object"):
        library_mod.load_library(tmp_path)
    (tmp_path / "a.jsonl").unlink()
    with pytest.raises(ConfigError, match="has no entries"):
        library_mod.load_library(tmp_path)
