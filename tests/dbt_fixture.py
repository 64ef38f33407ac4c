"""Shared by the dbt fixture tests: load hand-written CSV fixtures as accepted deliveries into a
fresh raw layer, run `dbt build` on it in a subprocess, and hand back a read-only connection.

Fixture CSVs are named after the contract extract and carry three extra columns: `provider` and
`stand` (one delivery per pair) and `note` (why the row is there).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from contract.spec import EXTRACTS, ColumnType
from core.project_vars import FIXTURE_ONLY_TAG, REFERENCE_DATE_ENV
from core.settings import BUILD_DB_NAME
from ingest.raw import ensure_schema

ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT = ROOT / "dbt_project"
FIXTURE_ONLY_COLUMNS = ("provider", "stand", "note")


def dbt_executable() -> str:
    local = Path(sys.executable).parent / "dbt"
    if local.exists():
        return str(local)
    found = shutil.which("dbt")
    if found is None:
        pytest.fail("no dbt executable next to the interpreter or on PATH")
    return found


def insert_delivery(
    con: duckdb.DuckDBPyConnection, delivery_id: int, values: dict[str, object]
) -> None:
    con.execute(
        """
        INSERT INTO raw.deliveries (delivery_id, file_name, sha256, provider, extract, stand,
            received_at, verdict, reason, rows_delivered, rows_loaded, rows_quarantined)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            delivery_id, values["file_name"], f"fixture-{delivery_id}", values["provider"],
            values["extract"], values["stand"], datetime(2026, 1, 20, 3, 0, delivery_id),
            values["verdict"], values.get("reason"), values["rows_delivered"],
            values["rows_loaded"], values["rows_quarantined"],
        ],
    )  # fmt: skip


def fixture_id(text: str) -> int:
    """The warehouse id a fixture's plain id becomes (`_ids_as_integers`), for test queries."""
    data = text.encode()
    assert len(data) <= 16, text
    return int.from_bytes(data.ljust(16, b"\0"), "big")


def fixture_id_sql(column: str) -> str:
    """SQL for `fixture_id` of a text column (macros/warehouse_ids.sql does the same in dbt)."""
    return f"CAST('0x' || rpad(hex(encode({column})), 32, '0') AS UHUGEINT)"


def _ids_as_integers(con: duckdb.DuckDBPyConnection, extract: str) -> str:
    """`REPLACE (...)` turning the fixture's plain ids into warehouse ids (`UHUGEINT`).

    An id's bytes, right-padded with zeros to 16, read as one big-endian integer: distinct ids stay
    distinct and keep their order (`C1` < `C2` as text and as integers), so a tie broken by id
    comes out as the fixture's notes say. Ids longer than 16 bytes would not fit: refused."""
    present = {
        r[0] for r in con.execute("SELECT name FROM pragma_table_info('fixture')").fetchall()
    }
    ids = [c.raw_name for c in EXTRACTS[extract].columns
           if c.type is ColumnType.ID and c.raw_name in present]  # fmt: skip
    if not ids:
        return ""
    longer = " OR ".join(f"octet_length(encode({c})) > 16" for c in ids)
    too_long = con.execute(f"SELECT count(*) FROM fixture WHERE {longer}").fetchall()[0][0]
    assert too_long == 0, f"fixture {extract}: ids longer than 16 bytes"
    return "REPLACE (" + ", ".join(f"{fixture_id_sql(c)} AS {c}" for c in ids) + ")"


