"""A dbt build that ran out of DuckDB's memory is built again where it failed, one node at a time
(`orchestration.dbt_retry`, #16: the `federal` build failed so at 5GB in 3 of 14 runs).

The out-of-memory failures here are real, not simulated: the build's first dbt command is handed
a memory limit of a few MB (the test wraps the dbt resource's `cli`; the production code has no
hook for it), at which DuckDB cannot build some models (`STARVED_MODELS`) or run the staging
models' tests (`STARVED_TESTS`). The retry then runs with the build's own limit, or starved
too."""

from __future__ import annotations

import json
import os
import re
import shutil
from contextlib import contextmanager

import dagster as dg
import pytest

from bench.compare_published import compare, tables
from cli.main import run_build
from core.resources import MEMORY_LIMIT_ENV
from core.settings import KEY_ENV, Settings
from orchestration.dbt_retry import (
    RETRY_ARGS,
    not_run,
    out_of_memory_failures,
    read_run_results,
    retry_note,
)
from orchestration.resources import WarehouseDbtResource
from reports.build_record import REPORT_NAME, read_records
from reports.operator import OPERATOR_FOLDER
from reports.status import status_report
from tests.tiny_world import REJECTED_FILE, TINY_DBT_ENV, TINY_KEY, TINY_RESOURCES

STARVED_MODELS = "16MB"
"""A memory limit at which DuckDB cannot build some of the `tiny` world's models, while no test
runs out of memory (measured 2026-12-07, two builds side by side as in `make test`: at 16MB 6 of
6 builds had 2 to 4 models out of memory — `mart_contact_topics` (a table) and
`int_contact_status` (built by provider) in every one — and no test; at 14MB and 20MB 4 of 4 each
the same. At 10MB, the limit before, 2 builds of 17 had no model out of memory (a staging test
was), so this test failed)."""
STARVED_TESTS = "3MB"
"""A memory limit at which DuckDB cannot run the staging models' tests (measured: 13 of them
fail with "Out of Memory Error", the 121 nodes after them are skipped)."""

OOM = (
    "Runtime Error in model int_contrib_cm07 (models/intermediate/indicators/int_contrib_cm07.sql)"
    "\n  Out of Memory Error: could not allocate block of size 256.0 KiB (4.6 GiB/4.6 GiB used)"
)


def result(unique_id: str, status: str, message: str | None = None) -> dict:
    """One node's entry of dbt's `run_results.json`, as much of it as the retry reads."""
    return {"unique_id": unique_id, "status": status, "message": message}


def test_a_run_is_retried_only_when_every_failure_ran_out_of_memory():
    ok = [result("model.imw.stg_cases", "success"), result("test.imw.unique_x.ab12", "pass")]
    skipped = result("model.imw.indicator_values", "skipped")  # after a failed one: no failure
    warned = result("test.imw.freshness.cd34", "warn", "Got 3 results")  # a warning fails nothing
    cm07 = result("model.imw.int_contrib_cm07", "error", OOM)
    cm03 = result("model.imw.int_contrib_cm03", "error", OOM.replace("cm07", "cm03"))
    # two models out of memory, the rest fine, skipped or warned: both are built again
    assert out_of_memory_failures({"results": [*ok, cm07, cm03, skipped, warned]}) == [
        "model.imw.int_contrib_cm07",
        "model.imw.int_contrib_cm03",
    ]
    # a data test that found rows beside them: the build fails on the data, no retry
    found_rows = result("test.imw.assert_contributions_roll_up", "fail", "Got 2 results")
    assert out_of_memory_failures({"results": [cm07, found_rows]}) == []
    # a model whose SQL is wrong beside them: a retry would fail the same way
    wrong = result("model.imw.int_goals", "error", 'Binder Error: column "x" not found')
    assert out_of_memory_failures({"results": [cm07, wrong]}) == []
    # an older dbt's status for an error: no memory in its message, so no retry
    assert out_of_memory_failures({"results": [result("model.imw.a", "runtime error", "x")]}) == []
    # a model whose commit ran out of memory beside them: DuckDB's words differ, a retry is due
    commit = result(
        "model.imw.int_plan_version_reviews",
        "error",
        "TransactionContext Error: Failed to commit: could not allocate block of size 1.9 KiB "
        "(15.2 MiB/15.2 MiB used)",
    )
    assert out_of_memory_failures({"results": [cm07, commit]}) == [
        "model.imw.int_contrib_cm07",
        "model.imw.int_plan_version_reviews",
    ]
    # nothing failed, or dbt wrote no results (it failed before its first node): nothing to retry
    assert out_of_memory_failures({"results": [*ok, skipped, warned]}) == []
    assert out_of_memory_failures({}) == []


def test_only_the_results_of_this_command_are_read(tmp_path):
    results = {"results": [result("model.imw.int_contrib_cm07", "error", OOM)]}
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps(results))
    written = path.stat().st_mtime
    # written by the command started before it: read
    assert read_run_results(tmp_path, since=written - 1) == results
    # left by an earlier build (this command failed before writing any): not read, so the
    # earlier build's failures are not retried
    assert read_run_results(tmp_path, since=written + 1) == {}
    # no results at all
    assert read_run_results(tmp_path / "none", since=0.0) == {}


def test_only_a_test_that_could_not_run_is_held_for_the_retry():
    def check(passed: bool, status: str) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            asset_key=dg.AssetKey(["intermediate", "int_contacts"]), check_name="unique_x",
            passed=passed, metadata={"status": status},
        )  # fmt: skip

    assert not_run(check(False, "error"))  # its SQL raised: the retry runs it again
    assert not not_run(check(False, "fail"))  # it ran and found rows: a verdict on the data
    assert not not_run(check(False, "warn"))  # it ran and warned
    assert not not_run(check(True, "pass"))
    assert not not_run(dg.Output(None, output_name="x"))  # not a test's result at all


