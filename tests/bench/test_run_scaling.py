"""The durability and concurrent-runs measure: it measures healthy runs only, and its report says
what it measured (no figure in it is a constant)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import run_scaling
from bench._sections import write_section
from bench.measures import store_health


@pytest.fixture
def gc_restored() -> Iterator[None]:
    """The measure tunes the collector as the agentorch command does: undo it for the session."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_tune_gc_freezes_and_raises_the_young_and_middle_thresholds(gc_restored: None) -> None:
    import agentorch
    from agentorch.tuning import MIDDLE_THRESHOLD

    before = gc.get_freeze_count()
    agentorch.tune_gc(young=12_345)
    assert gc.get_threshold()[:2] == (12_345, MIDDLE_THRESHOLD)
    assert gc.get_freeze_count() >= before


def test_one_process_of_each_measure_checks_its_runs(gc_restored: None) -> None:
    cost = run_scaling.one_cost(1)
    assert cost["plain_ms"] > 0 and cost["durable_ms"] > 0
    assert cost["transactions"] > 0 and cost["statements"] > cost["transactions"]
    assert 0 < cost["tx_ms"] < cost["sql_ms"]
    row = run_scaling.one_concurrent(3, durable=True, min_runs=7)  # three rounds of 3
    assert row["runs"] == 3 and row["rounds"] == 3 and row["cpu_ms_per_run"] > 0
    assert 0 <= row["gc_ms_per_run"] <= row["cpu_ms_per_run"]


def test_a_store_missing_a_run_or_holding_a_failed_one_is_refused() -> None:
    from agentorch.store import RunRecord, open_store

    store = open_store(":memory:")
    try:
        store.create_run(RunRecord(run_id="r1", task="t", status="succeeded"))
        with pytest.raises(AssertionError, match="holds 1 runs"):
            store_health(store, 2)
        store.create_run(RunRecord(run_id="r2", task="t", status="failed"))
        with pytest.raises(AssertionError, match="r2"):
            store_health(store, 2)
    finally:
        store.close()


def test_the_section_is_rendered_from_the_results(tmp_path: Path) -> None:
    result = {
        "load_avg_start": [1.5, 2.0, 2.5],
        "load_avg_end": [3.0, 2.0, 1.0],
        "cost": {
            "plain_ms": 2.0,
            "durable_ms": 5.0,
            "ratio": 2.5,
            "statements": 300,
            "transactions": 48,
            "sql_ms": 1.25,
            "tx_ms": 0.5,
            "processes": 3,
        },
        "cost_met": False,
        "concurrent": [
            {
                "runs": n,
                "durable": d,
                "cpu_ms_per_run": c,
                "gc_ms_per_run": 0.25,
                "wall_s": 1.0,
                "kb_per_run": 90,
            }
            for n, d, c in (
                (100, False, 2.0),
                (100, True, 5.0),
                (2000, False, 2.2),
                (2000, True, 6.5),
            )
        ],
        "flat": {"plain": 1.1, "durable": 1.3},
        "flat_met": {"plain": True, "durable": False},
        "sizes": [100, 2000],
    }
    text = run_scaling.render(result)
    assert "**2.50x** (target <= 2x): **MISSED**" in text
    assert "The difference, 3.00 ms per run, is 62 µs for each of the 48 transactions" in text
    assert "1.25 ms of it is inside SQLite" in text and "about 1.75 ms is the Python" in text
    assert "1.50 2.00 2.50" in text and "| 2,000 | SQLite | 6.50 | 0.25 |" in text
    assert (
        "plain: CPU per run at 2,000 runs is 1.10x that at 100 (target <= 1.25x): met; "
        "the collector 0.25 ms per run at 100, 0.25 at 2,000." in text
    )
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# Benchmarks\n", encoding="utf-8")
    write_section(report, text, run_scaling.START, run_scaling.END)
    write_section(report, text, run_scaling.START, run_scaling.END)
    assert report.read_text(encoding="utf-8").count(run_scaling.START) == 1
