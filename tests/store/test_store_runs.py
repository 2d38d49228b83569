"""Store contract, runs and steps: the same tests against SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from store_helpers import Raw, make_run, make_step

import agentorch.store._records as store_records
import agentorch.store._store as store_module
from agentorch.errors import RunNotFoundError, StoreError, UserError
from agentorch.store import RunRecord, Store


def test_run_round_trips_every_field(store: Store) -> None:
    run = RunRecord(
        run_id="run-1",
        task="Réponse à l'appel d'offres — 東京",
        status="running",
        workflow="rfp",
        spec={"files": ["rfp.md"], "options": {"tone": "formal", "n": 3, "ratio": 0.1}},
        policy_hash="ab" * 32,
        budget={"usd": 2.0, "tokens": 400_000},
        plan={"steps": [{"id": "s1", "agent": "writer", "depends_on": []}]},
        output={"text": "done", "nested": [1, 2.5, None, True]},
        error=None,
        usage={"by_agent": {"writer": {"usd": 0.01}}},
        created_at=1_700_000_000.123456,
        updated_at=1_700_000_001.5,
    )
    store.create_run(run)
    assert store.get_run("run-1") == run


def test_run_output_may_be_any_json(store: Store) -> None:
    make_run(store, "run-1", output="plain text")
    make_run(store, "run-2", output=[1, "two"])
    assert store.get_run("run-1").output == "plain text"
    assert store.get_run("run-2").output == [1, "two"]


def test_creating_a_run_twice_is_refused(store: Store) -> None:
    make_run(store, "run-1", task="first")
    with pytest.raises(StoreError, match="already exists"):
        make_run(store, "run-1", task="second")
    assert store.get_run("run-1").task == "first"


def test_get_run_accepts_a_unique_prefix(store: Store) -> None:
    make_run(store, "3fa2c9d1")
    make_run(store, "3fb07e55")
    assert store.get_run("3fa").run_id == "3fa2c9d1"
    assert store.get_run("3fb07e55").run_id == "3fb07e55"


def test_get_run_with_an_ambiguous_prefix_names_the_candidates(store: Store) -> None:
    make_run(store, "3fa2c9d1")
    make_run(store, "3fb07e55")
    with pytest.raises(UserError, match="ambiguous") as info:
        store.get_run("3f")
    assert not isinstance(info.value, RunNotFoundError)
    assert "3fa2c9d1" in str(info.value) and "3fb07e55" in str(info.value)


def test_an_exact_id_wins_over_longer_ids_it_prefixes(store: Store) -> None:
    make_run(store, "run-1")
    make_run(store, "run-10")
    assert store.get_run("run-1").run_id == "run-1"


@pytest.mark.parametrize("run_id", ["nope", "", "run-1x", "%", "_"])
def test_get_run_unknown_raises_run_not_found(store: Store, run_id: str) -> None:
    make_run(store, "run-1")
    with pytest.raises(RunNotFoundError, match="no run"):
        store.get_run(run_id)


def test_update_run_changes_only_the_named_fields(store: Store) -> None:
    make_run(store, "run-1", task="t", budget={"usd": 1.0}, created_at=5.0)
    store.update_run(
        "run-1", status="succeeded", output={"answer": 42}, plan={"steps": []}, updated_at=9.0
    )
    run = store.get_run("run-1")
    assert (run.status, run.output, run.plan, run.updated_at) == (
        "succeeded",
        {"answer": 42},
        {"steps": []},
        9.0,
    )
    assert (run.task, run.budget, run.created_at) == ("t", {"usd": 1.0}, 5.0)
    store.update_run("run-1", output=None, error="boom")
    assert store.get_run("run-1").output is None
    assert store.get_run("run-1").error == "boom"


def test_update_run_rejects_unknown_fields_and_statuses(store: Store) -> None:
    make_run(store, "run-1")
    with pytest.raises(StoreError, match="unknown field"):
        store.update_run("run-1", colour="red")
    with pytest.raises(StoreError, match="invalid status"):
        store.update_run("run-1", status="exploded")
    assert store.get_run("run-1").status == "pending"


def test_update_of_a_missing_run_raises(store: Store) -> None:
    with pytest.raises(RunNotFoundError):
        store.update_run("ghost", status="running")


def test_list_runs_is_newest_first_with_filter_and_limit(store: Store) -> None:
    make_run(store, "old", created_at=1.0, status="succeeded")
    make_run(store, "new", created_at=3.0, status="running")
    make_run(store, "mid", created_at=2.0, status="succeeded")
    assert [r.run_id for r in store.list_runs()] == ["new", "mid", "old"]
    assert [r.run_id for r in store.list_runs(status="succeeded")] == ["mid", "old"]
    assert [r.run_id for r in store.list_runs(limit=2)] == ["new", "mid"]
    assert [r.run_id for r in store.list_runs(limit=0)] == ["new", "mid", "old"]
    assert store.list_runs(status="cancelled") == []


def test_list_runs_breaks_ties_by_insertion_order(store: Store) -> None:
    for run_id in ("a", "b", "c"):
        make_run(store, run_id, created_at=7.0)
    assert [r.run_id for r in store.list_runs()] == ["c", "b", "a"]


def test_list_runs_rejects_an_unknown_status(store: Store) -> None:
    with pytest.raises(UserError, match="unknown run status"):
        store.list_runs(status="finished")


def test_list_runs_of_an_empty_store(store: Store) -> None:
    assert store.list_runs() == []


# --- steps ---------------------------------------------------------------------------------------


def test_steps_round_trip_in_first_saved_order(store: Store) -> None:
    make_run(store)
    s2 = make_step(step_id="s2", agent="parser", instruction="parse", context_tokens=120)
    s1 = make_step(step_id="s1", status="done", output={"text": "é"}, usage={"tokens": 9})
    store.save_step(s2)
    store.save_step(s1)
    assert store.get_steps("run-1") == [s2, s1]


def test_save_step_replaces_the_step_in_place(store: Store) -> None:
    make_run(store)
    store.save_step(make_step(step_id="s1"))
    store.save_step(make_step(step_id="s2"))
    done = make_step(
        step_id="s1", status="done", revision=2, output=["v2"], started_at=1.0, finished_at=2.5
    )
    store.save_step(done)
    steps = store.get_steps("run-1")
    assert [s.step_id for s in steps] == ["s1", "s2"]
    assert steps[0] == done


def test_every_step_field_survives_including_ones_without_a_column(store: Store) -> None:
    make_run(store)
    values = {}
    for name, info in type(make_step()).model_fields.items():
        if info.annotation is bool:
            values[name] = True
        elif name not in ("run_id", "step_id", "agent", "status") and info.annotation == list[str]:
            values[name] = [f"{name} value"]
    step = make_step(**values)
    store.save_step(step)
    assert store.get_steps("run-1") == [step]


def test_steps_of_a_run_are_separate_from_other_runs(store: Store) -> None:
    make_run(store, "run-1")
    make_run(store, "run-2")
    store.save_step(make_step("run-1", "s1"))
    store.save_step(make_step("run-2", "s1", agent="critic"))
    assert [s.agent for s in store.get_steps("run-2")] == ["critic"]
    assert store.get_steps("ghost") == []


def test_save_step_of_an_unknown_run_raises(store: Store) -> None:
    with pytest.raises(RunNotFoundError, match="ghost"):
        store.save_step(make_step(run_id="ghost"))


def test_run_fields_without_a_column_are_kept_and_updated(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend ``workflow`` and ``error`` were added to RunRecord after the schema was made.
    columns = tuple(c for c in store_records.RUNS.cols if c not in ("workflow", "error"))
    runs = store_records.Table("runs", RunRecord, columns, store_records.RUNS.json_cols)
    monkeypatch.setattr(store_module, "RUNS", runs)
    insert = store_module._insert(
        runs, "ON CONFLICT (run_id) DO NOTHING", ("audit_seq", "audit_head", "audit_mac")
    )
    monkeypatch.setattr(store_module, "_INSERT_RUN", insert)
    make_run(store, "run-1", workflow="rfp")
    store.update_run("run-1", error="boom", status="failed")
    run = store.get_run("run-1")
    assert (run.workflow, run.error, run.status) == ("rfp", "boom", "failed")
    assert [r.workflow for r in store.list_runs()] == ["rfp"]
    with pytest.raises(RunNotFoundError):
        store.update_run("ghost", error="x")


def test_fields_a_newer_agentorch_wrote_are_ignored(store: Store, raw: Raw) -> None:
    make_run(store)
    store.save_step(make_step())
    raw("UPDATE steps SET extra = ? WHERE step_id = 's1'", '{"added_in_v9": [1, 2]}')
    raw("UPDATE runs SET extra = ? WHERE run_id = 'run-1'", '{"added_in_v9": true}')
    assert store.get_steps("run-1")[0].step_id == "s1"
    assert store.get_run("run-1").run_id == "run-1"
