"""Which rows the models built by provider rebuild, asked once per dbt run
(`intermediate.int_inputs_to_build`, dbt_project/macros/incremental_by_provider.sql).

The answer comes from two views (`int_provider_inputs`, `int_period_inputs`) that DuckDB computes
anew for every question, and each model built by provider asks three to four times. A dbt run
that builds `int_inputs_to_build` reads them once into its one row, and its models ask that row.
A run that does not build it — the UI's subset of the dbt assets, dbt's retry — finds a row of
another run and must ask the views, else it would rebuild what an earlier run found changed.
Both are shown here on the same record: one provider's inputs not recorded (as after its new
delivery), so that provider's rows are the ones rebuilt.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from dbt_fixture import BUILD_DB_NAME, built_warehouse, run_dbt_build

from orchestration.dbt_project import project_digest, record_built_inputs

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parent / "fixtures" / "indicators_cm01_cm05"
ROW = '"intermediate"."int_inputs_to_build"'  # as a statement names the relation (not a comment)
VIEW = '"intermediate"."int_provider_inputs"'
DEBUG_JSON_LOG = ("--log-level-file", "debug", "--log-format-file", "json")


def build_only(db: Path, tmp: Path, *models: str) -> None:
    """`dbt build` of `models` alone (no tests), logging every statement: this run's log only."""
    log = tmp / "logs" / "dbt.log"
    log.unlink(missing_ok=True)
    select = ("--select", *models, "--resource-type", "model")
    result = run_dbt_build(db, tmp, (*select, *DEBUG_JSON_LOG))
    assert result.returncode == 0, result.stdout[-5000:]


def statements(tmp: Path, model: str) -> list[str]:
    """The statements dbt sent for `model` in the last run, without dbt's leading comment, white
    space made single spaces."""
    events = [json.loads(line) for line in (tmp / "logs" / "dbt.log").read_text().splitlines()]
    return [
        " ".join(e["data"]["sql"].split("*/", 1)[-1].split())
        for e in events
        if e["info"]["name"] == "SQLQuery"
        and (e["data"].get("node_info") or {}).get("node_name") == model
    ]


def compiled(tmp: Path, model: str) -> str:
    """`model`'s SQL as the last run compiled it, white space made single spaces."""
    [path] = (tmp / "target" / "compiled").rglob(f"{model}.sql")
    return " ".join(path.read_text().split())


def test_models_ask_this_runs_row_and_the_views_when_the_run_did_not_build_it(tmp_path):
    built_warehouse(tmp_path, FIXTURES).close()
    db = tmp_path / BUILD_DB_NAME
    # the record of a complete build (what `imw build` writes after one) ...
    record_built_inputs(db, project_digest(), full_refresh=True)
    with duckdb.connect(str(db)) as con:
        providers = [p for (p,) in con.sql("select provider from meta.dbt_built_inputs").fetchall()]
        assert len(providers) >= 2  # the fixture's providers: one to change, others to stay
        changed = min(providers)
        # ... without one provider's inputs: to the views, that provider's inputs changed
        con.execute("delete from meta.dbt_built_inputs where provider = ?", [changed])
        old_row = con.sql("select invocation_id from intermediate.int_inputs_to_build").fetchall()
    # the first build's row, of its own invocation; it says "no record" (the record was empty
    # then): a model that took it would make its table anew instead of rebuilding one provider
    assert len(old_row) == 1
    rebuilt = f"provider in ('{changed}')"

    # 1. a run of int_cases alone: the row is another run's, so int_cases asks the views, and
    #    rebuilds the rows of the one provider they call changed
    build_only(db, tmp_path, "int_cases")
    asked = statements(tmp_path, "int_cases")
    assert any(ROW in s for s in asked)  # first this run's row: none found
    assert any(VIEW in s for s in asked)  # then the views
    assert rebuilt in compiled(tmp_path, "int_cases")
    assert any(s.startswith("delete from") and rebuilt in s for s in asked)  # its pre-hook

    # 2. a run that builds the row first: int_cases asks only the row, with the same answer
    build_only(db, tmp_path, "int_inputs_to_build", "int_cases")
    asked = statements(tmp_path, "int_cases")
    assert any(ROW in s for s in asked)
    assert not any(VIEW in s for s in asked)  # the views not asked
    assert rebuilt in compiled(tmp_path, "int_cases")
    assert any(s.startswith("delete from") and rebuilt in s for s in asked)
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.sql(
            "select invocation_id, own_changed_providers from intermediate.int_inputs_to_build"
        ).fetchall()
    assert len(row) == 1 and row[0][0] != old_row[0][0]  # this run's row replaced the first's
    assert json.loads(row[0][1]) == [changed]  # naming the one provider whose inputs changed
