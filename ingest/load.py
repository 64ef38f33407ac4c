"""Load the landing folder into the raw layer: one verdict per file, nothing lost.

1. Every file is hashed and its name checked; byte-identical repeats of an accepted file are
   recorded as duplicates and change nothing; unreadable files are rejected whole.
2. Extracts are then processed in reference order (a case's person before the case, a goal's plan
   before the goal …, derived from the contract). All files of one extract are read and typed,
   concatenated, their ids pseudonymised in DuckDB (HMAC, see `ingest.pseudonymise`), their
   references resolved against what each provider holds after this run, and validated by the
   extract gate in ONE call (Great Expectations, `expectations.extract_gate`).
3. Per file: rows failing a type or gate rule are quarantined with line, column and rule; more than
   5 % bad rows reject the whole file (the provider keeps its previous snapshot); otherwise the good
   rows are inserted as one load batch — rows, quarantine and delivery record in one transaction —
   and the file moves to `archive/` (accepted, duplicate) or `quarantine/` (rejected).
Every delivered row is either loaded or recorded in `raw.quarantined_rows`; the counts add up.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from graphlib import TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from ingest import pseudonymise, raw
from ingest.contract import EXTRACTS, MAX_BAD_ROW_SHARE, ColumnType, Extract
from ingest.readers import (
    FileName,
    ParsedTable,
    RawTable,
    parse_columns,
    parse_file_name,
    provider_hint,
    read_table,
    readable_row_count,
)
from ingest.rejections import FileRejection, RejectReason

if TYPE_CHECKING:
    from expectations.extract_gate import GateResult

ACCEPTED = "ACCEPTED"
REJECTED = "REJECTED"
DUPLICATE = "DUPLICATE"
UNASSIGNED_PROVIDER = "_unzugeordnet"
"""Folder for files whose name does not tell which provider sent them."""

ERROR_COLUMNS = {"_file": pl.Int64, "_line": pl.Int64, "column": pl.Utf8, "rule": pl.Utf8,
                 "value": pl.Utf8}  # fmt: skip


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
    gate_results: list[GateResult] = field(default_factory=list)
    unchecked_references: list[str] = field(default_factory=list)

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


@dataclass
class Delivery:
    """A file that passed the name and duplicate checks and waits for its extract's turn."""

    path: Path
    name: FileName
    sha: str
    delivery_id: int


@dataclass
class TypedFile:
    delivery: Delivery
    table: RawTable
    parsed: ParsedTable


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


def load_order() -> list[str]:
    """Extracts ordered so that every referenced extract is loaded before the ones citing it."""
    graph = {
        name: {c.ref.extract for c in ex.columns if c.ref is not None}
        for name, ex in EXTRACTS.items()
    }
    return list(TopologicalSorter(graph).static_order())


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


class _Recorder:
    """Writes delivery records and moves files; the one place verdicts become durable."""

    def __init__(self, con: duckdb.DuckDBPyConnection, folders: Folders, received_at: datetime):
        self.con = con
        self.folders = folders
        self.received_at = received_at
        self.next_id = con.execute(
            "SELECT coalesce(max(delivery_id), 0) + 1 FROM raw.deliveries"
        ).fetchone()[0]

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def folder_for(self, verdict: FileVerdict) -> Path:
        base = self.folders.quarantine if verdict.verdict == REJECTED else self.folders.archive
        return base / (verdict.provider or UNASSIGNED_PROVIDER)

    def insert(self, v: FileVerdict, sha: str, extra: dict) -> None:
        self.con.execute(
            "INSERT INTO raw.deliveries VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                v.delivery_id, v.file_name, sha, v.provider, v.extract, v.stand, self.received_at,
                v.verdict, v.reason, v.message_de, v.message_en, v.rows_delivered, v.rows_loaded,
                v.rows_quarantined, extra.get("encoding"), extra.get("delimiter"),
                list(v.extra_columns), v.stored_as,
            ],
        )  # fmt: skip

    def finish(self, verdict: FileVerdict, path: Path, sha: str, extra: dict | None = None,
               load: Callable[[], None] | None = None) -> FileVerdict:  # fmt: skip
        """Record (and load) in one transaction, then move the file where it is kept.

        Committed first, moved second: after a crash in between the file is still in landing and
        the next run sees a duplicate of what was committed — nothing is lost or loaded twice.
        """
        target = _target(path, self.folder_for(verdict), sha)
        verdict = replace(verdict, stored_as=str(target.relative_to(self.folders.home)))
        self.con.execute("BEGIN TRANSACTION")
        try:
            if load is not None:
                load()
            self.insert(verdict, sha, extra or {})
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        _move(path, target)
        return verdict


