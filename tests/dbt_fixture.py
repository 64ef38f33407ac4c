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
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from contract.spec import EXTRACTS
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
            con.execute(
                f"""
                INSERT INTO raw.{extract} BY NAME
                SELECT ? AS _batch_id, provider AS _provider,
                       row_number() OVER () + 1 AS _line,
                       * EXCLUDE ({", ".join(FIXTURE_ONLY_COLUMNS)})
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
    db: Path, tmp: Path, extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """`dbt build` on `db`, with target and logs under `tmp` so parallel runs never share them."""
    return subprocess.run(
        [dbt_executable(), "build", "--project-dir", str(DBT_PROJECT), "--profiles-dir",
         str(DBT_PROJECT), "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
         *extra],
        env={**os.environ, "IMW_BUILD_DB": str(db)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip


def built_warehouse(
    tmp: Path, fixtures: Path, reference_date: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Load `fixtures`, build every dbt model and test on them, open the result read-only.

    With `reference_date` (YYYY-MM-DD), dbt gets it as the var `reference_date`, as `imw build
    --reference-date` passes it; the unit tests, whose fixed inputs assume no such var, are left
    out of that build as they are in the nightly one (they run in the other fixture builds)."""
    db = tmp / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        load_fixture(con, fixtures)
    if reference_date is not None:
        extra = ("--vars", json.dumps({"reference_date": reference_date}),
                 "--exclude-resource-type", "unit_test")  # fmt: skip
        result = run_dbt_build(db, tmp, extra)
        assert result.returncode == 0, result.stdout[-10000:] + result.stderr[-5000:]
        return duckdb.connect(str(db), read_only=True)
    result = run_dbt_build(db, tmp)
    assert result.returncode == 0, result.stdout[-10000:] + result.stderr[-5000:]
    # The nightly build leaves dbt's unit tests out (orchestration/assets.py): they run here.
    ran = json.loads((tmp / "target" / "run_results.json").read_text())["results"]
    unit_tests = [r for r in ran if r["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) >= 30 and all(r["status"] == "pass" for r in unit_tests)
    return duckdb.connect(str(db), read_only=True)
