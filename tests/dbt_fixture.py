"""Shared by the dbt fixture tests: load hand-written CSV fixtures as accepted deliveries into a
fresh raw layer, run `dbt build` on it in a subprocess, and hand back a read-only connection.

Fixture CSVs are named after the contract extract and carry three extra columns: `provider` and
`stand` (one delivery per pair) and `note` (why the row is there).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from ingest.contract import EXTRACTS
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


def load_fixture(con: duckdb.DuckDBPyConnection, fixtures: Path) -> None:
    """Load every fixture CSV as accepted deliveries: one per (extract, provider, stand)."""
    ensure_schema(con)
    delivery_id = 0
    for csv_path in sorted(fixtures.glob("*.csv")):
        extract = csv_path.stem
        assert extract in EXTRACTS, f"fixture {csv_path.name} is not a contract extract"
        con.execute(
            "CREATE OR REPLACE TEMP TABLE fixture AS "
            "SELECT * FROM read_csv(?, all_varchar = true, delim = ',', header = true)",
            [str(csv_path)],
        )
        snapshots = con.execute(
            "SELECT DISTINCT provider, stand FROM fixture ORDER BY stand, provider"
        ).fetchall()
        for provider, stand in snapshots:
            delivery_id += 1
            (n_rows,) = con.execute(
                "SELECT count(*) FROM fixture WHERE provider = ? AND stand = ?", [provider, stand]
            ).fetchone()
            con.execute(
                """
                INSERT INTO raw.deliveries (delivery_id, file_name, sha256, provider, extract,
                    stand, received_at, verdict, rows_delivered, rows_loaded, rows_quarantined)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'ACCEPTED', ?, ?, 0)
                """,
                [
                    delivery_id,
                    f"{extract}_{provider}_{stand}.csv",
                    f"fixture-{delivery_id}",
                    provider,
                    extract,
                    stand,
                    datetime(2026, 1, 20, 3, 0, delivery_id),
                    n_rows,
                    n_rows,
                ],
            )
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


def run_dbt_build(db: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    """`dbt build` on `db`, with target and logs under `tmp` so parallel runs never share them."""
    return subprocess.run(
        [dbt_executable(), "build", "--project-dir", str(DBT_PROJECT), "--profiles-dir",
         str(DBT_PROJECT), "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")],
        env={**os.environ, "IMW_BUILD_DB": str(db)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip


def built_warehouse(tmp: Path, fixtures: Path) -> duckdb.DuckDBPyConnection:
    """Load `fixtures`, build every dbt model and test on them, open the result read-only."""
    db = tmp / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        load_fixture(con, fixtures)
    result = run_dbt_build(db, tmp)
    assert result.returncode == 0, result.stdout[-10000:] + result.stderr[-5000:]
    return duckdb.connect(str(db), read_only=True)
