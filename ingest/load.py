"""Load the landing folder into the raw layer: one verdict per file, nothing lost.

Per file, in order of `stand` then name (so older snapshots are loaded before newer ones):
name check → duplicate check (same bytes accepted before) → read → type parsing → row verdicts →
pseudonymise and insert as one load batch in one transaction → move the file to `archive/`
(accepted, duplicate) or `quarantine/` (rejected). Every delivered row is either loaded or recorded
in `raw.quarantined_rows` with its line, column and rule.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from ingest import pseudonymise, raw
from ingest.contract import EXTRACTS, MAX_BAD_ROW_SHARE, Column, ColumnType, Extract
from ingest.readers import FileName, parse_columns, parse_file_name, provider_hint, read_table
from ingest.rejections import FileRejection, RejectReason

ACCEPTED = "ACCEPTED"
REJECTED = "REJECTED"
DUPLICATE = "DUPLICATE"
UNASSIGNED_PROVIDER = "_unzugeordnet"
"""Folder for files whose name does not tell which provider sent them."""


@dataclass(frozen=True)
class FileVerdict:
    delivery_id: int
    file_name: str
    provider: str | None
    extract: str | None
    stand: date | None
    verdict: str
    reason: str | None = None
    message_de: str | None = None
    message_en: str | None = None
    rows_delivered: int | None = None
    rows_loaded: int = 0
    rows_quarantined: int = 0
    extra_columns: tuple[str, ...] = ()
    stored_as: str = ""


@dataclass
class IngestResult:
    started_at: datetime
    verdicts: list[FileVerdict] = field(default_factory=list)

    def by_verdict(self, verdict: str) -> list[FileVerdict]:
        return [v for v in self.verdicts if v.verdict == verdict]

    @property
    def providers(self) -> list[str]:
        return sorted({v.provider or UNASSIGNED_PROVIDER for v in self.verdicts})


@dataclass(frozen=True)
class Folders:
    landing: Path
    archive: Path
    quarantine: Path
    home: Path


def landing_files(landing: Path) -> list[Path]:
    """Files waiting in the landing folder, oldest snapshot first; hidden/partial files skipped."""
    files = [
        p
        for p in landing.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith((".part", ".tmp"))
    ]

    def order(p: Path) -> tuple[str, str]:
        try:
            return (parse_file_name(p).stand.isoformat(), p.name)
        except FileRejection:
            return ("", p.name)

    return sorted(files, key=order)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _target(src: Path, folder: Path, sha: str) -> Path:
    """Where a processed file is kept; never overwrites a different file of the same name."""
    plain = folder / src.name
    if not plain.exists() or sha256_of(plain) == sha:
        return plain
    return folder / f"{src.stem}.{sha[:12]}{src.suffix}"


def _move(src: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():  # the very same bytes are already kept there
        src.unlink()
    else:
        shutil.move(src, target)


def _next_delivery_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT coalesce(max(delivery_id), 0) + 1 FROM raw.deliveries").fetchone()[0]


def _insert_delivery(
    con: duckdb.DuckDBPyConnection, v: FileVerdict, sha: str, received_at: datetime, extra: dict
) -> None:
    con.execute(
        """
        INSERT INTO raw.deliveries VALUES
            (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            v.delivery_id, v.file_name, sha, v.provider, v.extract, v.stand, received_at,
            v.verdict, v.reason, v.message_de, v.message_en, v.rows_delivered, v.rows_loaded,
            v.rows_quarantined, extra.get("encoding"), extra.get("delimiter"),
            list(v.extra_columns), v.stored_as,
        ],
    )  # fmt: skip


def _select_list(ex: Extract) -> str:
    """Columns for the raw insert: ids pseudonymised in SQL, everything else cast to its type."""

    def expr(c: Column) -> str:
        if c.type is ColumnType.ID:
            return f"imw_pseudonym(?, {c.name})"
        return f"CAST({c.raw_name} AS {c.duckdb_type})"

    return ", ".join(expr(c) for c in ex.columns)


def _insert_rows(
    con: duckdb.DuckDBPyConnection, ex: Extract, frame: pl.DataFrame, batch_id: int, provider: str
) -> None:
    n_ids = sum(c.type is ColumnType.ID for c in ex.columns)
    con.register("incoming", frame.to_arrow())
    try:
        con.execute(
            f"INSERT INTO raw.{ex.raw_table} SELECT ?, ?, _line, {_select_list(ex)} FROM incoming",
            [batch_id, provider, *([provider] * n_ids)],
        )
    finally:
        con.unregister("incoming")


def _quarantine_rows(
    con: duckdb.DuckDBPyConnection, errors: pl.DataFrame, delivery_id: int, fn: FileName
) -> None:
    if errors.is_empty():
        return
    rows = errors.select(
        pl.lit(delivery_id, pl.Int64).alias("delivery_id"),
        pl.lit(fn.name).alias("file_name"),
        pl.lit(fn.provider).alias("provider"),
        pl.lit(fn.extract).alias("extract"),
        pl.col("_line").cast(pl.Int64).alias("line"),
        pl.col("column").alias("column_name"),
        pl.col("rule"),
        pl.col("value").cast(pl.Utf8),
    )
    con.register("quarantined", rows.to_arrow())
    try:
        con.execute("INSERT INTO raw.quarantined_rows SELECT * FROM quarantined")
    finally:
        con.unregister("quarantined")


