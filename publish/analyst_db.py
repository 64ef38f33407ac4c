"""Publish the analyst artefacts: every table of the build database's `published` schema, as one
DuckDB file and as one Parquet file per table.

Layout of the published folder (`published_db.parent`)::

    indicators.duckdb               the analyst database (+ table `build_info`, with the
                                    reference date R of the build)
    parquet -> .parquet-versions/<publish_id>     symlink; R/pandas read parquet/<table>.parquet
    .parquet-versions/<publish_id>/<table>.parquet, manifest.json
    .publish.lock                   serialises publishes (flock); empty

Readers never see a half-written artefact:

- The DuckDB file is written next to the old one and swapped in with `os.replace`, so an analyst
  who has the old file open read-only keeps reading a consistent file and never blocks the build.
- The Parquet set is written into a fresh version folder; `parquet` is a relative symlink that is
  replaced atomically (`os.replace` of a new symlink over the old one). A path through
  `parquet/` therefore resolves to either the whole old set or the whole new set, at every moment
  and after a crash at any point; there is no moment without a `parquet` folder (which a
  rename-away/rename-in of real folders would have). The previous version is kept until the next
  publish, so a reader that resolved the link just before a swap can finish reading it. A reader
  that reads several files and needs them from one publish resolves `parquet` once
  (`os.path.realpath`) or compares `publish_id` in `manifest.json`.
- Both new artefacts are written completely (and fsynced) first; only then are they swapped, the
  DuckDB file first. A crash between the two swaps leaves a new DuckDB file and the old Parquet
  set, each complete; `build_info.publish_id` and the manifest's `publish_id` tell them apart,
  and the next publish brings them together again.
- A killed publish leaves temp files (`.indicators.duckdb.<pid>.tmp[.wal]`,
  `.parquet-versions/<id>.tmp/`, `.parquet.<pid>.tmp`, or an unlinked version folder); the next
  publish removes them. It holds an exclusive lock while it does, so it never deletes the temp
  files of a publish that is still running.

The DuckDB file is written in storage format v1.4.0 so analysts' tools that lag DuckDB releases
(DBeaver's JDBC driver, R's duckdb package) can open it. The build host must be POSIX (flock,
symlinks). Windows readers of a Samba share see `parquet` as a folder as long as the server
follows symlinks inside the share (Samba's default, `follow symlinks = yes`; not tried here).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from core.database import connect
from core.files import sha256_of
from core.resources import threads

PUBLISHED_SCHEMA = "published"
STORAGE_VERSION = "v1.4.0"
BUILD_INFO_TABLE = "build_info"
PARQUET_DIR_NAME = "parquet"
VERSIONS_DIR_NAME = ".parquet-versions"
MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".publish.lock"
TMP_SUFFIX = ".tmp"


@dataclass(frozen=True)
class PublishResult:
    path: Path
    row_counts: dict[str, int]
    parquet_dir: Path
    """The stable `parquet` link; `parquet_files` and `manifest` are paths through it."""
    parquet_files: dict[str, Path]
    manifest: Path
    publish_id: str
    published_at: datetime
    """UTC, naive — as stored in `build_info.published_at_utc`."""


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


def latest_load_at(con: duckdb.DuckDBPyConnection, catalog: str) -> datetime | None:
    """When the newest accepted delivery was loaded (UTC); None for a build without a raw layer."""
    has_deliveries = con.execute(
        """
        SELECT count(*) FROM information_schema.tables
        WHERE table_catalog = ? AND table_schema = 'raw' AND table_name = 'deliveries'
        """,
        [catalog],
    ).fetchone()[0]
    if not has_deliveries:
        return None
    return con.execute(
        f"SELECT max(received_at) FROM {_ident(catalog)}.raw.deliveries WHERE verdict = 'ACCEPTED'"
    ).fetchone()[0]


def reference_date(con: duckdb.DuckDBPyConnection, catalog: str) -> date | None:
    """The build's reference date R (dbt's intermediate.int_reference_date); None without R (no
    accepted provider snapshot) or for a build database without that model."""
    exists = con.execute(
        """
        SELECT count(*) FROM information_schema.tables
        WHERE table_catalog = ? AND table_schema = 'intermediate'
          AND table_name = 'int_reference_date'
        """,
        [catalog],
    ).fetchone()[0]
    if not exists:
        return None
    row = con.execute(
        f"SELECT reference_date FROM {_ident(catalog)}.intermediate.int_reference_date"
    ).fetchone()
    return row[0] if row else None


def table_inputs(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, tuple[str, str]]:
    """Published tables that rest on a versioned input file (the needs forecast and funding
    simulator: `forecast/scenarios.yaml`), from `meta.published_inputs`: table → (file, sha256)."""
    exists = con.execute(
        """
        SELECT count(*) FROM information_schema.tables
        WHERE table_catalog = ? AND table_schema = 'meta' AND table_name = 'published_inputs'
        """,
        [catalog],
    ).fetchall()[0][0]
    if not exists:
        return {}
    rows = con.execute(
        f"SELECT table_name, input_file, input_sha256 FROM {_ident(catalog)}.meta.published_inputs"
    ).fetchall()
    return {t: (f, h) for t, f, h in rows}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fsync(path: Path) -> None:
    """Flush a file's or a directory's entries to disk (a directory: after renames in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One publish per folder at a time; the OS drops the lock when a killed publish dies."""
    with lock_path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def remove_stale_temp_files(published_db: Path, parquet_dir: Path) -> list[Path]:
    """Delete what a killed publish left behind. Call only while holding the publish lock."""
    stale = [
        *published_db.parent.glob(f".{published_db.name}.*{TMP_SUFFIX}"),
        *published_db.parent.glob(f".{published_db.name}.*{TMP_SUFFIX}.wal"),
        *parquet_dir.parent.glob(f".{parquet_dir.name}.*{TMP_SUFFIX}"),
        *(parquet_dir.parent / VERSIONS_DIR_NAME).glob(f"*{TMP_SUFFIX}"),
    ]
    for path in stale:
        _remove(path)
    return stale


def _copy_table(
    con: duckdb.DuckDBPyConnection, table: str, folder: Path
) -> tuple[int, dict[str, object]]:
    """One table into the new file attached as `pub`, then from there into its Parquet file in
    `folder` (flushed to disk): its row count and its manifest entry."""
    con.execute(
        f"CREATE TABLE pub.main.{_ident(table)} AS "
        f"SELECT * FROM build.{PUBLISHED_SCHEMA}.{_ident(table)}"
    )
    rows = con.execute(f"SELECT count(*) FROM pub.main.{_ident(table)}").fetchall()[0][0]
    path = folder / f"{table}.parquet"
    con.sql(f"SELECT * FROM pub.main.{_ident(table)}").write_parquet(str(path))
    _fsync(path)
    entry = {
        "table": table,
        "file": path.name,
        "rows": rows,
        "bytes": path.stat().st_size,
        "sha256": sha256_of(path),
    }
    return rows, entry


def _write_tables(
    con: duckdb.DuckDBPyConnection, tables: list[str], tmp: Path, folder: Path
) -> tuple[dict[str, int], list[dict[str, object]]]:
    """Copy the tables into a new file attached as `pub` (left attached) and each into its
    Parquet file in `folder` (which must not exist): the row counts and the manifest's entries,
    in the order of `tables`.

    The tables are copied on the warehouse's threads (`core.resources.threads`), each on a
    cursor of its own: one after the other, the publish step kept 1.2 of 2 cores busy (the
    bench). `publish` alone on the build database of a `bw` correction (15 tables, 2 cores,
    2026-12-06, alternating with the code before): 1.52–1.64 s one table after the other,
    1.09–1.31 s on two threads, the same CPU time; the same published tables
    (`bench.compare_published`), the Parquet files byte for byte."""
    con.execute(f"ATTACH ? AS pub (STORAGE_VERSION '{STORAGE_VERSION}')", [str(tmp)])
    folder.mkdir(parents=True)

    def copy(table: str) -> tuple[int, dict[str, object]]:
        with con.cursor() as cursor:
            return _copy_table(cursor, table, folder)

    with ThreadPoolExecutor(max_workers=threads(), thread_name_prefix="publish") as pool:
        copied = list(pool.map(copy, tables))
    counts = {table: rows for table, (rows, _) in zip(tables, copied, strict=True)}
    return counts, [entry for _, entry in copied]


def _write_build_info(
    con: duckdb.DuckDBPyConnection,
    counts: dict[str, int],
    info: tuple[str, datetime, datetime | None, date | None],
) -> None:
    """The table `build_info` in `pub`, then `pub` written out (CHECKPOINT)."""
    publish_id, published_at, loaded_at, reference = info
    con.execute(
        f"""
        CREATE TABLE pub.main.{BUILD_INFO_TABLE} (
            table_name         VARCHAR NOT NULL,  -- a table of this database
            row_count          BIGINT NOT NULL,
            publish_id         VARCHAR NOT NULL,  -- same as in parquet/{MANIFEST_NAME}
            published_at_utc   TIMESTAMP NOT NULL,
            latest_load_at_utc TIMESTAMP,         -- newest accepted delivery in the build
            reference_date     DATE,              -- R: nothing after it is counted (NULL: no R)
            input_file         VARCHAR,           -- versioned input the table rests on, if any
            input_sha256       VARCHAR            -- e.g. forecast/scenarios.yaml and its hash
        )
        """
    )
    inputs = table_inputs(con, "build")
    con.executemany(
        f"INSERT INTO pub.main.{BUILD_INFO_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [t, n, publish_id, published_at, loaded_at, reference, *inputs.get(t, (None, None))]
            for t, n in counts.items()
        ],
    )
    con.execute("CHECKPOINT pub")


def _write_manifest(
    folder: Path,
    entries: list[dict[str, object]],
    info: tuple[str, datetime, datetime | None, date | None],
) -> None:
    """The Parquet set's manifest, then the folder flushed to disk."""
    publish_id, published_at, loaded_at, reference = info
    manifest = {
        "publish_id": publish_id,
        "published_at_utc": published_at.isoformat() + "Z",
        "latest_load_at_utc": None if loaded_at is None else loaded_at.isoformat() + "Z",
        "reference_date": None if reference is None else reference.isoformat(),
        "tables": entries,
    }
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    _fsync(folder / MANIFEST_NAME)
    _fsync(folder)


def _swap_parquet_link(parquet_dir: Path, version: Path) -> Path | None:
    """Point `parquet_dir` at `version` atomically; return the version it pointed at before."""
    previous = parquet_dir.resolve() if parquet_dir.is_symlink() else None
    if parquet_dir.is_dir() and not parquet_dir.is_symlink():
        # A real folder cannot be replaced by a symlink in one step (someone copied one in).
        os.rename(parquet_dir, version.with_name(f"{version.name}-replaced-folder"))
    link = parquet_dir.with_name(f".{parquet_dir.name}.{os.getpid()}{TMP_SUFFIX}")
    link.unlink(missing_ok=True)
    os.symlink(version.relative_to(parquet_dir.parent), link, target_is_directory=True)
    os.replace(link, parquet_dir)
    return previous


def publish(build_db: Path, published_db: Path, parquet_dir: Path | None = None) -> PublishResult:
    """Publish the build's `published` schema as `published_db` and as Parquet in `parquet_dir`
    (default: `parquet` next to `published_db`). Old artefacts stay intact until both new ones
    are complete; see the module docstring."""
    published_db.parent.mkdir(parents=True, exist_ok=True)
    parquet_dir = parquet_dir or published_db.parent / PARQUET_DIR_NAME
    versions = parquet_dir.parent / VERSIONS_DIR_NAME
    versions.mkdir(parents=True, exist_ok=True)
    published_at = datetime.now(UTC).replace(tzinfo=None)
    publish_id = f"{published_at:%Y%m%dT%H%M%S%f}Z"
    version = versions / publish_id
    tmp_db = published_db.with_name(f".{published_db.name}.{os.getpid()}{TMP_SUFFIX}")
    tmp_version = version.with_name(f"{version.name}{TMP_SUFFIX}")
    with _exclusive(published_db.parent / LOCK_NAME):
        remove_stale_temp_files(published_db, parquet_dir)
        try:
            with connect() as con:
                con.execute("SET enable_progress_bar = false")
                con.execute("ATTACH ? AS build (READ_ONLY)", [str(build_db)])
                tables = published_tables(con, "build")
                if not tables:
                    raise RuntimeError(
                        f"nothing to publish: schema {PUBLISHED_SCHEMA!r} of {build_db} has "
                        "no tables"
                    )
                if BUILD_INFO_TABLE in tables:
                    raise RuntimeError(
                        f"{PUBLISHED_SCHEMA}.{BUILD_INFO_TABLE} in {build_db} clashes with the "
                        "table publish() adds; rename the model"
                    )
                info = (
                    publish_id,
                    published_at,
                    latest_load_at(con, "build"),
                    reference_date(con, "build"),
                )
                counts, entries = _write_tables(con, tables, tmp_db, tmp_version)
                _write_build_info(con, counts, info)
                _write_manifest(tmp_version, entries, info)
                con.execute("DETACH pub")
            _fsync(tmp_db)
            os.rename(tmp_version, version)  # complete, but not visible until linked
            _fsync(versions)
            # Swap: both artefacts are complete on disk.
            os.replace(tmp_db, published_db)
            previous = _swap_parquet_link(parquet_dir, version)
            _fsync(published_db.parent)
        finally:
            for leftover in (tmp_db, Path(f"{tmp_db}.wal"), tmp_version):
                _remove(leftover)
        # Keep the version a reader may still be in; older ones and unlinked orphans go.
        keep = {version.resolve(), previous}
        for old in versions.iterdir():
            if old.resolve() not in keep and not old.name.endswith(TMP_SUFFIX):
                _remove(old)
    return PublishResult(
        path=published_db,
        row_counts=counts,
        parquet_dir=parquet_dir,
        parquet_files={t: parquet_dir / f"{t}.parquet" for t in counts},
        manifest=parquet_dir / MANIFEST_NAME,
        publish_id=publish_id,
        published_at=published_at,
    )
