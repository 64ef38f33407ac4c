"""Every DuckDB connection the warehouse opens, with the memory limit and threads of
`core.resources`."""

from __future__ import annotations

from pathlib import Path

import duckdb

from core.resources import memory_limit, threads


def connect(
    database: str | Path = ":memory:", *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the warehouse's memory limit and threads.

    An in-memory database spills into `IMW_HOME/warehouse/spill` (DuckDB's own default would be
    `.tmp` in whatever folder the process runs in). A database file this process already has
    open with DuckDB's defaults (a notebook or a test that opened it with plain `duckdb.connect`
    and calls the warehouse's code) is joined as it is: DuckDB keeps one instance per file and
    process, and its first opener's settings hold. (Opened with other explicit settings, DuckDB's
    own error stands.)"""
    config: dict[str, str | int] = {"memory_limit": memory_limit(), "threads": threads()}
    if str(database) == ":memory:":
        spill = spill_dir()
        try:
            # DuckDB creates the spill folder when it first spills, but not its parents: a home
            # without `warehouse/` yet (an export run against another home's database) failed
            # there, mid-query, with "Failed to create directory"
            spill.mkdir(parents=True, exist_ok=True)
            config["temp_directory"] = str(spill)
        except OSError:
            pass  # a home this process cannot write to: DuckDB's own default folder

    try:
        return duckdb.connect(str(database), read_only=read_only, config=config)
    except duckdb.ConnectionException as error:
        if "different configuration" not in str(error):
            raise
        return duckdb.connect(str(database), read_only=read_only)


def spill_dir() -> Path:
    from core.settings import Settings

    return Settings.from_env().warehouse_dir / "spill"
