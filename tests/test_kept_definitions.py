"""A nightly build that is no full refresh leaves dbt's seeds and views out of `dbt build`
(`orchestration.assets.NIGHTLY_KEPT_DEFINITIONS_EXCLUDED`) and yields them as kept outputs of its
step, each once what it is made from is (`KeptDefinitions`); and a run whose steps Dagster
skipped is recorded as a failed build, not a published one (`reports.build_record`)."""

from __future__ import annotations

import dagster as dg

from orchestration.assets import (
    NIGHTLY_FIXTURE_ONLY_EXCLUDED,
    NIGHTLY_KEPT_DEFINITIONS_EXCLUDED,
    NIGHTLY_UNIT_TESTS_EXCLUDED,
    KeptDefinitions,
    Translator,
    dbt_build_args,
)
from reports.build_record import FAILED, SUCCESS, record_from_run


def node(name: str, kind: str, materialized: str, *parents: str, schema: str = "s") -> dict:
    """A manifest node as dbt writes it, as much of it as the translator and the order read."""
    return {
        "unique_id": f"{kind}.imw.{name}",
        "resource_type": kind,
        "name": name,
        "config": {"schema": schema, "materialized": materialized},
        "meta": {},
        "tags": [],
        "fqn": ["imw", name],
        "depends_on": {"nodes": list(parents)},
    }


def manifest(*nodes: dict) -> dict:
    return {"nodes": {n["unique_id"]: n for n in nodes}}


# stg (view, from a source) → t1 (table) → v1 (view, from t1 and stg) → v2 (view, from v1)
#   → t2 (table, from v2); seed → t2; a test on stg; an incremental model from t1
WORLD = manifest(
    node("stg", "model", "view", "source.imw.raw.x"),  # a source is no dbt asset of the step
    node("seed", "seed", "seed"),
    node("t1", "model", "table", "model.imw.stg"),
    node("v1", "model", "view", "model.imw.t1", "model.imw.stg"),
    node("v2", "model", "view", "model.imw.v1"),
    node("t2", "model", "table", "model.imw.v2", "seed.imw.seed"),
    node("inc", "model", "incremental", "model.imw.t1"),
    node("not_null_stg_id", "test", "test", "model.imw.stg"),
)


def key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["s", name])


def test_the_kept_assets_are_the_seeds_and_views_each_after_what_it_is_made_from():
    kept = KeptDefinitions(WORLD, Translator())
    # the three views and the seed; no table, no incremental model, no test
    assert set(kept.keys) == {key("stg"), key("seed"), key("v1"), key("v2")}
    assert kept.keys.index(key("v1")) < kept.keys.index(key("v2"))  # v2 is made from v1
    assert kept.parents == {
        key("stg"): frozenset(),  # only a source
        key("seed"): frozenset(),
        key("v1"): frozenset({key("t1"), key("stg")}),
        key("v2"): frozenset({key("v1")}),
    }


def test_a_kept_asset_is_due_once_every_dbt_asset_it_is_made_from_was_yielded():
    kept = KeptDefinitions(WORLD, Translator())
    pending, yielded = list(kept.keys), set()
    # before dbt yields anything: what is made from sources only, or from nothing
    assert set(kept.due(yielded, pending)) == {key("stg"), key("seed")}
    assert kept.due(yielded, pending) == []  # each is due once
    yielded.add(key("inc"))  # an asset no kept one is made from
    assert kept.due(yielded, pending) == []
    yielded.add(key("t1"))
    # v1 is now due (t1 and stg yielded), and v2 with it (made from v1 only), in that order
    assert kept.due(yielded, pending) == [key("v1"), key("v2")]
    assert pending == []
    assert yielded == {key("stg"), key("seed"), key("inc"), key("t1"), key("v1"), key("v2")}


def test_dbt_leaves_the_seeds_and_views_out_only_when_asked_and_never_in_a_full_refresh():
    nightly = ["build", *NIGHTLY_UNIT_TESTS_EXCLUDED, *NIGHTLY_FIXTURE_ONLY_EXCLUDED]
    assert dbt_build_args() == nightly
    assert dbt_build_args(keep_definitions=True) == [*nightly, *NIGHTLY_KEPT_DEFINITIONS_EXCLUDED]
    assert dbt_build_args(full_refresh=True, keep_definitions=True) == [*nightly, "--full-refresh"]
    # the tests of a left-out view stay: with indirect selection `empty`, excluding a model does
    # not exclude its tests (tests/test_incremental_build.py: every nightly test runs in such a
    # build)
    assert NIGHTLY_KEPT_DEFINITIONS_EXCLUDED[-2:] == ("--indirect-selection", "empty")


@dg.op(out={"made": dg.Out(dg.Nothing, is_required=False)})
def makes_nothing():
    """Yields no output: what follows it is skipped."""
    yield from ()


@dg.op(ins={"made": dg.In(dg.Nothing)})
def publishes():
    return None


@dg.op(out={"made": dg.Out(dg.Nothing, is_required=False)})
def makes_it():
    yield dg.Output(None, "made")


@dg.job
def skipping_job():
    publishes(makes_nothing())


@dg.job
def whole_job():
    publishes(makes_it())


def test_a_run_with_skipped_steps_is_a_failed_build():
    with dg.instance_for_test() as instance:
        run = skipping_job.execute_in_process(instance=instance)
        assert run.success  # Dagster's view: the run succeeded
        record = record_from_run(instance, run.run_id)
        assert record.result == FAILED
        assert record.failed_steps == ["publishes"]
        assert "skipped, not run: publishes" in record.reason

        run = whole_job.execute_in_process(instance=instance)
        record = record_from_run(instance, run.run_id)
        assert (record.result, record.failed_steps, record.reason) == (SUCCESS, [], None)