def _rejection(delivery_id: int, name: str, fn: FileName | None, err: FileRejection,
               rows: int | None = None) -> FileVerdict:  # fmt: skip
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
        rows_delivered=rows,
    )


def _screen(
    con: duckdb.DuckDBPyConnection, rec: _Recorder, paths: Iterable[Path]
) -> tuple[list[FileVerdict], list[Delivery]]:
    """Name and duplicate checks for every file; returns final verdicts and files to load."""
    verdicts: list[FileVerdict] = []
    pending: list[Delivery] = []
    seen: dict[str, str] = {}
    for path in paths:
        sha = sha256_of(path)
        delivery_id = rec.new_id()
        try:
            fn = parse_file_name(path)
        except FileRejection as err:
            verdict = _rejection(delivery_id, path.name, None, err)
            verdicts.append(rec.finish(verdict, path, sha))
            continue
        earlier = seen.get(sha) or _accepted_file_with(con, sha)
        if earlier:
            verdict = FileVerdict(
                delivery_id, path.name, fn.provider, fn.extract, fn.stand, DUPLICATE,
                message_de=f"identisch mit bereits gelieferter Datei {earlier}; nichts geändert",
                message_en=f"identical to already delivered file {earlier}; nothing changed",
            )  # fmt: skip
            verdicts.append(rec.finish(verdict, path, sha))
            continue
        seen[sha] = path.name
        pending.append(Delivery(path, fn, sha, delivery_id))
    return verdicts, pending


def _accepted_file_with(con: duckdb.DuckDBPyConnection, sha: str) -> str | None:
    row = con.execute(
        "SELECT file_name FROM raw.deliveries WHERE sha256 = ? AND verdict = ? LIMIT 1",
        [sha, ACCEPTED],
    ).fetchone()
    return row[0] if row else None


def _typed_frame(files: list[TypedFile]) -> pl.DataFrame:
    """All files of one extract as one frame, with `_file` (delivery id) and `_provider`."""
    return pl.concat(
        [
            f.parsed.frame.with_columns(
                pl.lit(f.delivery.delivery_id, pl.Int64).alias("_file"),
                pl.lit(f.delivery.name.provider).alias("_provider"),
                pl.col("_line").cast(pl.Int64),
            )
            for f in files
        ],
        how="vertical_relaxed",
    )


def _pseudonymised(
    con: duckdb.DuckDBPyConnection, ex: Extract, frame: pl.DataFrame, unchecked: frozenset[str]
) -> pl.DataFrame:
    """Ids replaced by their HMAC pseudonyms, and `_ref_<column>` for every reference column.

    A reference holds when the referenced id exists in what the provider holds after this run:
    the current snapshot of the referenced extract, which this run has already loaded (see
    `load_order`). NULL where the referencing id is empty (optional references).
    """
    columns = []
    joins = []
    for c in ex.columns:
        if c.type is ColumnType.ID:
            columns.append(f"imw_pseudonym(i._provider, i.{c.name}) AS {c.name}")
        else:
            columns.append(f"i.{c.raw_name}")
        if c.ref is not None and c.ref.extract in unchecked:
            columns.append(f"CAST(NULL AS BOOLEAN) AS _ref_{c.name}")
        elif c.ref is not None:
            alias = f"ref_{c.name}"
            joins.append(
                f"LEFT JOIN (SELECT DISTINCT _provider, {c.ref.column} AS id "
                f"FROM raw.{EXTRACTS[c.ref.extract].raw_table}_current) AS {alias} "
                f"ON {alias}._provider = i._provider "
                f"AND {alias}.id = imw_pseudonym(i._provider, i.{c.name})"
            )
            columns.append(
                f"CASE WHEN i.{c.name} IS NOT NULL THEN {alias}.id IS NOT NULL END AS _ref_{c.name}"
            )
    con.register("incoming", frame.to_arrow())
    try:
        return con.sql(
            f"SELECT i._file, i._provider, i._line, {', '.join(columns)} "
            f"FROM incoming AS i {' '.join(joins)}"
        ).pl()
    finally:
        con.unregister("incoming")


