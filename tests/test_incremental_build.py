"""Builds that keep the suppression pattern and the mart gate's audit of unchanged tables
(`disclosure.memo`), and the dbt models built by provider that rebuild only the rows of providers
whose inputs changed, publish what a full build publishes after the same deliveries (#16).

The shared tiny world's home (built once, its memo written) is copied, and two re-deliveries
are built in it one after the other, each taking the pattern of the tables they did not change
from the memo of the build before (and the gate the ranges of the tables it audited before).
A third delivery corrects one provider's extracts under the same stand (R stays): dbt rebuilds
that provider's rows only. Then both memos are removed and the same home built again with
`--full-refresh`: every model built from scratch, every table protected and audited anew, from the
same deliveries. The two published databases must be the same,
table by table (`bench.compare_published`, floats to 1e-12).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from tiny_world import TINY_KEY, TinyWorld

from bench.compare_published import compare, tables
from core.project_vars import is_fixture_only_test
from core.settings import KEY_ENV, PROJECT_ROOT, Settings
from ingest.readers import LINE, parse_file_name, read_table
from orchestration.dbt_project import dbt_project

pytestmark = pytest.mark.slow
FORECAST_KEPT = "inputs unchanged since the last build: forecast kept"
SIMULATION_KEPT = "inputs unchanged since the last build: simulation kept"
FORECAST_RESTAMPED = (
    "R moved to 2026-07-01, the cases known at the origin 2026-06-30 did not change: "
    "forecast kept, with the new R"
)


def build(home: Path, *extra: str) -> str:
    """`imw build` in `home`; its progress output."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "build", "--home", str(home), *extra],
        cwd=PROJECT_ROOT, env={**os.environ, KEY_ENV: TINY_KEY}, capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


def manifest_nodes() -> list[dict]:
    """The nodes of the prepared dbt manifest."""
    return list(json.loads(dbt_project().manifest_path.read_text())["nodes"].values())


def models_built(how: str) -> set[str]:
    """The models built by provider whose meta says `built_by_provider: how`, as schema.name,
    from the prepared manifest: "own_only", those that read nothing the providers share but R,
    and R only through dates the contract caps at the stand (`built_by_provider(own_only=true)`);
    "by_period", those that read of the shared inputs only the periods
    (`built_by_provider(by_period=true)`)."""
    return {
        f"{node['schema']}.{node['name']}"
        for node in manifest_nodes()
        if node["resource_type"] == "model"
        and node["config"].get("meta", {}).get("built_by_provider") == how
    }


def by_provider_models() -> list[str]:
    """The dbt models built by provider (dbt_project/macros/incremental_by_provider.sql: the
    project's incremental models), as schema.name, from the prepared manifest."""
    return sorted(
        f"{node['schema']}.{node['name']}"
        for node in manifest_nodes()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    )


def model_tables(build_db: Path) -> dict[str, pl.DataFrame]:
    """Every model built by provider, its rows in one order."""
    with duckdb.connect(str(build_db), read_only=True) as con:
        return {
            name: con.sql(f"select * from {name} order by all").pl()
            for name in by_provider_models()
        }


def memo_keys(home: Path, *, audit: bool = False) -> list[str]:
    """The keys of the pattern's (or the gate's) memo, one per part (parts of equal content
    share a key)."""
    settings = Settings.from_env(home=home, environ={})
    path = settings.audit_memo if audit else settings.disclosure_memo
    return pl.read_parquet(path).get_column("key").to_list()


def tiny_years(home: Path) -> list[str]:
    """The calendar years of the published indicator values."""
    with duckdb.connect(str(Settings.from_env(home=home, environ={}).build_db), True) as con:
        rows = con.sql("select distinct left(period, 4) from published.indicator_values").fetchall()
    return sorted(year for (year,) in rows)


def chart_workers_started_before(home: Path) -> bool:
    """Whether the last report of the home rendered with chart processes the build started
    before it (when dbt had built its last model), from the report's metadata."""
    import dagster as dg

    dagster_home = Settings.from_env(home=home, environ={}).dagster_home
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("report"))
        (last,) = instance.get_run_records(limit=1)
    assert event.run_id == last.dagster_run.run_id  # the last build's report, not an earlier one
    return event.asset_materialization.metadata["chart_workers_started_before"].value


