"""Publishing swaps in a new file and a new Parquet set atomically; readers are never blocked."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime

import duckdb
import pandas as pd
import pytest

from core.resources import THREADS_ENV
from publish.analyst_db import LOCK_NAME, VERSIONS_DIR_NAME, publish


def make_build_db(path, value: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS published")
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(f"CREATE OR REPLACE TABLE published.indicator_values AS SELECT {value} AS v")
        con.execute("CREATE OR REPLACE TABLE marts.internal AS SELECT 1 AS x")  # not published


def add_deliveries(path, *received_at: str) -> None:
    """A minimal raw.deliveries as ingest writes it; the last row is deliberately REJECTED."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute(
            "CREATE OR REPLACE TABLE raw.deliveries (received_at TIMESTAMP, verdict VARCHAR)"
        )
        for ts in received_at:
            con.execute("INSERT INTO raw.deliveries VALUES (?, 'ACCEPTED')", [ts])
        # Newer than every accepted file, but a rejected file is no load: must not count.
        con.execute("INSERT INTO raw.deliveries VALUES ('2099-01-01', 'REJECTED')")


def published_entries(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_publish_copies_only_the_published_schema(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "pub" / "indicators.duckdb"
    make_build_db(build, 1)
    result = publish(build, pub)
    assert result.row_counts == {"indicator_values": 1}
    with duckdb.connect(str(pub), read_only=True) as con:
        assert con.execute("SHOW TABLES").fetchall() == [("build_info",), ("indicator_values",)]
    # No temp file left; the lock file is empty and harmless.
    assert published_entries(pub.parent) == sorted(
        [LOCK_NAME, VERSIONS_DIR_NAME, "indicators.duckdb", "parquet"]
    )
    assert published_entries(pub.parent / "parquet") == [
        "indicator_values.parquet", "manifest.json"
    ]  # fmt: skip


def test_build_info_says_what_was_published_and_from_which_load(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "indicators.duckdb"
    make_build_db(build, 1)
    add_deliveries(build, "2026-07-01 02:00:00", "2026-07-02 03:04:05")
    before = datetime.now(UTC).replace(tzinfo=None)
    result = publish(build, pub)
    after = datetime.now(UTC).replace(tzinfo=None)
    with duckdb.connect(str(pub), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, row_count, publish_id, published_at_utc, latest_load_at_utc "
            "FROM build_info"
        ).fetchall()
    assert rows == [
        ("indicator_values", 1, result.publish_id, result.published_at,
         datetime(2026, 7, 2, 3, 4, 5))
    ]  # fmt: skip
    assert before <= result.published_at <= after, "UTC, whatever the machine's time zone"


def test_build_info_without_a_raw_layer_has_no_load_time(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "indicators.duckdb"
    make_build_db(build, 1)  # no raw.deliveries: a build DB made by hand
    publish(build, pub)
    with duckdb.connect(str(pub), read_only=True) as con:
        assert con.execute("SELECT latest_load_at_utc FROM build_info").fetchall() == [(None,)]


def test_parquet_files_match_the_database_and_the_manifest(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "indicators.duckdb"
    make_build_db(build, 5)
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE TABLE published.second AS SELECT range AS i FROM range(3)")
    add_deliveries(build, "2026-07-02 03:04:05")
    result = publish(build, pub)
    assert result.parquet_files == {
        "indicator_values": tmp_path / "parquet" / "indicator_values.parquet",
        "second": tmp_path / "parquet" / "second.parquet",
    }
    # pandas (pyarrow) stands in for R/pandas users.
    assert pd.read_parquet(result.parquet_files["indicator_values"])["v"].tolist() == [5]
    assert pd.read_parquet(result.parquet_files["second"])["i"].tolist() == [0, 1, 2]
    manifest = json.loads(result.manifest.read_text())
    assert manifest["publish_id"] == result.publish_id
    assert manifest["latest_load_at_utc"] == "2026-07-02T03:04:05Z"
    assert [(t["table"], t["rows"]) for t in manifest["tables"]] == [
        ("indicator_values", 1), ("second", 3)
    ]  # fmt: skip
    for entry in manifest["tables"]:
        data = (result.parquet_dir / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)


@pytest.mark.parametrize("threads", ["1", "3"])
def test_tables_copied_on_several_threads_publish_what_one_thread_publishes(
    tmp_path, monkeypatch, threads
):
    """publish copies the tables on the warehouse's threads (IMW_THREADS): with one or three,
    every table is whole in the database and in its Parquet file, build_info and the manifest
    list them in the schema's order (by name), and no temp file is left."""
    monkeypatch.setenv(THREADS_ENV, threads)
    build, pub = tmp_path / "build.duckdb", tmp_path / "pub" / "indicators.duckdb"
    make_build_db(build, 1)
    sizes = {"t_a": 5, "t_b": 0, "t_c": 70_000, "t_d": 3, "t_e": 12_345}  # t_b: an empty table
    with duckdb.connect(str(build)) as con:
        for name, n in sizes.items():
            con.execute(f"CREATE TABLE published.{name} AS SELECT range AS i FROM range({n})")
    result = publish(build, pub)
    expected = {"indicator_values": 1, **sizes}  # indicator_values: make_build_db's one row
    assert result.row_counts == expected
    assert list(result.row_counts) == sorted(expected)  # the schema's order
    with duckdb.connect(str(pub), read_only=True) as con:
        assert con.execute("SELECT table_name, row_count FROM build_info").fetchall() == list(
            expected.items()
        )
        for name, n in sizes.items():  # each row once: the sum of 0..n-1
            assert con.execute(f"SELECT count(*), sum(i) FROM {name}").fetchall() == [
                (n, n * (n - 1) // 2 if n else None)
            ]
    manifest = json.loads(result.manifest.read_text())
    assert [(t["table"], t["rows"]) for t in manifest["tables"]] == list(expected.items())
    for name, n in sizes.items():
        assert pd.read_parquet(result.parquet_files[name])["i"].tolist() == list(range(n))
    assert published_entries(pub.parent) == sorted(
        [LOCK_NAME, VERSIONS_DIR_NAME, "indicators.duckdb", "parquet"]
    )


def test_parquet_folder_is_swapped_as_a_whole_and_the_previous_set_is_kept(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "indicators.duckdb"
    parquet, versions = tmp_path / "parquet", tmp_path / VERSIONS_DIR_NAME
    make_build_db(build, 1)
    first = publish(build, pub)
    held = (parquet / "indicator_values.parquet").resolve()  # a reader that resolved the link
    make_build_db(build, 2)
    second = publish(build, pub)
    assert parquet.is_symlink() and not os.path.isabs(os.readlink(parquet)), "relative link"
    assert pd.read_parquet(parquet / "indicator_values.parquet")["v"].tolist() == [2]
    assert pd.read_parquet(held)["v"].tolist() == [1], "the previous set survives one publish"
    make_build_db(build, 3)
    third = publish(build, pub)
    assert published_entries(versions) == sorted([second.publish_id, third.publish_id])
    assert first.publish_id not in published_entries(versions)


def test_a_real_parquet_folder_is_replaced_by_the_link(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "indicators.duckdb"
    (tmp_path / "parquet").mkdir()
    (tmp_path / "parquet" / "copied_by_hand.parquet").write_text("x")  # deliberately stray
    make_build_db(build, 1)
    publish(build, pub)
    assert (tmp_path / "parquet").is_symlink()
    assert published_entries(tmp_path / "parquet") == ["indicator_values.parquet", "manifest.json"]


def test_publish_removes_what_a_killed_publish_left_behind(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "indicators.duckdb"
    make_build_db(build, 1)
    publish(build, pub)
    # Deliberately stale: what a publish killed at various points leaves behind.
    stale = [
        tmp_path / ".indicators.duckdb.99999.tmp",
        tmp_path / ".indicators.duckdb.99999.tmp.wal",
        tmp_path / VERSIONS_DIR_NAME / "20260101T000000000000Z.tmp",
    ]
    stale[0].write_bytes(b"half a database")
    stale[1].write_bytes(b"half a wal")
    stale[2].mkdir()
    (stale[2] / "indicator_values.parquet").write_bytes(b"half a parquet file")
    os.symlink(stale[2].name, tmp_path / ".parquet.99999.tmp")
    orphan = tmp_path / VERSIONS_DIR_NAME / "20260101T000000000001Z"  # complete, never linked
    orphan.mkdir()
    make_build_db(build, 2)
    publish(build, pub)
    assert published_entries(tmp_path) == sorted(
        ["build.duckdb", LOCK_NAME, VERSIONS_DIR_NAME, "indicators.duckdb", "parquet"]
    )
    assert not any(p.name.endswith(".tmp") for p in (tmp_path / VERSIONS_DIR_NAME).iterdir())
    assert not orphan.exists()


def test_a_second_publish_waits_for_the_running_one(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "indicators.duckdb"
    make_build_db(build, 1)
    publish(build, pub)
    make_build_db(build, 2)
    with (tmp_path / LOCK_NAME).open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # stands in for a publish that is running
        waiting = threading.Thread(target=publish, args=(build, pub))
        waiting.start()
        waiting.join(timeout=1.0)
        assert waiting.is_alive(), "publish must wait for the lock"
        assert not any(".tmp" in p.name for p in tmp_path.iterdir()), "nor touch temp files"
        fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    waiting.join(timeout=30)
    assert not waiting.is_alive()
    with duckdb.connect(str(pub), read_only=True) as con:
        assert con.execute("SELECT v FROM indicator_values").fetchone()[0] == 2


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
    assert pd.read_parquet(tmp_path / "parquet" / "indicator_values.parquet")["v"].tolist() == [1]
    assert not any(".tmp" in p.name for p in tmp_path.rglob("*"))


def test_a_published_table_named_build_info_is_an_error(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "indicators.duckdb"
    make_build_db(build, 1)
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE TABLE published.build_info AS SELECT 1 AS x")  # deliberately clashes
    with pytest.raises(RuntimeError, match="clashes"):
        publish(build, pub)
    assert not pub.exists()
