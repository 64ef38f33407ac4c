"""Publishing swaps in a new file atomically; readers of the old file are never blocked."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import pytest

from publish.analyst_db import publish


def make_build_db(path, value: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS published")
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(f"CREATE OR REPLACE TABLE published.indicator_values AS SELECT {value} AS v")
        con.execute("CREATE OR REPLACE TABLE marts.internal AS SELECT 1 AS x")  # not published


def test_publish_copies_only_the_published_schema(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "pub" / "indicators.duckdb"
    make_build_db(build, 1)
    result = publish(build, pub)
    assert result.row_counts == {"indicator_values": 1}
    with duckdb.connect(str(pub), read_only=True) as con:
        assert con.execute("SHOW TABLES").fetchall() == [("indicator_values",)]
    assert sorted(p.name for p in pub.parent.iterdir()) == ["indicators.duckdb"]  # no temp left


def test_published_file_is_readable_by_duckdb_1_4_storage(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "indicators.duckdb"
    make_build_db(build, 1)
    publish(build, pub)
    with duckdb.connect() as con:
        con.execute("ATTACH ? AS p (READ_ONLY)", [str(pub)])
        tags = con.execute(
            "SELECT tags FROM duckdb_databases() WHERE database_name = 'p'"
        ).fetchone()[0]
    # Files DuckDB 2.x writes by default say 'v2.0.0+'; DuckDB 1.4 clients cannot open those.
    assert tags["storage_version"] == "v1.4.0+"


def test_reader_holding_the_old_file_does_not_block_publish(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "indicators.duckdb"
    make_build_db(build, 1)
    publish(build, pub)
    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(pub)!r}, read_only=True)
            print(con.execute("SELECT v FROM indicator_values").fetchone()[0], flush=True)
            sys.stdin.readline()          # hold the connection open until told to go on
            print(con.execute("SELECT v FROM indicator_values").fetchone()[0], flush=True)
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert reader.stdout.readline().strip() == "1"
        make_build_db(build, 2)
        publish(build, pub)  # must not wait for or fail because of the reader
        with duckdb.connect(str(pub), read_only=True) as con:
            assert con.execute("SELECT v FROM indicator_values").fetchone()[0] == 2
        out, _ = reader.communicate("\n", timeout=30)
        assert out.strip() == "1", "the reader keeps a consistent view of the old file"
    finally:
        reader.kill()


def test_nothing_to_publish_is_an_error_and_keeps_the_old_file(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "indicators.duckdb"
    make_build_db(build, 1)
    publish(build, pub)
    with duckdb.connect(str(build)) as con:
        con.execute("DROP TABLE published.indicator_values")
    with pytest.raises(RuntimeError, match="nothing to publish"):
        publish(build, pub)
    with duckdb.connect(str(pub), read_only=True) as con:
        assert con.execute("SELECT v FROM indicator_values").fetchone()[0] == 1
