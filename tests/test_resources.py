"""One memory and threads setting (#16, "Memory"): `IMW_MEMORY_LIMIT` and `IMW_THREADS` reach
every DuckDB connection the warehouse opens, dbt's DuckDB (through the project's on-run-start
hook) and the disclosure engine's workers; bad values are refused with the variable's name."""

from __future__ import annotations

import os

import duckdb
import pytest

from core import resources
from core.database import connect
from core.resources import (
    DEFAULT_MEMORY_LIMIT,
    MEMORY_LIMIT_ENV,
    THREADS_ENV,
    ResourceSettingError,
)
from core.settings import Settings
from disclosure import engine


@pytest.fixture
def unset(monkeypatch, tmp_path):
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    monkeypatch.delenv(THREADS_ENV, raising=False)
    monkeypatch.delenv(engine.WORKERS_ENV, raising=False)
    monkeypatch.setenv("IMW_HOME", str(tmp_path / "home"))
    return monkeypatch


def setting(con: duckdb.DuckDBPyConnection, name: str):
    return con.execute("SELECT current_setting(?)", [name]).fetchone()[0]


def test_defaults_are_the_documented_limit_and_the_cpus(unset):
    assert resources.memory_limit() == resources.DEFAULT_MEMORY_LIMIT
    assert resources.threads() == len(os.sched_getaffinity(0))
    assert engine.workers() == len(os.sched_getaffinity(0))


def test_every_connection_gets_the_limit_and_the_threads(unset, tmp_path):
    unset.setenv(MEMORY_LIMIT_ENV, "1GiB")
    unset.setenv(THREADS_ENV, "1")
    with connect(tmp_path / "build.duckdb") as con:
        # DuckDB shows 1 GiB as "1.0 GiB"; DuckDB's own default here would be 80 % of the RAM
        assert setting(con, "memory_limit") == "1.0 GiB"
        assert setting(con, "threads") == 1  # DuckDB's default: one per CPU
        # a file database spills beside itself, inside the home's warehouse folder
        assert setting(con, "temp_directory") == str(tmp_path / "build.duckdb.tmp")
    with connect() as con:
        assert setting(con, "memory_limit") == "1.0 GiB"
        # in-memory work spills into the home, not into the working directory's `.tmp`
        assert setting(con, "temp_directory") == str(tmp_path / "home" / "warehouse" / "spill")


def test_in_memory_work_spills_into_a_home_without_a_warehouse_yet(unset, tmp_path):
    # the home of `unset` does not exist; DuckDB creates a spill folder but not its parents
    assert not (tmp_path / "home").exists()
    unset.setenv(MEMORY_LIMIT_ENV, "64MiB")
    unset.setenv(THREADS_ENV, "1")
    with connect() as con:
        # sorting 4 M rows of two BIGINTs (64 MB) with 64 MiB of memory must spill
        rows = con.execute(
            "SELECT count(*) FROM (SELECT range AS a, hash(range) AS b FROM range(4000000) "
            "ORDER BY b)"
        ).fetchall()
    assert rows == [(4_000_000,)]
    assert (tmp_path / "home" / "warehouse" / "spill").is_dir()


def test_read_only_connections_get_them_too(unset, tmp_path):
    duckdb.connect(str(tmp_path / "x.duckdb")).close()
    unset.setenv(MEMORY_LIMIT_ENV, "512MiB")
    with connect(tmp_path / "x.duckdb", read_only=True) as con:
        assert setting(con, "memory_limit") == "512.0 MiB"


def test_threads_are_the_disclosure_workers_unless_those_are_set(unset):
    unset.setenv(THREADS_ENV, "3")
    assert engine.workers() == 3  # from IMW_THREADS
    unset.setenv(engine.WORKERS_ENV, "1")
    assert engine.workers() == 1  # IMW_DISCLOSURE_WORKERS wins: the engine's own setting