def _insert_rows(con: duckdb.DuckDBPyConnection, ex: Extract, rows: pl.DataFrame,
                 batch_id: int) -> None:  # fmt: skip
    columns = ", ".join(f"CAST({c.raw_name} AS {c.duckdb_type})" for c in ex.columns)
    con.register("good_rows", rows.to_arrow())
    try:
        con.execute(
            f"INSERT INTO raw.{ex.raw_table} SELECT ?, _provider, _line, {columns} FROM good_rows",
            [batch_id],
        )
    finally:
        con.unregister("good_rows")


def _quarantine_rows(con: duckdb.DuckDBPyConnection, errors: pl.DataFrame, fn: FileName) -> None:
    if errors.is_empty():
        return
    rows = errors.select(
        pl.col("_file").alias("delivery_id"),
        pl.lit(fn.name).alias("file_name"),
        pl.lit(fn.provider).alias("provider"),
        pl.lit(fn.extract).alias("extract"),
        pl.col("_line").alias("line"),
        pl.col("column").alias("column_name"),
        pl.col("rule"),
        pl.col("value"),
    )
    con.register("quarantined", rows.to_arrow())
    try:
        con.execute("INSERT INTO raw.quarantined_rows SELECT * FROM quarantined")
    finally:
        con.unregister("quarantined")


def _type_errors(f: TypedFile) -> pl.DataFrame:
    return f.parsed.errors.select(
        pl.lit(f.delivery.delivery_id, pl.Int64).alias("_file"),
        pl.col("_line").cast(pl.Int64),
        pl.col("column").cast(pl.Utf8),
        pl.col("rule").cast(pl.Utf8),
        pl.col("value").cast(pl.Utf8),
    )


def _read(rec: _Recorder, d: Delivery, ex: Extract) -> TypedFile | FileVerdict:
    try:
        table = read_table(d.path, ex)
        return TypedFile(d, table, parse_columns(table, ex, d.name.stand))
    except FileRejection as err:
        # DQ02 counts a file rejected whole with its rows, as far as they can be read
        rows = readable_row_count(d.path, ex)
        return rec.finish(_rejection(d.delivery_id, d.path.name, d.name, err, rows), d.path, d.sha)


GATE_CHUNK_ROWS = 1_000_000
"""Files of one extract are validated together up to this many rows: few gate calls, bounded
memory. Every rule is per file or checked against the database, so chunking at file boundaries
changes no verdict."""


def _chunks(files: Iterable[TypedFile]) -> Iterable[list[TypedFile]]:
    chunk: list[TypedFile] = []
    rows = 0
    for f in files:
        chunk.append(f)
        rows += f.parsed.frame.height
        if rows >= GATE_CHUNK_ROWS:
            yield chunk
            chunk, rows = [], 0
    if chunk:
        yield chunk


def _with_pseudonym_values(errors: pl.DataFrame, frame: pl.DataFrame, ex: Extract) -> pl.DataFrame:
    """Errors on id columns show the id's pseudonym (never the clear id), for operators."""
    ids = [c.name for c in ex.columns if c.type is ColumnType.ID]
    if not ids or errors.is_empty():
        return errors
    pseudonyms = (
        frame.join(errors.select("_file", "_line").unique(), on=["_file", "_line"], how="semi")
        .select("_file", "_line", *ids)
        .unpivot(index=["_file", "_line"], variable_name="column", value_name="pseudonym")
    )
    return (
        errors.join(pseudonyms, on=["_file", "_line", "column"], how="left")
        .with_columns(pl.coalesce("value", "pseudonym").alias("value"))
        .drop("pseudonym")
    )


def _gate_errors(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, ex: Extract,
                 files: list[TypedFile], result: IngestResult) -> pl.DataFrame:  # fmt: skip
    """Row errors of the extract gate (Great Expectations), minus cells whose type already failed.

    A cell that could not be typed is empty by the time the gate sees it; its `required` error
    would only repeat the type error the clerk gets anyway.
    """
    from expectations.extract_gate import validate_extract

    stands = {f.delivery.delivery_id: f.delivery.name.stand for f in files}
    gate = validate_extract(frame, ex, stand_by_file=stands)
    result.gate_results.append(gate)
    type_errors = pl.concat([_type_errors(f) for f in files], how="vertical")
    gate_errors = gate.errors.select(list(ERROR_COLUMNS)).cast(ERROR_COLUMNS)
    gate_errors = gate_errors.join(
        type_errors.select("_file", "_line", "column").unique(),
        on=["_file", "_line", "column"],
        how="anti",
    )
    return _with_pseudonym_values(pl.concat([type_errors, gate_errors], how="vertical"), frame, ex)


