"""Are two published analyst databases the same, table by table? (not part of `make test`)

    .venv/bin/python -m bench.compare_published BEFORE.duckdb AFTER.duckdb [--tolerance 1e-12]

For a refactoring that must not change behaviour: build `demo` on the commit before and after
(`make demo` in two worktrees; the fixed demo key gives both the same pseudonyms) and compare
their `published/indicators.duckdb`. Per table (every schema): the same columns with the same
types, the same number of rows, and the same rows — sorted by every column, text and integers
compared exactly, floating-point values to `--tolerance` (relative, and absolute near 0: a sum
may add its terms in another order). The columns of `build_info` that say when and by which run
the database was made (`BUILD_COLUMNS`) are listed and not compared.

Prints one line per table and exits 1 when any table differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import polars as pl
from polars.testing import assert_frame_equal

BUILD_COLUMNS = frozenset({"publish_id", "published_at_utc", "latest_load_at_utc"})
"""Columns that say when and by which run a build was made, not what it computed."""


def tables(path: Path) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        return {
            f"{schema}.{name}": con.sql(f'select * from "{schema}"."{name}"').pl()
            for schema, name in names
        }


def compare(before: pl.DataFrame, after: pl.DataFrame, tolerance: float) -> str | None:
    """None when equal, else what differs (one line)."""
    if before.schema != after.schema:
        return f"schema differs: {dict(before.schema)} vs {dict(after.schema)}"
    if before.height != after.height:
        return f"{before.height:,} vs {after.height:,} rows"
    skipped = [c for c in before.columns if c in BUILD_COLUMNS]
    before, after = before.drop(skipped), after.drop(skipped)
    if not before.columns:
        return None
    floats = [c for c, t in before.schema.items() if t.is_float()]
    order = [c for c in before.columns if c not in floats] + floats
    sortable = [
        c
        for c in order
        if before.schema[c].is_numeric()
        or before.schema[c] in (pl.String, pl.Boolean, pl.Date, pl.Datetime, pl.Categorical)
    ]
    if sortable:
        before = before.sort(sortable, nulls_last=True)
        after = after.sort(sortable, nulls_last=True)
    try:
        assert_frame_equal(before, after, check_exact=False, rel_tol=tolerance, abs_tol=tolerance)
    except AssertionError as difference:
        return " ".join(str(difference).split())[:300]
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-12)
    args = parser.parse_args(argv)
    old, new = tables(args.before), tables(args.after)
    failed = False
    for name in sorted(old.keys() | new.keys()):
        if name not in new or name not in old:
            print(f"DIFF   {name}: only in {'before' if name in old else 'after'}")
            failed = True
            continue
        problem = compare(old[name], new[name], args.tolerance)
        skipped = sorted(c for c in old[name].columns if c in BUILD_COLUMNS)
        note = f" (not compared: {', '.join(skipped)})" if skipped else ""
        if problem is None:
            print(f"same   {name}: {old[name].height:,} rows{note}")
        else:
            print(f"DIFF   {name}: {problem}")
            failed = True
    print("identical" if not failed else "databases differ")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