def test_the_note_names_the_nodes_by_name_and_the_limit():
    failed = ["model.imw.int_contrib_cm07", "test.imw.unique_combination_int_contacts.e2247bdd2c"]
    note = retry_note(failed, "5GB")
    assert note.startswith("DuckDB ran out of memory (5GB) in 2 node(s) run side by side")
    assert "(int_contrib_cm07, unique_combination_int_contacts)" in note  # no test hash
    # more than three: the first three and a count
    many = retry_note([f"model.imw.m{i}" for i in range(5)], "1GB")
    assert "(m0, m1, m2 and 2 more)" in many


@contextmanager
def starved_dbt_commands(monkeypatch, *limits: str):
    """The build's first dbt commands run with DuckDB's memory limit at `limits`, one each; the
    commands are recorded (their arguments) in the list yielded."""
    calls: list[list[str]] = []
    real = WarehouseDbtResource.cli

    def cli(self, args, **kwargs):
        calls.append(list(args))
        if len(calls) > len(limits):
            return real(self, args, **kwargs)
        before = os.environ[MEMORY_LIMIT_ENV]
        # the command copies the environment it starts in
        os.environ[MEMORY_LIMIT_ENV] = limits[len(calls) - 1]
        try:
            return real(self, args, **kwargs)
        finally:
            os.environ[MEMORY_LIMIT_ENV] = before

    monkeypatch.setattr(WarehouseDbtResource, "cli", cli)
    yield calls


def tiny_home(tiny_world, tmp_path, monkeypatch) -> Settings:
    """A new home with the shared tiny world's deliveries (and its rejected file), built with
    its key and resources."""
    settings = Settings.from_env(home=tmp_path / "home", environ={})
    shutil.copytree(tiny_world.delivered, settings.landing)
    (settings.landing / REJECTED_FILE).write_text("spalte_a;spalte_b\n1;2\n")
    for name, value in {KEY_ENV: TINY_KEY, **TINY_RESOURCES, **TINY_DBT_ENV}.items():
        monkeypatch.setenv(name, value)
    return settings


@pytest.mark.slow
@pytest.mark.parametrize(
    ("starved", "failed"),
    [
        # models out of memory: the retry builds over what they left
        (STARVED_MODELS, r"ERROR creating sql (incremental|table) model"),
        # tests out of memory: their results, held back, are the retry's (a step yields each
        # check's result once)
        (STARVED_TESTS, r"ERROR (relationships|unique)_\w+"),
    ],
)
def test_a_build_out_of_memory_in_dbt_builds_the_failed_nodes_again_and_publishes_the_same(
    tiny_world, tmp_path, monkeypatch, capsys, starved, failed
):
    settings = tiny_home(tiny_world, tmp_path, monkeypatch)
    with starved_dbt_commands(monkeypatch, starved) as calls:
        assert run_build(settings) is True
    # the nightly build, then dbt's retry of what failed in it, one node at a time
    assert calls[0][0] == "build"
    assert calls[1:] == [list(RETRY_ARGS)]
    # what the first command could not do, in dbt's log of both commands
    log = (settings.dbt_target_dir / "dbt.log").read_text()
    assert re.search(failed, log)
    assert "Out of Memory Error" in log
    err = capsys.readouterr().err
    assert "DuckDB ran out of memory (1536MiB)" in err  # the build's own limit, for the operator
    assert "one at a time" in err
    record = read_records(settings)[-1]
    assert record.ok and record.failed_steps == []
    # the operator learns of it after the build too: the record's note, in `imw status` and in
    # the operator report (the Dagster UI shows it as the run's tag)
    assert len(record.notes) == 1
    assert record.notes[0].startswith("DuckDB ran out of memory (1536MiB) in ")
    assert record.notes[0].endswith("again, one at a time")
    text, healthy = status_report(settings)
    assert healthy and f"  note: {record.notes[0]}" in text
    report = (settings.reports_dir / OPERATOR_FOLDER / f"{REPORT_NAME}.md").read_text()
    assert f"- {record.notes[0]}" in report
    # dbt's last results are the retry's: one thread, and every node it ran passed
    results = json.loads((settings.dbt_target_dir / "run_results.json").read_text())
    assert results["args"]["threads"] == 1
    assert results["results"]
    assert {r["status"] for r in results["results"]} <= {"success", "pass"}
    # the retry left nothing out: the published database is the undisturbed build's (same key
    # and data), table by table; the columns that say when it was made are not compared
    before, after = tables(tiny_world.settings.published_db), tables(settings.published_db)
    assert sorted(after) == sorted(before)
    for name, table in before.items():
        assert compare(table, after[name], 1e-12) is None, name


@pytest.mark.slow
def test_a_retry_out_of_memory_too_fails_the_build_and_names_the_setting(
    tiny_world, tmp_path, monkeypatch, capsys
):
    settings = tiny_home(tiny_world, tmp_path, monkeypatch)
    with starved_dbt_commands(monkeypatch, STARVED_TESTS, STARVED_TESTS) as calls:
        assert run_build(settings) is False
    assert [c[0] for c in calls] == ["build", "retry"]  # retried once, not again
    record = read_records(settings)[-1]
    assert record.failed_steps == ["warehouse_dbt"]
    assert "Out of Memory Error" in record.reason  # the retry's error
    assert len(record.notes) == 1 and "one at a time" in record.notes[0]  # it was tried
    err = capsys.readouterr().err
    assert "IMW_MEMORY_LIMIT=1536MiB" in err  # what to raise, and its value now
    assert not settings.published_db.exists()  # nothing was published