@pytest.mark.parametrize(
    ("variable", "bad"),
    [
        (MEMORY_LIMIT_ENV, "lots"),  # no amount
        (MEMORY_LIMIT_ENV, "2"),  # no unit: DuckDB would read bytes
        (MEMORY_LIMIT_ENV, "2GB'; DROP TABLE x; --"),  # would reach dbt's SET statement
        (MEMORY_LIMIT_ENV, "-1GB"),  # negative
        (THREADS_ENV, "0"),  # no thread
        (THREADS_ENV, "two"),  # not a number
        (THREADS_ENV, "1.5"),  # not whole
    ],
)
def test_bad_values_are_refused_with_the_variable(unset, variable, bad):
    unset.setenv(variable, bad)
    with pytest.raises(ResourceSettingError, match=variable):
        resources.resources_env()
    with pytest.raises(ResourceSettingError, match=variable):
        Settings.from_env().env()  # so no build starts dbt with it


def test_dbt_gets_the_resolved_values(unset):
    unset.setenv(MEMORY_LIMIT_ENV, " 2.5GB ")
    env = Settings.from_env().env()
    assert env[MEMORY_LIMIT_ENV] == "2.5GB"  # stripped
    assert env[THREADS_ENV] == str(len(os.sched_getaffinity(0)))  # unset: the CPUs


def test_a_set_on_the_hooks_cursor_holds_for_the_models_cursors(tmp_path):
    """dbt-duckdb runs the hook and each model on cursors of one connection: the limit and the
    threads are global to the database, so the hook's statement (as the macro renders it) holds
    for every model."""
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        hook, model = con.cursor(), con.cursor()
        hook.execute("set memory_limit = '1536MiB';set threads = 3;")
        assert setting(model, "memory_limit") == "1.5 GiB"  # 1536 MiB
        assert setting(model, "threads") == 3


def test_a_database_this_process_has_open_already_is_joined_as_it_is(unset, tmp_path):
    """A notebook (or a test) holding a plain connection calls the warehouse's code: DuckDB keeps
    one instance per file and process and refuses a second with other settings; `connect`
    joins it, with its first opener's settings."""
    path = tmp_path / "build.duckdb"
    duckdb.connect(str(path)).close()
    unset.setenv(MEMORY_LIMIT_ENV, "1GiB")
    with duckdb.connect(str(path), read_only=True) as first:
        default = setting(first, "memory_limit")  # DuckDB's: 80 % of the RAM
        with connect(path, read_only=True) as second:
            assert setting(second, "memory_limit") == default  # the first opener's
    with connect(path, read_only=True) as alone:
        assert setting(alone, "memory_limit") == "1.0 GiB"  # closed: the warehouse's again


def test_a_build_out_of_duckdb_memory_says_which_setting_to_raise():
    from cli.main import out_of_memory_message
    from core.resources import says_out_of_memory

    # the reason a federal-scale build recorded with the default limit (README, Benchmark)
    reason = (
        "warehouse_dbt: DagsterDbtCliRuntimeError: … Runtime Error in model int_case_periods "
        "(models/intermediate/int_case_periods.sql) Out of Memory Error: could not allocate "
        "block of size 256.0 KiB (953.6 MiB/953.6 MiB used)"
    )
    assert says_out_of_memory(reason)
    assert not says_out_of_memory("IO Error: No space left on device")
    # the limit reached while a model's transaction commits: DuckDB names no "Out of Memory
    # Error" then, only its buffer manager's message (a clean clone's `make test`, 2026-12-08)
    assert says_out_of_memory(
        "Runtime Error in model int_plan_version_reviews (models/intermediate/"
        "int_plan_version_reviews.sql) TransactionContext Error: Failed to commit: could not "
        "allocate block of size 1.9 KiB (15.2 MiB/15.2 MiB used)"
    )
    assert says_out_of_memory("failed to allocate data of size 32.0 KiB (15.2 MiB/15.2 MiB used)")
    # the same words without the buffer manager's figures are not its message
    assert not says_out_of_memory("Invalid Input Error: could not allocate block of size 0")
    assert not says_out_of_memory('Binder Error: column "allocate" not found')
    message = out_of_memory_message({MEMORY_LIMIT_ENV: "1536MiB"})
    assert "IMW_MEMORY_LIMIT=1536MiB" in message  # the value the build ran with
    assert "last good published database stays" in message
    assert f"IMW_MEMORY_LIMIT={DEFAULT_MEMORY_LIMIT}" in out_of_memory_message({})
    # the limit it suggests is above the one that failed (the federal bench at 5GB was told 5GB)
    assert "e.g. IMW_MEMORY_LIMIT=3072MiB (twice this one)" in message
    assert "e.g. IMW_MEMORY_LIMIT=10GB" in out_of_memory_message({MEMORY_LIMIT_ENV: "5GB"})


