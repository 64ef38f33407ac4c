"""The whole nightly build on `tiny` synthetic data, through the same code path as `imw build`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from tiny_world import REJECTED_FILE, TinyWorld

from cli.main import main
from contract.spec import EXTRACTS, ColumnType
from core.settings import KEY_ENV, PROJECT_ROOT, Settings
from ingest.readers import parse_file_name, read_table
from orchestration.definitions import NIGHTLY_BUILD

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tiny_world: TinyWorld) -> tuple[Settings, Path]:
    """The shared tiny build (conftest: seed 7 and a file the contract does not know, which must
    be quarantined); the settings and the files as delivered."""
    return tiny_world.settings, tiny_world.delivered


def clear_values(delivered: Path) -> tuple[set[str], set[str]]:
    """Every clear id and every free-text value in the delivered files."""
    ids: set[str] = set()
    texts: set[str] = set()
    for path in delivered.iterdir():
        extract = EXTRACTS[parse_file_name(path).extract]
        frame = read_table(path, extract).frame
        for col in extract.columns:
            values = set(frame.get_column(col.name).drop_nulls().to_list())
            if col.type is ColumnType.ID:
                ids |= values
            elif col.type is ColumnType.TEXT:
                texts |= values
    return ids, texts


def all_strings_in_duckdb(path: Path) -> set[str]:
    """Every distinct value of every text column of every table and view in a DuckDB file."""
    found: set[str] = set()
    with duckdb.connect(str(path), read_only=True) as con:
        cols = con.execute(
            """
            SELECT table_schema, table_name, column_name FROM information_schema.columns
            WHERE data_type = 'VARCHAR' OR data_type LIKE 'VARCHAR[]'
            """
        ).fetchall()
        for schema, table, column in cols:
            values = con.execute(
                f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{schema}"."{table}"'
            ).fetchall()
            found |= {v[0] for v in values if v[0] is not None}
    return found


def test_build_publishes_indicators(built):
    settings, _ = built
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        assert {"indicator_values", "indicator_definitions"} <= tables
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        in_build = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'published'"
        ).fetchall()
    assert tables - {"build_info"} == {t[0] for t in in_build}, (
        "publish copies the whole published schema (and adds build_info)"
    )
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        ids = {r[0] for r in con.execute("SELECT DISTINCT indicator_id FROM indicator_values")
               .fetchall()}  # fmt: skip
        assert {"CM01", "CM05"} <= ids
        levels = {r[0] for r in con.execute("SELECT DISTINCT level FROM indicator_values")
                  .fetchall()}  # fmt: skip
        assert levels == {"TRAEGER", "KREIS", "RB", "LAND"}
        land = con.execute(
            "SELECT numerator, denominator, value FROM indicator_values "
            "WHERE indicator_id = 'CM01' AND level = 'LAND' AND period = '2025'"
        ).fetchone()
        assert land[1] > 0 and 0 < land[2] < 1


def test_rejected_file_is_quarantined_and_reported_while_the_build_publishes(built):
    settings, _ = built
    assert (settings.quarantine_dir / "08115" / REJECTED_FILE).exists()
    report = (settings.reports_dir / "08115" / "aktuell.md").read_text()
    assert REJECTED_FILE in report and "abgelehnt" in report
    assert settings.published_db.exists()


def test_landing_is_emptied_into_the_archive(built):
    settings, delivered = built
    assert list(settings.landing.iterdir()) == []
    archived = {p.name for p in settings.archive_dir.rglob("*") if p.is_file()}
    assert archived == {p.name for p in delivered.iterdir()}
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        n_batches = con.execute("SELECT count(*) FROM raw.load_batches").fetchone()[0]
    assert n_batches == len(archived)


def test_no_clear_id_or_free_text_in_anything_the_warehouse_wrote(built):
    settings, delivered = built
    ids, texts = clear_values(delivered)
    assert len(ids) > 100 and texts, "the fixture must contain ids and free text to look for"
    secrets = ids | texts
    for db in (settings.build_db, settings.published_db):
        leaked = all_strings_in_duckdb(db) & secrets
        assert not leaked, f"{db.name} contains clear values, e.g. {sorted(leaked)[:3]}"
    # Text files the warehouse wrote (reports, dbt artefacts are in the project, not the home).
    pattern = re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))
    # Text files the warehouse wrote: reports, logs, build records, and Dagster's run history
    # (SQLite files: event logs, metadata), searched as bytes.
    written = [
        p for p in settings.home.rglob("*")
        if p.is_file() and not p.is_relative_to(settings.archive_dir)
        and not p.is_relative_to(settings.quarantine_dir)
        and p.suffix in (".md", ".json", ".jsonl", ".csv", ".log", ".db", ".html")
    ]  # fmt: skip
    assert {".md", ".log", ".jsonl", ".db"} <= {p.suffix for p in written}
    for path in written:
        match = pattern.search(path.read_bytes().decode("utf-8", errors="replace"))
        assert match is None, f"{path} contains a clear value"


def test_indicator_values_in_build_db_match_published_unsuppressed_rows(built):
    settings, _ = built
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        # v2: the marts carry no suppressed flag; the pattern says which cells are withheld
        build = con.sql(
            """
            SELECT v.* FROM marts.indicator_values AS v
            ANTI JOIN marts.disclosure_pattern AS p
                ON p.table_name = 'indicator_values' AND v.indicator_id = p.block
                AND v.period = p.period AND v.level = p.level AND v.unit_code = p.unit_code
            """
        ).pl()
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        pub = (con.sql(
            "SELECT * FROM indicator_values WHERE NOT suppressed").pl())  # fmt: skip
        n_suppressed_with_values = con.execute(
            "SELECT count(*) FROM indicator_values WHERE suppressed AND "
            "(numerator IS NOT NULL OR denominator IS NOT NULL OR value IS NOT NULL)"
        ).fetchone()[0]
    assert n_suppressed_with_values == 0
    key = ["indicator_id", "period", "level", "unit_code"]
    assert (
        build.sort(key)
        .select([*key, "numerator", "denominator"])
        .equals(pub.sort(key).select([*key, "numerator", "denominator"]))
    )


def test_status_after_a_successful_build(built, capsys):
    settings, _ = built
    capsys.readouterr()
    assert main(["status", "--home", str(settings.home)]) == 0
    out = capsys.readouterr().out
    assert "last build:  SUCCESS" in out and "trigger cli" in out
    for stage in ("ingest", "dbt", "mart_gate", "publish"):
        assert f"  {stage} " in out
    assert "08115: 1 file(s)" in out and REJECTED_FILE in out, "the rejected file, per provider"
    assert "fresh" in out and "indicator_values" in out


def test_the_run_and_its_checks_are_in_the_warehouse_dagster_instance(built):
    settings, _ = built
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        (run,) = instance.get_run_records(dg.RunsFilter(job_name=NIGHTLY_BUILD))
        assert run.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        assert run.dagster_run.tags["imw/trigger"] == "cli"
        history = instance.event_log_storage.get_asset_check_execution_history
        gate = history(dg.AssetCheckKey(dg.AssetKey(["raw", "faelle"]), "extract_gate"), limit=1)
        evaluation = gate[0].event.dagster_event.asset_check_evaluation_data
        assert evaluation.passed, "tiny clean data: nothing quarantined"
        by_provider = evaluation.metadata["by_provider"].value
        assert by_provider and all(p["rows_quarantined"] == 0 for p in by_provider.values())
        events = instance.get_records_for_run  # every planned check was evaluated, and passed
        run_id = run.dagster_run.run_id
        planned = events(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED)
        evaluated = events(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
        results = {
            e.event_log_entry.dagster_event.asset_check_evaluation_data.asset_check_key: (
                e.event_log_entry.dagster_event.asset_check_evaluation_data.passed
            )
            for e in evaluated
        }
        assert len(results) == len(planned.records)
        # dbt's nightly data tests (docs/data_rules.md; the fixture-only ones are no checks)
        not_dbt = {"extract_gate", "mart_gate", "published_freshness"}
        dbt_tests = [k for k in results if k.name not in not_dbt]
        assert len(dbt_tests) > 20, "dbt's data tests are asset checks"
        assert all(results[k] for k in dbt_tests)
        fresh = history(dg.AssetCheckKey(dg.AssetKey(["published_indicators"]),
                                         "published_freshness"), limit=1)  # fmt: skip
        assert fresh[0].status.value == "SUCCEEDED"


def test_build_without_key_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert main(["build", "--home", str(tmp_path / "h")]) == 2
    assert KEY_ENV in capsys.readouterr().err


def test_tiny_build_publishes_no_row_after_the_reference_date(built):
    """docs/indicators.md v2: R = the newest provider stand (2026-06-30, the generator's default);
    no published row of any table has a period starting after R, every such row says whether
    its period is complete, and build_info carries R. The tiny world's funding authority also
    has grants and a budget up to its horizon: they must not add periods."""
    settings, _ = built
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        (reference,) = con.execute("SELECT DISTINCT reference_date FROM build_info").fetchone()
        assert str(reference) == "2026-06-30"
        tables = [
            t
            for (t,) in con.execute(
                "SELECT DISTINCT table_name FROM information_schema.columns "
                "WHERE column_name = 'period'"
            ).fetchall()
        ]
        assert "indicator_values" in tables and len(tables) == 8
        for table in tables:
            periods = dict(
                con.execute(f"SELECT DISTINCT period, period_complete FROM {table}").fetchall()
            )
            # 2026 and 2026Q2 end on or after R: 2026Q2 ends on R itself (complete), the year
            # does not; 2026Q3/Q4 start after R and do not exist
            assert "2026Q3" not in periods and "2026Q4" not in periods and "2027" not in periods
            assert periods["2026"] is False, table
            if table == "mart_funding":
                # FI01–FI04 have period_types YEAR only (the catalogue): no quarter at all
                assert not any("Q" in p for p in periods), periods
            else:
                assert periods["2026Q2"] is True, table
        # every Kreis of the reference data is named
        assert (
            con.execute(
                "SELECT count(*) FROM units WHERE level = 'KREIS' AND unit_name IS NOT NULL"
            ).fetchone()[0]
            == 44
        )
    data_quality = (settings.reports_dir / "_betrieb" / "datenqualitaet.md").read_text()
    # the tiny world's Gemeinde provider in Kreis 08317 has no obligation from 2025 (its Kreis
    # is no provider, so no Kreis grant obliges it): listed as delivering without one
    without = data_quality.split("ohne Meldepflicht")[1]
    assert re.search(r"`08317\d{3}`", without) and "2026-06-30" in data_quality


def test_the_build_in_a_new_home_starts_from_the_prepared_parse(built):
    """The shared world's home is new, yet its dbt run parses nothing again: it starts from the
    parse `make manifest` prepared (dagster-dbt copies dbt_project/target/partial_parse.msgpack),
    because the profile names the database relatively and `imw-dbt` runs dbt in its folder
    (orchestration/dbt_in_warehouse.py). With the home's path in the profile dbt logged
    "Unable to do partial parsing because profile has changed" and parsed for 13 s. Its dbt log
    is at `debug` (tiny_world.TINY_DBT_ENV, the operator's level over the nightly `info`), where
    dbt says how it parsed."""
    settings, _ = built
    messages = [
        json.loads(line)["info"]["msg"]
        for line in (settings.dbt_target_dir / "dbt.log").read_text().splitlines()
        if line.startswith("{")
    ]
    assert not [m for m in messages if "Unable to do partial parsing" in m]
    assert any(m.startswith("Partial parsing enabled") for m in messages), messages[:20]
    # and the database dbt wrote is the home's, not a file beside the project
    assert settings.build_db.exists()
    assert not (PROJECT_ROOT / "dbt_project" / "build.duckdb").exists()


def test_dbt_ran_with_the_builds_memory_limit_and_threads(built):
    """`imw build` passes IMW_MEMORY_LIMIT and IMW_THREADS (tiny_world: 1536MiB, 3) to dbt,
    whose on-run-start hook sets them on its DuckDB database before any model runs."""
    settings, _ = built
    hooks_dir = settings.dbt_target_dir / "compiled" / "imw" / "dbt_project.yml" / "hooks"
    sql = (hooks_dir / "imw-on-run-start-0.sql").read_text()
    assert "set memory_limit = '1536MiB';" in sql
    assert "set threads = 3;" in sql
    run = json.loads((settings.dbt_target_dir / "run_results.json").read_text())
    hooks = [r for r in run["results"] if r["unique_id"] == "operation.imw.imw-on-run-start-0"]
    assert [h["status"] for h in hooks] == ["success"]  # ran, before the models (dbt's order)