def load_fixture(con: duckdb.DuckDBPyConnection, fixtures: Path) -> None:
    """Every extract CSV as accepted deliveries, one per (extract, provider, stand), all rows
    loaded; then, if present, `deliveries.csv`: deliveries that bring no rows (empty, superseded,
    rejected, duplicate files — for the data-quality indicators)."""
    ensure_schema(con)
    delivery_id = 0
    for csv_path in sorted(fixtures.glob("*.csv")):
        extract = csv_path.stem
        if extract == "deliveries":
            continue
        assert extract in EXTRACTS, f"fixture {csv_path.name} is not a contract extract"
        con.execute(
            "CREATE OR REPLACE TEMP TABLE fixture AS "
            "SELECT * FROM read_csv(?, all_varchar = true, delim = ',', header = true)",
            [str(csv_path)],
        )
        snapshots = con.execute(
            "SELECT provider, stand, count(*) FROM fixture GROUP BY ALL ORDER BY stand, provider"
        ).fetchall()
        for provider, stand, n_rows in snapshots:
            delivery_id += 1
            insert_delivery(con, delivery_id, {
                "file_name": f"{extract}_{provider}_{stand}.csv", "provider": provider,
                "extract": extract, "stand": stand, "verdict": "ACCEPTED",
                "rows_delivered": n_rows, "rows_loaded": n_rows, "rows_quarantined": 0,
            })  # fmt: skip
            # extract is checked against the contract above: identifiers only, data as parameters
            as_ids = _ids_as_integers(con, extract)
            con.execute(
                f"""
                INSERT INTO raw.{extract} BY NAME
                SELECT ? AS _batch_id, provider AS _provider,
                       row_number() OVER () + 1 AS _line,
                       * EXCLUDE ({", ".join(FIXTURE_ONLY_COLUMNS)}) {as_ids}
                FROM fixture WHERE provider = ? AND stand = ?
                """,
                [delivery_id, provider, stand],
            )
    extra = fixtures / "deliveries.csv"
    if not extra.exists():
        return
    rows = con.execute(
        "SELECT * EXCLUDE (note) FROM read_csv(?, all_varchar = true, header = true)",
        [str(extra)],
    )
    columns = [d[0] for d in rows.description]
    for values in rows.fetchall():
        delivery_id += 1
        insert_delivery(con, delivery_id, dict(zip(columns, values, strict=True)))