@pytest.mark.parametrize(
    ("limit", "doubled"),
    [
        ("1GB", "2GB"),
        ("5GB", "10GB"),
        ("1536MiB", "3072MiB"),
        ("1.5GiB", "3GiB"),
        ("0.75 TB", "1.5TB"),
    ],
)
def test_a_raised_memory_limit_is_twice_the_one_given(limit, doubled):
    from core.resources import doubled_memory_limit

    assert doubled_memory_limit(limit) == doubled


def _cached(con) -> int:
    """Bytes DuckDB holds for `con`'s database (`duckdb_memory()`: every tag, cache included)."""
    return con.sql("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchall()[0][0]


@pytest.fixture(scope="module")
def cache_db(tmp_path_factory):
    """A database file with one table of 1 M rows (about 17 MB in DuckDB's blocks)."""
    path = tmp_path_factory.mktemp("cache") / "cache.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE t AS SELECT range AS a, md5(range::VARCHAR) AS b FROM range(1000000)"
        )
    return path


@pytest.fixture
def cached_table(cache_db):
    """That database opened anew and its table just read: its blocks stay cached after the
    query."""
    path = cache_db
    con = duckdb.connect(str(path))
    con.execute("SET memory_limit = '1GB'")
    con.execute("SELECT max(hash(a, b)) FROM t").fetchall()
    yield con
    con.close()


def test_the_cache_is_given_back_and_the_builds_limit_kept(unset, cached_table, monkeypatch):
    monkeypatch.setattr(resources, "CACHE_FLOOR", "4MB")  # below this table's 17 MB
    unset.setenv(MEMORY_LIMIT_ENV, "1GB")  # the build's setting, as `imw build` passes it
    before = cached_table.sql("SELECT current_setting('memory_limit')").fetchall()
    assert _cached(cached_table) > 12 * 2**20  # the table's blocks, cached by the read
    assert resources.release_duckdb_cache(cached_table)
    assert _cached(cached_table) <= 4 * 2**20  # evicted down to the floor
    # the limit is the build's again, exactly (1GB: DuckDB prints 953.6 MiB)
    assert cached_table.sql("SELECT current_setting('memory_limit')").fetchall() == before
    # and the data is all there: evicted blocks are read back from the file
    assert cached_table.sql("SELECT count(*), count(DISTINCT b) FROM t").fetchall() == [
        (1_000_000, 1_000_000)
    ]


def test_without_the_setting_the_limit_it_had_is_put_back(unset, cached_table, monkeypatch):
    monkeypatch.setattr(resources, "CACHE_FLOOR", "4MB")
    cached_table.execute("SET memory_limit = '700MB'")  # a dbt run outside `imw`: its own value
    assert resources.release_duckdb_cache(cached_table)
    limit = cached_table.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert limit == "667.5 MiB"  # 700 MB as DuckDB prints it (700e6 / 2**20 = 667.57)


def test_pinned_memory_above_the_floor_keeps_the_limit(unset, cached_table, monkeypatch):
    monkeypatch.setattr(resources, "CACHE_FLOOR", "4MB")
    unset.setenv(MEMORY_LIMIT_ENV, "1GB")
    # another cursor's query still open: its hash table over 1 M distinct strings stays pinned
    # (about 110 MB), more than the floor
    open_query = cached_table.cursor().execute("SELECT b, count(*) FROM t GROUP BY b")
    open_query.fetchmany(1)
    assert not resources.release_duckdb_cache(cached_table)
    limit = cached_table.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert limit == "953.6 MiB"  # 1GB: kept (1e9 / 2**20 = 953.67)
    assert open_query.fetchmany(1)  # the open query goes on
