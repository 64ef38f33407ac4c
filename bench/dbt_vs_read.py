"""How the dbt step compares with DuckDB reading the raw tables once.

    .venv/bin/python -m bench.dbt_vs_read --home DIR     # a home that has been built once

Times (1) reading every current raw table once into memory (the floor any transformation must
pay) and (2) a full `dbt build` of the project on the same build database, and prints the ratio,
the number of dbt nodes and the peak memory (max RSS) of the dbt process. On a shared machine,
run it two or three times and note the load (`uptime`): both times grow with it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from contract.spec import EXTRACTS
from core.settings import DBT_PROJECT_DIR, Settings


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


def dbt_build(settings: Settings, target: Path) -> tuple[float, int, float]:
    """Seconds, nodes run, and the peak RSS in GB of the dbt process."""
    env = {**os.environ, **settings.env()}
    dbt = Path(sys.executable).parent / "imw-dbt"  # dbt in the database's folder
    start = time.perf_counter()
    subprocess.run(
        [str(dbt), "build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(target), "--log-path", str(target)],
        env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    nodes = len(json.loads((target / "run_results.json").read_text())["results"])
    # ru_maxrss of the children is the largest of them (kB on Linux): the dbt process here
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    return elapsed, nodes, peak_gb


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--home", required=True)
    args = p.parse_args()
    settings = Settings.from_env(home=args.home)
    floor, rows = read_floor(settings.build_db)
    dbt, nodes, peak_gb = dbt_build(settings, settings.warehouse_dir / "bench-dbt-target")
    result = {"raw_rows": rows, "read_floor_s": round(floor, 2), "dbt_build_s": round(dbt, 2),
              "ratio": round(dbt / floor, 1), "dbt_nodes": nodes,
              "dbt_peak_rss_gb": round(peak_gb, 2),
              "load_1min": round(os.getloadavg()[0], 1)}  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
