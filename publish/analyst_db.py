"""Publish the analyst database: every table of the build database's `published` schema.

The new file is written next to the old one and swapped in with `os.replace`, so an analyst who
has the old file open read-only keeps reading a consistent file and never blocks the build. The
file is written in DuckDB storage format v1.4.0 so analysts' tools that lag DuckDB releases
(DBeaver's JDBC driver, R's duckdb package) can open it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

PUBLISHED_SCHEMA = "published"
STORAGE_VERSION = "v1.4.0"


@dataclass(frozen=True)
class PublishResult:
    path: Path
    row_counts: dict[str, int]


def published_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            """
            SELECT table_name FROM information_schema.tables
            WHERE table_catalog = ? AND table_schema = ? AND table_type = 'BASE TABLE'
            ORDER BY table_name
            """,
            [catalog, PUBLISHED_SCHEMA],
        ).fetchall()
    ]


def publish(build_db: Path, published_db: Path) -> PublishResult:
    published_db.parent.mkdir(parents=True, exist_ok=True)
    tmp = published_db.with_name(f".{published_db.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    try:
        with duckdb.connect() as con:
            con.execute("SET enable_progress_bar = false")
            con.execute("ATTACH ? AS build (READ_ONLY)", [str(build_db)])
            con.execute(f"ATTACH ? AS pub (STORAGE_VERSION '{STORAGE_VERSION}')", [str(tmp)])
            tables = published_tables(con, "build")
            if not tables:
                raise RuntimeError(
                    f"nothing to publish: schema {PUBLISHED_SCHEMA!r} of {build_db} has no tables"
                )
            for table in tables:
                con.execute(
                    f'CREATE TABLE pub.main."{table}" AS '
                    f'SELECT * FROM build.{PUBLISHED_SCHEMA}."{table}"'
                )
                counts[table] = con.execute(f'SELECT count(*) FROM pub.main."{table}"').fetchone()[
                    0
                ]
            con.execute("CHECKPOINT pub")
            con.execute("DETACH pub")
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, published_db)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return PublishResult(path=published_db, row_counts=counts)