def run_dbt_build(
    db: Path, tmp: Path, extra: tuple[str, ...] = (), reference_date: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`dbt build` on `db`, with target and logs under `tmp` so parallel runs never share them;
    `reference_date` (YYYY-MM-DD) as `imw build --reference-date` passes it, in the environment
    (core.project_vars.REFERENCE_DATE_ENV; empty: R from the data).

    dbt parses the whole project (≈ 10 s) unless its target folder holds a `partial_parse.msgpack`
    made with the same vars and connection. The profile names the database `build.duckdb`
    relative to dbt's working directory (dbt_project/profiles.yml), so every fixture build runs
    in its database's folder and starts from the parse `make test` prepared before the tests
    (`make manifest`: dbt_project/target), or, where there is none (pytest alone), from the
    first build's in this worker (`_parse_cache`). dbt still checks every project file's hash
    and parses again what changed — and the files that read an environment variable whose value
    changed (the reference date: int_reference_date only)."""
    assert db.name == BUILD_DB_NAME, db
    target = tmp / "target"
    cached = PREPARED_PARSE if PREPARED_PARSE.exists() else _parse_cache(tmp)
    if cached.exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, target / PARTIAL_PARSE)
    result = subprocess.run(
        [dbt_executable(), "build", "--project-dir", str(DBT_PROJECT), "--profiles-dir",
         str(DBT_PROJECT), "--target-path", str(target), "--log-path", str(tmp / "logs"),
         *extra],
        cwd=db.parent,
        env={**os.environ, REFERENCE_DATE_ENV: reference_date or ""},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    if result.returncode == 0 and not cached.exists() and (target / PARTIAL_PARSE).exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        part = cached.with_suffix(f".{os.getpid()}.part")
        shutil.copyfile(target / PARTIAL_PARSE, part)
        part.replace(cached)
    return result


PARTIAL_PARSE = "partial_parse.msgpack"
PREPARED_PARSE = DBT_PROJECT / "target" / PARTIAL_PARSE
"""The parse of `make manifest` (orchestration.dbt_project), made before the tests run."""


def _parse_cache(tmp: Path) -> Path:
    """Where this worker keeps its first build's parse (next to its temporary folders, so a new
    session starts from nothing)."""
    return tmp.parent / "dbt-parse-cache" / PARTIAL_PARSE


def built_warehouse(
    tmp: Path,
    fixtures: Path,
    reference_date: str | None = None,
    unit_tests: bool = False,
    generic_tests: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Load `fixtures`, build every dbt model and its tests on them, open the result read-only.

    Every build runs the singular data tests (dbt_project/tests: roll-ups, grid, published =
    marts, …), whose failure on an edge case is the point of a hand-made fixture. The 296
    generic tests (not null, unique, accepted values, relationships, expressions per column) cost
    half of a fixture build (17 of 32 s, measured 2026-12-03) and say the same on every input:
    they run in the one fixture build that holds every extract, deliveries that bring no rows and
    the natural reference date (`generic_tests=True`:
    test_indicators_reference_date_obligations.py). The data tests tagged `fixture_only` (they
    restate their model's construction or a gate rule, docs/data_rules.md) run only here, the
    singular ones in every fixture build, the generic ones in that one; the nightly build (the
    shared tiny world of `make test` among them) runs the others. Each build checks that every
    fixture-only test it should run ran and passed.

    dbt's unit tests check SQL logic on their own fixed inputs, whatever the fixture: they run in
    one fixture build (`unit_tests=True`, test_indicators_cm01_cm05.py), not in all six — as the
    nightly build leaves them out (orchestration/assets.py). With `reference_date` (YYYY-MM-DD),
    dbt gets it as `imw build --reference-date` passes it (`run_dbt_build`; the unit tests, whose
    fixed inputs assume none, cannot run in that build)."""
    db = tmp / BUILD_DB_NAME
    with duckdb.connect(str(db)) as con:
        load_fixture(con, fixtures)
    extra: tuple[str, ...] = ()
    assert reference_date is None or not unit_tests, "the unit tests assume no reference date"
    if not unit_tests:
        extra = (*extra, "--exclude-resource-type", "unit_test")
    if not generic_tests:
        extra = (*extra, "--exclude", "test_type:generic")
    result = run_dbt_build(db, tmp, extra, reference_date)
    assert result.returncode == 0, result.stdout[-10000:] + result.stderr[-5000:]
    ran = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    if unit_tests:
        unit = [r for r in ran if r["unique_id"].startswith("unit_test.")]
        assert len(unit) >= 30 and all(r["status"] == "pass" for r in unit)
    assert_fixture_only_tests_passed(tmp / "target", ran, generic=generic_tests)
    return duckdb.connect(str(db), read_only=True)


def assert_fixture_only_tests_passed(target: Path, ran: list[dict], *, generic: bool) -> None:
    """Every data test tagged `fixture_only` that this build selects (singular ones always,
    generic ones with `generic`) ran and passed: the nightly build leaves them out, so this is
    where they run."""
    nodes = json.loads((target / "manifest.json").read_text())["nodes"].values()
    expected = {
        n["unique_id"]
        for n in nodes
        if n["resource_type"] == "test"
        and FIXTURE_ONLY_TAG in n["tags"]
        and (generic or not n.get("test_metadata"))
    }
    assert expected, "no fixture-only data tests in the manifest"
    status = {r["unique_id"]: r["status"] for r in ran}
    failed = {t: status.get(t, "not run") for t in expected if status.get(t) != "pass"}
    assert not failed, failed