def _rejected(
    delivery_id: int, name: str, fn: FileName | None, err: FileRejection, **kw
) -> FileVerdict:
    return FileVerdict(
        delivery_id=delivery_id,
        file_name=name,
        provider=fn.provider if fn else provider_hint(name),
        extract=fn.extract if fn else None,
        stand=fn.stand if fn else None,
        verdict=REJECTED,
        reason=err.reason.name,
        message_de=err.message_de,
        message_en=err.message_en,
        **kw,
    )


def ingest_file(
    con: duckdb.DuckDBPyConnection, path: Path, folders: Folders, received_at: datetime
) -> FileVerdict:
    """Decide about one delivered file, load it if accepted, and move it out of landing."""
    sha = sha256_of(path)
    delivery_id = _next_delivery_id(con)
    fn: FileName | None = None
    extra: dict = {}
    try:
        fn = parse_file_name(path)
        duplicate = con.execute(
            "SELECT file_name FROM raw.deliveries WHERE sha256 = ? AND verdict = ? LIMIT 1",
            [sha, ACCEPTED],
        ).fetchone()
        if duplicate:
            verdict = FileVerdict(
                delivery_id, path.name, fn.provider, fn.extract, fn.stand, DUPLICATE,
                message_de=f"identisch mit bereits angenommener Datei {duplicate[0]}; "
                "nichts geändert",
                message_en=f"identical to already accepted file {duplicate[0]}; nothing changed",
            )  # fmt: skip
            folder = folders.archive / fn.provider
            return _finish(con, verdict, path, folders, folder, sha, received_at, extra)

        ex = EXTRACTS[fn.extract]
        table = read_table(path, ex)
        extra = {"encoding": table.encoding, "delimiter": table.delimiter}
        parsed = parse_columns(table, ex, fn.stand)
        bad_lines = parsed.errors.get_column("_line").unique()
        n_bad = bad_lines.len()
        if table.rows_delivered and n_bad / table.rows_delivered > MAX_BAD_ROW_SHARE:
            raise FileRejection(
                RejectReason.TOO_MANY_BAD_ROWS,
                {"bad_rows": n_bad, "rows": table.rows_delivered, "limit": MAX_BAD_ROW_SHARE},
            )
        good = parsed.frame.filter(~pl.col("_line").is_in(bad_lines.implode()))
        verdict = FileVerdict(
            delivery_id, path.name, fn.provider, fn.extract, fn.stand, ACCEPTED,
            rows_delivered=table.rows_delivered, rows_loaded=good.height,
            rows_quarantined=n_bad, extra_columns=tuple(table.extra_columns),
        )  # fmt: skip
        target = _target(path, folders.archive / fn.provider, sha)
        verdict = replace(verdict, stored_as=str(target.relative_to(folders.home)))
        con.execute("BEGIN TRANSACTION")
        try:
            _insert_rows(con, ex, good, delivery_id, fn.provider)
            _quarantine_rows(con, parsed.errors, delivery_id, fn)
            _insert_delivery(con, verdict, sha, received_at, extra)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        # Committed first, moved second: after a crash in between the file is still in landing
        # and the next run sees a duplicate of what was committed — nothing lost or loaded twice.
        _move(path, target)
        return verdict
    except FileRejection as err:
        rows = err.detail.get("rows") if isinstance(err.detail, dict) else None
        verdict = _rejected(delivery_id, path.name, fn, err, rows_delivered=rows)
        folder = folders.quarantine / (verdict.provider or UNASSIGNED_PROVIDER)
        return _finish(con, verdict, path, folders, folder, sha, received_at, extra)


def _finish(
    con: duckdb.DuckDBPyConnection,
    verdict: FileVerdict,
    path: Path,
    folders: Folders,
    folder: Path,
    sha: str,
    received_at: datetime,
    extra: dict,
) -> FileVerdict:
    """Record a verdict that loads no rows, then move the file to where it is kept."""
    target = _target(path, folder, sha)
    verdict = replace(verdict, stored_as=str(target.relative_to(folders.home)))
    _insert_delivery(con, verdict, sha, received_at, extra)
    _move(path, target)
    return verdict


def ingest_landing(
    build_db: Path, folders: Folders, key: bytes, files: Iterable[Path] | None = None
) -> IngestResult:
    """Process every file in the landing folder (or the given files) into the raw layer."""
    result = IngestResult(started_at=datetime.now(UTC).replace(tzinfo=None))
    build_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(build_db)) as con:
        con.execute("SET enable_progress_bar = false")
        # One transaction per file keeps every file atomic; checkpointing after each of them
        # (DuckDB's default threshold is 16 MB of WAL) cost a third of the ingest time at BW scale.
        con.execute("SET checkpoint_threshold = '1GB'")
        raw.ensure_schema(con)
        pseudonymise.install(con, key)
        for path in files if files is not None else landing_files(folders.landing):
            result.verdicts.append(ingest_file(con, path, folders, result.started_at))
        con.execute("CHECKPOINT")
    return result