def gate_text(home: Path) -> str:
    return (
        Settings.from_env(home=home, environ={}).reports_dir / "_betrieb" / "mart_gate.md"
    ).read_text()


def gate_disclosure(home: Path) -> dict:
    """The mart gate's figures of its disclosure audit (`mart_gate.json`)."""
    path = Settings.from_env(home=home, environ={}).reports_dir / "_betrieb" / "mart_gate.json"
    return json.loads(path.read_text())["disclosure"]


def unique_contact_test(home: Path) -> str:
    """The SQL the last build ran for int_contact_status' uniqueness test, which passed."""
    target = Settings.from_env(home=home, environ={}).dbt_target_dir
    name = "unique_combination_int_contact_status_provider__contact_id"
    results = json.loads((target / "run_results.json").read_text())["results"]
    assert [r["status"] for r in results if name in r["unique_id"]] == ["pass"]
    [executed] = (target / "run").rglob(f"{name}*.sql")
    return executed.read_text()


def dbt_log_levels(home: Path) -> Counter:
    """The levels of the lines the home's last dbt command wrote to its log file, counted."""
    lines = [
        json.loads(line)["info"]
        for line in (Settings.from_env(home=home, environ={}).dbt_target_dir / "dbt.log")
        .read_text()
        .splitlines()
        if line.startswith("{")
    ]
    last = lines[-1]["invocation_id"]
    return Counter(line["level"] for line in lines if line["invocation_id"] == last)


def redeliver(delivered: Path, provider: str, out: Path, days: int, *, keep_rows: bool) -> None:
    """Every extract of `provider` again, stand + `days`, as UTF-8 `;` CSV: the same rows but
    the contacts' last one (`keep_rows`), or only the header line (all its cases gone)."""
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(delivered.glob(f"*_{provider}_*")):
        name = parse_file_name(path)
        frame = read_table(path, name.extract).frame.drop(LINE)
        frame = (
            (frame.head(-1) if name.extract == "kontakte" else frame)
            if keep_rows
            else frame.clear()
        )
        stand = (name.stand + timedelta(days=days)).isoformat()
        frame.write_csv(out / f"{name.extract}_{provider}_{stand}.csv", separator=";")


def executed(home: Path, model: str, kind: str = "run") -> str:
    """The statement the home's last dbt build ran last for `model` (`dbt-target/run/`), or the
    model's SQL as it compiled it (`kind="compiled"`), its white space made single spaces, in
    lower case."""
    run = Settings.from_env(home=home, environ={}).dbt_target_dir / kind
    [path] = run.rglob(f"{model}.sql")
    return " ".join(path.read_text().split()).lower()


def how_built(home: Path) -> dict[str, str]:
    """How the home's last dbt build wrote each model built by provider, from the statement it
    ran last for it: "anew" (a table made anew and put in its place: `should_full_refresh`,
    macros/incremental_by_provider.sql) or "by provider" (the changed providers' rows, and for a
    model built by provider and period those of the changed periods, inserted after the
    pre-hook deleted theirs)."""
    found = {}
    for name in by_provider_models():
        sql = executed(home, name.split(".")[-1])
        assert sql.startswith(("create table", "insert into")), sql[:200]
        found[name] = "anew" if sql.startswith("create table") else "by provider"
    return found


def dbt_nodes() -> tuple[set[str], set[str], set[str], set[str]]:
    """From the prepared manifest: the unique ids of the seeds and views, of the other models,
    of the nightly data tests (not fixture-only), and of those of them on a seed or view."""
    nodes = manifest_nodes()
    kept = {
        n["unique_id"]
        for n in nodes
        if n["resource_type"] == "seed"
        or (n["resource_type"] == "model" and n["config"]["materialized"] == "view")
    }
    built = {n["unique_id"] for n in nodes if n["resource_type"] == "model"} - kept
    tests = {
        n["unique_id"]
        for n in nodes
        if n["resource_type"] == "test" and not is_fixture_only_test(n)
    }
    on_kept = {
        n["unique_id"]
        for n in nodes
        if n["unique_id"] in tests and kept & set(n["depends_on"]["nodes"])
    }
    return kept, built, tests, on_kept