def _load_extract(
    con: duckdb.DuckDBPyConnection, rec: _Recorder, ex: Extract, deliveries: list[Delivery],
    result: IngestResult, unchecked: frozenset[str],
) -> list[FileVerdict]:  # fmt: skip
    verdicts: list[FileVerdict] = []

    def readable() -> Iterable[TypedFile]:
        for d in deliveries:
            outcome = _read(rec, d, ex)
            if isinstance(outcome, FileVerdict):
                verdicts.append(outcome)
            else:
                yield outcome

    for files in _chunks(readable()):
        frame = _pseudonymised(con, ex, _typed_frame(files), unchecked)
        errors = _gate_errors(con, frame, ex, files, result)
        verdicts += [_decide_and_load(con, rec, ex, f, frame, errors) for f in files]
    return verdicts


def _decide_and_load(
    con: duckdb.DuckDBPyConnection, rec: _Recorder, ex: Extract, f: TypedFile,
    frame: pl.DataFrame, errors: pl.DataFrame,
) -> FileVerdict:  # fmt: skip
    d, table = f.delivery, f.table
    mine = errors.filter(pl.col("_file") == d.delivery_id).sort("_line", "column", "rule")
    bad_lines = mine.get_column("_line").unique()
    n_bad = bad_lines.len()
    extra = {"encoding": table.encoding, "delimiter": table.delimiter}
    if table.rows_delivered and n_bad / table.rows_delivered > MAX_BAD_ROW_SHARE:
        err = FileRejection(
            RejectReason.TOO_MANY_BAD_ROWS,
            {"bad_rows": n_bad, "rows": table.rows_delivered, "limit": MAX_BAD_ROW_SHARE},
        )
        verdict = _rejection(d.delivery_id, d.path.name, d.name, err, table.rows_delivered)
        verdict = replace(verdict, rows_quarantined=n_bad, extra_columns=tuple(table.extra_columns))
        # The rows that broke the file are reported too, so the clerk knows what to fix.
        return rec.finish(
            verdict, d.path, d.sha, extra, lambda: _quarantine_rows(con, mine, d.name)
        )
    good = frame.filter(
        (pl.col("_file") == d.delivery_id) & ~pl.col("_line").is_in(bad_lines.implode())
    )
    verdict = FileVerdict(
        d.delivery_id, d.path.name, d.name.provider, d.name.extract, d.name.stand, ACCEPTED,
        rows_delivered=table.rows_delivered, rows_loaded=good.height, rows_quarantined=n_bad,
        extra_columns=tuple(table.extra_columns),
    )  # fmt: skip

    def load() -> None:
        _insert_rows(con, ex, good, d.delivery_id)
        _quarantine_rows(con, mine, d.name)

    return rec.finish(verdict, d.path, d.sha, extra, load)


def ingest_landing(
    build_db: Path,
    folders: Folders,
    key: bytes,
    files: Iterable[Path] | None = None,
    *,
    precheck: bool = False,
) -> IngestResult:
    """Process every file in the landing folder (or the given files) into the raw layer.

    `precheck` (for `imw check`, on a throw-away database): references to an extract that is not
    among the files cannot be resolved, so they are not checked — and the result says so.
    """
    result = IngestResult(started_at=datetime.now(UTC).replace(tzinfo=None))
    build_db.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(build_db)) as con:
        con.execute("SET enable_progress_bar = false")
        # One transaction per file keeps every file atomic; checkpointing after each of them
        # (DuckDB's default threshold is 16 MB of WAL) cost a third of the ingest time at BW scale.
        con.execute("SET checkpoint_threshold = '1GB'")
        raw.ensure_schema(con)
        pseudonymise.install(con, key)
        rec = _Recorder(con, folders, result.started_at)
        paths = files if files is not None else landing_files(folders.landing)
        verdicts, pending = _screen(con, rec, paths)
        result.verdicts += verdicts
        present = {d.name.extract for d in pending}
        unchecked = frozenset(EXTRACTS) - present if precheck else frozenset()
        result.unchecked_references = sorted(
            f"{name}.{c.name} → {c.ref.extract}"
            for name in present
            for c in EXTRACTS[name].columns
            if c.ref is not None and c.ref.extract in unchecked
        )
        for name in load_order():
            mine = [d for d in pending if d.name.extract == name]
            if mine:
                result.verdicts += _load_extract(con, rec, EXTRACTS[name], mine, result, unchecked)
        con.execute("CHECKPOINT")
    return result
