"""How the dbt step compares with DuckDB reading the raw tables once.

    .venv/bin/python -m bench.dbt_vs_read --home DIR     # a home that has been built once

Times (1) reading every current raw table once into memory (the floor any transformation must
pay) and (2) a full `dbt build` of the project on the same build database, and prints the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from imw.settings import DBT_PROJECT_DIR, Settings
from ingest.contract import EXTRACTS


def read_floor(build_db: Path) -> tuple[float, int]:
    rows = 0
    with duckdb.connect(str(build_db), read_only=True) as con:
        con.execute("SET enable_progress_bar = false")
        start = time.perf_counter()
        for ex in EXTRACTS.values():
            con.execute(
                f"CREATE TEMP TABLE t_{ex.name} AS SELECT * FROM raw.{ex.raw_table}_current"
            )
            rows += con.execute(f"SELECT count(*) FROM t_{ex.name}").fetchone()[0]
        elapsed = time.perf_counter() - start
    return elapsed, rows


def dbt_build(settings: Settings, target: Path) -> float:
    env = {**os.environ, **settings.env()}
    dbt = Path(sys.executable).parent / "dbt"
    start = time.perf_counter()
    subprocess.run(
        [str(dbt), "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(target), "--log-path", str(target)],
        env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--home", required=True)
    args = p.parse_args()
    settings = Settings.from_env(home=args.home)
    floor, rows = read_floor(settings.build_db)
    dbt = dbt_build(settings, settings.warehouse_dir / "bench-dbt-target")
    result = {"raw_rows": rows, "read_floor_s": round(floor, 2), "dbt_build_s": round(dbt, 2),
              "ratio": round(dbt / floor, 1)}  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