def dbt_ran(home: Path) -> set[str]:
    """The unique ids of every node the home's last dbt build ran, each once."""
    target = Settings.from_env(home=home, environ={}).dbt_target_dir
    results = json.loads((target / "run_results.json").read_text())["results"]
    ran = [r["unique_id"] for r in results if not r["unique_id"].startswith("operation.")]
    assert len(ran) == len(set(ran))
    return set(ran)


def accepted(home: Path) -> dict[str, str]:
    """File name → verdict of every file the build database knows (of its latest delivery)."""
    with duckdb.connect(
        str(Settings.from_env(home=home, environ={}).build_db), read_only=True
    ) as con:
        rows = con.execute(
            "select file_name, verdict from raw.deliveries order by delivery_id"
        ).fetchall()
    return dict(rows)


def test_builds_keeping_the_pattern_publish_what_a_full_build_publishes(
    tiny_world: TinyWorld, tmp_path
):
    kept_home = tmp_path / "kept"
    shutil.copytree(tiny_world.settings.home, kept_home, symlinks=True)  # relative links
    providers = sorted(
        {parse_file_name(p).provider for p in tiny_world.delivered.iterdir()} - {"08"}
    )
    first, emptied, rejected = providers[0], providers[1], providers[2]
    deliveries = tmp_path / "deliveries"

    # a goal of the third provider, as if delivered in its snapshot agreed on 2026-07-01, after R
    # (the contract caps no goal date at the stand): not yet known at R 2026-06-30, as the home
    # was built, and known from R 2026-07-01 on, which 1. moves R to, although that provider
    # delivers nothing new (int_provider_dates counts its goals agreed up to R). A new goal id
    # (one more than the largest) in a plan it has, open
    with duckdb.connect(str(Settings.from_env(home=kept_home, environ={}).build_db)) as con:
        con.execute(
            "insert into raw.ziele select * replace ("
            "(select max(ziel_id) + 1 from raw.ziele) as ziel_id, "
            "date '2026-07-01' as vereinbart_am, 'OFFEN' as status, null as bewertet_am) "
            "from raw.ziele_current where _provider = ? order by ziel_id limit 1",
            [rejected],
        )

    # 1. one provider re-delivers all 8 extracts a day later with one contact less: the new
    #    quarter (R moves from 2026-06-30 to 2026-07-01) changes that year's tables
    before, audited_before = memo_keys(kept_home), memo_keys(kept_home, audit=True)
    redeliver(tiny_world.delivered, first, deliveries / "1", days=1, keep_rows=True)
    shutil.copytree(deliveries / "1", kept_home / "landing", dirs_exist_ok=True)
    output = build(kept_home)
    # dbt's log file at the nightly level (orchestration.assets.NIGHTLY_FILE_LOG_LEVEL, the
    # shared world's debug no longer asked for): each node's result, no debug line
    levels = dbt_log_levels(kept_home)
    assert levels["info"] > 0 and "debug" not in levels, levels
    # R moved (the periods' ends with it): every provider's rows are rebuilt
    n = len(providers)
    assert f"rows of {n} of {n} providers rebuilt (their deliveries or shared" in output, output
    # ... but of two in the models that read of the shared inputs at most R (through dates
    # capped at the stand, and plan and goal dates) or the periods: the re-delivering one, and
    # the third, whose goal agreed on 2026-07-01 is now known; besides the periods R moved
    assert (
        "inputs changed); of 2 in the models built by their own inputs, and of the periods "
        "2026, 2026Q3 in those built by period" in output
    )
    # ... and so each such model's table was made anew, as a full build makes it, not deleted
    # and inserted by provider; the three that read no input a moved R changes (R only through
    # dates capped at the stand) had only the re-delivering provider's rows inserted anew, and
    # the six that read of the shared inputs only the periods those and the changed periods' rows
    built = how_built(kept_home)
    own_only, by_period = models_built("own_only"), models_built("by_period")
    assert own_only == {
        "intermediate.int_cases",
        "intermediate.int_contact_status",
        "intermediate.int_contact_topic_counts",
        "intermediate.int_plans",
        "intermediate.int_goals",
        "intermediate.int_case_first_signature",
        "intermediate.int_plan_version_reviews",
    }
    assert by_period == {
        "intermediate.int_case_periods",
        "intermediate.int_case_period_contacts",
        "intermediate.int_person_period_contacts",
        "intermediate.int_goal_fields_by_provider",
    } | {f"intermediate.int_contrib_cm{n:02}" for n in (1, 2, 3, 4, 5, 7, 9, 10)}
    assert {name: how for name, how in built.items() if name in own_only | by_period} == (
        dict.fromkeys(own_only | by_period, "by provider")
    )
    assert {how for name, how in built.items() if name not in own_only | by_period} == {"anew"}
    # the changed periods: the year 2026, whose effective end moved from 2026-06-30 to
    # 2026-07-01, and 2026Q3, new; 2026Q2 ends on 2026-06-30 under either R, and the years and
    # quarters before did not change. int_case_periods joins the cases with them in two parts:
    # the two providers' cases with every period, every other case with those two
    case_periods = executed(kept_home, "int_case_periods", "compiled")
    both = f"('{first}', '{rejected}')"
    assert f"where cases.provider in {both} union all" in case_periods, case_periods
    assert (
        f"where not cases.provider in {both} and periods.period in ('2026', '2026q3')"
        in case_periods
    )
    # and int_contact_status' uniqueness was tested on the rows rebuilt, not on every provider's
    assert "where own_changed" in unique_contact_test(kept_home)
    # R moved within the month of the forecast's origin (2026-06-30), and no case known at the
    # origin changed: the forecast is kept with the new R (the full refresh at the end computes
    # it anew, and the published tables must be the same)
    assert FORECAST_RESTAMPED in output, output[-2000:]
    assert FORECAST_KEPT not in output  # its tables were written again, with R 2026-07-01
    assert SIMULATION_KEPT not in output  # and of the funding simulator's
    after_first = memo_keys(kept_home)
    assert set(before) & set(after_first), "no table kept its pattern: the memo was not used"
    assert set(after_first) - set(before), "no table changed: the re-delivery reached no pattern"
    audited = memo_keys(kept_home, audit=True)
    unchanged = sum(key in set(audited_before) for key in audited)
    assert 0 < unchanged < len(audited), "the gate audited every table again, or none"
    assert (
        f"{unchanged} of {len(audited)} parts (a table's block for one year) unchanged"
        in gate_text(kept_home)
    )
    # the parts protected anew took their ranges from the pattern's final audit of exactly the
    # numbers the gate read from the published tables: the gate solved no program of its own
    figures = gate_disclosure(kept_home)
    assert figures["parts_from_pattern"] > 0
    assert figures["parts_audited_before"] + figures["parts_from_pattern"] == figures["parts"]
    assert figures["linear_programs"] == 0
    assert "parts protected anew in this build, their ranges from the pattern's final audit" in (
        gate_text(kept_home)
    )

    # 2. another provider delivers every extract empty (all its cases gone, its cells vanish),
    #    and a third one's contacts are rejected (a header the contract does not know)
    redeliver(tiny_world.delivered, emptied, deliveries / "2", days=2, keep_rows=False)
    bad = deliveries / "2" / f"kontakte_{rejected}_2026-07-02.csv"
    bad.write_text("spalte_x;spalte_y\n1;2\n")  # deliberately bad: no contract column
    shutil.copytree(deliveries / "2", kept_home / "landing", dirs_exist_ok=True)
    build(kept_home)
    verdicts = accepted(kept_home)
    assert verdicts[bad.name] == "REJECTED"
    assert all(verdicts[p.name] == "ACCEPTED" for p in (deliveries / "2").iterdir() if p != bad), (
        verdicts
    )
    assert set(after_first) & set(memo_keys(kept_home))

    # a period recorded by the last build that is none now (as when the first year with data
    # moves later): its rows must go from the models built by provider and period. Made here by
    # hand: a year long before any data, recorded, with rows copied into each such model
    settings = Settings.from_env(home=kept_home, environ={})
    with duckdb.connect(str(settings.build_db)) as con:
        con.execute(
            "insert into meta.dbt_built_periods "
            "values ('1999', date '1999-01-01', date '1999-12-31', date '1999-12-31')"
        )
        for name in sorted(models_built("by_period")):
            copied = f"select * replace ('1999' as period) from {name} limit 3"
            con.execute(f"insert into {name} {copied}")
        gone = con.sql("select period from intermediate.int_period_inputs where changed").fetchall()
    assert gone == [("1999",)]  # the only period int_period_inputs calls changed

    # 3. the first provider corrects all its extracts under the same stand as in 1. (2026-07-01,
    #    one more contact less), and the third one's contacts are rejected again: R stays
    #    2026-07-02, so the models built by provider rebuild the rows of that one provider only
    redeliver(tiny_world.delivered, first, deliveries / "3", days=1, keep_rows=True)
    contacts = deliveries / "3" / f"kontakte_{first}_2026-07-01.csv"
    contacts.write_text("".join(contacts.read_text().splitlines(keepends=True)[:-1]))
    bad = deliveries / "3" / f"kontakte_{rejected}_2026-07-03.csv"
    bad.write_text("spalte_x;spalte_y\n3;4\n")  # deliberately bad: no contract column
    shutil.copytree(deliveries / "3", kept_home / "landing", dirs_exist_ok=True)
    output = build(kept_home)
    verdicts = accepted(kept_home)
    assert verdicts[bad.name] == "REJECTED"
    assert verdicts[contacts.name] == "ACCEPTED"
    # the other seven extracts are byte for byte those of 1.: delivered twice, they change nothing
    assert {verdicts[p.name] for p in (deliveries / "3").iterdir()} - {"REJECTED", "ACCEPTED"} == {
        "DUPLICATE"
    }
    # of the providers besides the funding authority, 1 changed; and the period gone
    assert (
        f"rows of 1 of {len(providers)} providers rebuilt (their deliveries or shared inputs "
        "changed); of 1 in the models built by their own inputs, and of the periods 1999 in "
        "those built by period\n"
    ) in output, output[-2000:]
    assert set(how_built(kept_home).values()) == {"by provider"}  # that provider's rows only
    # ... and the rows of the period gone (the pre-hook deleted them; nothing was inserted)
    assert "periods.period in ('1999')" in executed(kept_home, "int_case_periods", "compiled")
    # the years its one contact less did not reach were not set up again: audited before
    assert 0 < gate_disclosure(kept_home)["years_audited_before"] < len(tiny_years(kept_home))
    # only its contacts changed, which the forecast does not read: the forecast of 2. is kept
    # (the full refresh below computes it anew, and the published tables must be the same)
    assert FORECAST_KEPT in output, output[-2000:]
    assert SIMULATION_KEPT in output  # nor does the funding simulator
    # the report's chart processes were started while dbt ran its last tests and ended
    assert chart_workers_started_before(kept_home)
    # the uniqueness of int_contact_status was tested on the rebuilt provider's rows only
    # (`where: __changed_providers__`, macros/incremental_by_provider.sql: the model is built by
    # its providers' own snapshots), and passed
    assert "where own_changed" in unique_contact_test(kept_home)
    # no full refresh: dbt left the seeds and views out (they change only with the project),
    # built every other model and ran every nightly data test, those on views among them
    kept_nodes, built_nodes, nightly_tests, on_kept = dbt_nodes()
    assert dbt_ran(kept_home) == built_nodes | nightly_tests
    assert on_kept  # tests on the views left out, which ran all the same
    assert f"{len(kept_nodes)} views and seeds kept" in output

    # the full build: the same home, the same deliveries, without the memo (every table
    # protected anew) and every dbt model built from scratch. (A new home reading all these
    # files in one run is not the same state: the ingest then checks the older `ziele` of the
    # emptied provider against its newer, empty `faelle` and rejects it, and publishes other
    # numbers.)
    shutil.copy2(settings.published_db, tmp_path / "kept.duckdb")
    kept_models = model_tables(settings.build_db)
    memo = settings.disclosure_memo
    kept_memo = pl.read_parquet(memo)
    memo.unlink()
    settings.audit_memo.unlink()
    settings.disclosure_year_memo.unlink()  # and the years kept whole
    settings.audit_year_memo.unlink()
    output = build(kept_home, "--full-refresh")
    assert f"rows of {len(providers)} of {len(providers)} providers rebuilt (full refresh)" in (
        output
    )
    assert FORECAST_KEPT not in output
    assert SIMULATION_KEPT not in output
    assert "int_provider_inputs" not in unique_contact_test(kept_home)  # every row tested
    assert dbt_ran(kept_home) == kept_nodes | built_nodes | nightly_tests  # and every node built
    assert "views and seeds kept" not in output
    # a full refresh computes the forecast anew: no chart process waits beside it
    assert not chart_workers_started_before(kept_home)
    # the models built by provider hold the rows a build from scratch gives, row for row
    full_models = model_tables(settings.build_db)
    assert {
        "intermediate.int_contact_status",
        "intermediate.int_contact_topic_counts",
        "intermediate.int_case_periods",
    } <= kept_models.keys()
    for name in kept_models:
        assert kept_models[name].height > 0, name
        assert kept_models[name].equals(full_models[name]), name
    # every table protected anew comes out as the memo had it
    assert pl.read_parquet(memo).sort("key").equals(kept_memo.sort("key"))
    full_keys = memo_keys(kept_home, audit=True)
    assert "unchanged since the last audit" not in gate_text(kept_home)
    figures = gate_disclosure(kept_home)  # every part protected anew, its audit the pattern's
    assert figures["years_audited_before"] == 0
    assert figures["parts_from_pattern"] == figures["parts"] == len(full_keys)
    # and every year's audit the pattern's (`disclosure.chunks`, "A year's audit from the
    # pattern"): not one year set up by the gate
    assert figures["years_from_pattern"] == len(tiny_years(kept_home))
    assert "whole years published exactly as the pattern saw them" in gate_text(kept_home)
    assert figures["linear_programs"] == 0

    kept = tables(tmp_path / "kept.duckdb")
    full = tables(settings.published_db)
    assert kept.keys() == full.keys()
    differences = {name: compare(full[name], kept[name], 1e-12) for name in full}
    assert {name: d for name, d in differences.items() if d} == {}
    # and the pattern is a real one: both suppress cells, secondary ones among them
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        counts = dict(
            con.execute(
                "select suppression, count(*) from marts.disclosure_pattern group by 1"
            ).fetchall()
        )
    assert counts.get("primary", 0) > 0 and counts.get("secondary", 0) > 0

    # 4. an explicit, earlier reference date (a publication as of 2025-12-31): rows dated after
    #    it are no longer known, so every provider's rows are rebuilt — also int_contact_status,
    #    which a moved R leaves alone when R is the newest stand — and equal a full refresh's
    output = build(kept_home, "--reference-date", "2025-12-31")
    n = len(providers)
    assert f"rows of {n} of {n} providers rebuilt (their deliveries or shared" in output, output
    assert set(how_built(kept_home).values()) == {"anew"}  # the own-only models too
    explicit_models = model_tables(settings.build_db)
    build(kept_home, "--reference-date", "2025-12-31", "--full-refresh")
    refreshed = model_tables(settings.build_db)
    for name in explicit_models:
        assert explicit_models[name].equals(refreshed[name]), name
    # the contacts of 2026 are gone from int_contact_status (R cuts them)
    assert (
        explicit_models["intermediate.int_contact_status"].height
        < kept_models["intermediate.int_contact_status"].height
    )