def assert_rows_follow_the_disclosure_pattern(
    con: duckdb.DuckDBPyConnection, indicator_ids: list[str], *, land_secondary: bool
) -> int:
    """What the rule guarantees for every row of `indicator_ids` (docs/indicators.md, "Output"):
    the primary cells are exactly the rows with 0 < base_n < 5; a published row is suppressed
    exactly when marts.disclosure_pattern names it, as the same kind; a suppressed row shows no
    number, a shown row shows the marts' numbers; base_n 0 ("no cases") is never suppressed.
    Without `land_secondary`, no Land row is a secondary cell (where a fixture needs the engine's
    last resort, it is allowed). Returns how many rows were checked (callers check the grid)."""
    rows = con.execute(
        """
        SELECT m.indicator_id, m.period, m.level, m.unit_code, m.base_n, p.suppressed,
            p.suppression, d.suppression AS pattern,
            p.numerator IS NULL AND p.denominator IS NULL AND p.value IS NULL
                AND p.base_n IS NULL AS blank,
            p.numerator IS NOT DISTINCT FROM m.numerator
                AND p.denominator IS NOT DISTINCT FROM m.denominator
                AND p.value IS NOT DISTINCT FROM m.value AND p.base_n = m.base_n AS same
        FROM marts.indicator_values AS m
        INNER JOIN published.indicator_values AS p USING (indicator_id, period, level, unit_code)
        LEFT JOIN marts.disclosure_pattern AS d
            ON d.table_name = 'indicator_values' AND d.block = m.indicator_id
            AND d.period = m.period AND d.level = m.level AND d.unit_code = m.unit_code
        WHERE list_contains(?, m.indicator_id)
        """,
        [indicator_ids],
    ).fetchall()
    for *key, base_n, suppressed, kind, pattern, blank, same in rows:
        assert kind == pattern and suppressed == (kind is not None), key
        assert (kind == "primary") == (0 < base_n < 5), key
        assert blank if suppressed else same, key
        assert land_secondary or not (key[2] == "LAND" and kind == "secondary"), key
    return len(rows)


# --------------------------------------------------------------------------------------------
# Reading indicator rows of a fixture build (the indicator test modules)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    numerator: float | None
    denominator: float | None
    value: float | None
    base_n: int | None
    suppressed: bool


def indicator_row(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    indicator_id: str,
    period: str,
    level: str,
    unit_code: str,
) -> Row:
    """One `indicator_values` row of `schema` ('marts' or 'published', a literal of the caller,
    never data). v2: marts has no suppressed flag (the pattern is marts.disclosure_pattern); a
    marts row's flag here says whether the published row is suppressed as primary, so a test's
    hidden() means "a primary cell: marts keeps the numbers, published withholds them" and
    shown() "not a primary cell" (a secondary cell still shows its numbers in marts;
    `indicator_suppression` says how the published row is withheld)."""
    found = con.execute(
        f"""
        SELECT t.numerator, t.denominator, t.value, t.base_n,
            {"coalesce(p.suppression = 'primary', false)" if schema == "marts" else "t.suppressed"}
        FROM {schema}.indicator_values AS t
        INNER JOIN published.indicator_values AS p USING (indicator_id, period, level, unit_code)
        WHERE indicator_id = ? AND period = ? AND level = ? AND unit_code = ?
        """,
        [indicator_id, period, level, unit_code],
    ).fetchall()
    assert len(found) == 1, (indicator_id, period, level, unit_code, found)
    return Row(*found[0])


def indicator_suppression(con: duckdb.DuckDBPyConnection, *key: str) -> str | None:
    """How the published `indicator_values` row (indicator_id, period, level, unit_code) is
    withheld: 'primary', 'secondary', or None when it is published with its numbers. Checks on
    the way what the rule guarantees for the row: it is suppressed exactly when
    marts.disclosure_pattern (which the published models apply) names it, as the same kind, and
    a suppressed row shows no number (v2: base_n neither)."""
    found = con.execute(
        """
        SELECT p.suppressed, p.suppression, d.suppression,
            p.numerator IS NULL AND p.denominator IS NULL AND p.value IS NULL
                AND p.base_n IS NULL
        FROM published.indicator_values AS p
        LEFT JOIN marts.disclosure_pattern AS d
            ON d.table_name = 'indicator_values' AND d.block = p.indicator_id
            AND d.period = p.period AND d.level = p.level AND d.unit_code = p.unit_code
        WHERE p.indicator_id = ? AND p.period = ? AND p.level = ? AND p.unit_code = ?
        """,
        list(key),
    ).fetchall()
    assert len(found) == 1, (key, found)
    suppressed, published_kind, pattern_kind, blank = found[0]
    assert published_kind == pattern_kind, key
    assert suppressed == (published_kind is not None), key
    if suppressed:
        assert blank, key
    return published_kind
