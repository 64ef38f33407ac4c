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
   rows are inserted as one load batch. The files validated together are written together — their
   rows, quarantined rows and delivery records in one transaction — and then each file moves to
   `archive/` (accepted, duplicate) or `quarantine/` (rejected).
Every delivered row is either loaded or recorded in `raw.quarantined_rows`; the counts add up.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import partial
from graphlib import TopologicalSorter
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from contract.spec import (
    ECHO_MAX_CHARS,
    EXTRACTS,
    MAX_BAD_ROW_SHARE,
    Column,
    ColumnType,
    Extract,
)
from core import progress
from core.database import connect
from core.files import sha256_of
from core.read_ahead import read_ahead
from expectations import extract_gate, gx_runtime
from expectations.extract_gate import GateResult
from ingest import pseudonymise, raw
from ingest.pseudonymise import id_sql_from_text
from ingest.readers import (
    FIELD_COUNT_RULES,
    FileName,
    RawTable,
    check_stand,
    parse_file_name,
    parse_many,
    provider_hint,
    read_tables,
    readable_row_count,
)
from ingest.rejections import FileRejection, RejectReason

if TYPE_CHECKING:
    from core.settings import Settings

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


@dataclass(frozen=True)
class Shrinkage:
    """An accepted snapshot that holds none or less than half of the rows of the one before."""

    provider: str
    extract: str
    file_name: str
    rows: int
    previous_rows: int
    previous_file: str


@dataclass
class IngestResult:
    started_at: datetime
    verdicts: list[FileVerdict] = field(default_factory=list)
    gate_results: list[GateResult] = field(default_factory=list)
    unchecked_references: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    """Entries of the landing folder that were left alone (hidden files, folders, partial
    uploads), for the operator: they are no delivery until they get a proper name."""
    shrunk: list[Shrinkage] = field(default_factory=list)

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

    @classmethod
    def of(cls, settings: Settings) -> Folders:
        """The folders of a home's settings."""
        return cls(settings.landing, settings.archive_dir, settings.quarantine_dir, settings.home)


@dataclass
class Delivery:
    """A file that passed the name and duplicate checks and waits for its extract's turn."""

    path: Path
    name: FileName
    sha: str
    delivery_id: int


@dataclass
class TypedFile:
    """A delivery read into strings; typed with the other files of its chunk (`_typed_frame`)."""

    delivery: Delivery
    table: RawTable


def _left_alone(p: Path) -> bool:
    """Hidden entries and partial uploads (`.part`, `.tmp`): not (yet) a delivery."""
    return p.name.startswith(".") or p.name.endswith((".part", ".tmp"))


def ignored_entries(landing: Path) -> list[str]:
    """What sits in the landing folder but is not processed: hidden files, partial uploads and
    folders. Named in the operator report so nothing waits there unnoticed."""
    out = []
    for p in sorted(landing.iterdir()):
        if p.is_dir() and not p.is_symlink():
            out.append(f"{p.name}/ (folder)")
        elif _left_alone(p):
            out.append(f"{p.name} (hidden or partial upload)")
    return out


def landing_files(landing: Path) -> list[Path]:
    """Entries waiting in the landing folder, oldest snapshot first; hidden/partial files and
    folders skipped. Symbolic links and other non-regular files are included: they get a
    verdict (rejected) without being read."""
    files = [
        p for p in landing.iterdir() if not _left_alone(p) and (p.is_symlink() or not p.is_dir())
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


def _target(src: Path, folder: Path, sha: str) -> Path:
    """Where a processed file is kept; never overwrites a different file of the same name."""
    plain = folder / src.name
    if not plain.exists() or sha256_of(plain) == sha:
        return plain
    return folder / f"{src.stem}.{sha[:12]}{src.suffix}"


def _move(src: Path, target: Path) -> None:
    if src.is_symlink() or not src.is_file():
        # A link holds no delivered bytes (and its target is no business of the warehouse);
        # its verdict is recorded, the link itself removed so it is not processed again.
        src.unlink()
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():  # the very same bytes are already kept there
        src.unlink()
    else:
        shutil.move(src, target)


@dataclass(frozen=True)
class _Record:
    """A file's verdict with what its delivery record needs besides."""

    verdict: FileVerdict
    path: Path
    sha: str
    extra: dict


DELIVERY_SCHEMA = {
    "delivery_id": pl.Int64, "file_name": pl.Utf8, "sha256": pl.Utf8, "provider": pl.Utf8,
    "extract": pl.Utf8, "stand": pl.Date, "received_at": pl.Datetime("us"), "verdict": pl.Utf8,
    "reason": pl.Utf8, "message_de": pl.Utf8, "message_en": pl.Utf8, "rows_delivered": pl.Int64,
    "rows_loaded": pl.Int64, "rows_quarantined": pl.Int64, "encoding": pl.Utf8,
    "delimiter": pl.Utf8, "extra_columns": pl.List(pl.Utf8), "stored_as": pl.Utf8,
}  # fmt: skip
"""`raw.deliveries`' columns (`ingest.raw`) with the polars types its records are built in
(inserted by name; a test holds them to the table's columns)."""


class _Recorder:
    """Writes delivery records and moves files; the one place verdicts become durable."""

    def __init__(self, con: duckdb.DuckDBPyConnection, folders: Folders, received_at: datetime):
        self.con = con
        self.folders = folders
        self.received_at = received_at
        self.next_id = con.execute(
            "SELECT coalesce(max(delivery_id), 0) + 1 FROM raw.deliveries"
        ).fetchall()[0][0]  # fetchall: a half-read result would block `register`

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def folder_for(self, verdict: FileVerdict) -> Path:
        base = self.folders.quarantine if verdict.verdict == REJECTED else self.folders.archive
        return base / (verdict.provider or UNASSIGNED_PROVIDER)

    def insert(self, records: list[_Record]) -> None:
        """The delivery records, in one statement."""
        rows = pl.DataFrame(
            [
                (
                    v.delivery_id, v.file_name, r.sha, v.provider, v.extract, v.stand,
                    self.received_at, v.verdict, v.reason, v.message_de, v.message_en,
                    v.rows_delivered, v.rows_loaded, v.rows_quarantined, r.extra.get("encoding"),
                    r.extra.get("delimiter"), list(v.extra_columns), v.stored_as,
                )
                for r in records
                for v in (r.verdict,)
            ],
            schema=DELIVERY_SCHEMA,
            orient="row",
        )  # fmt: skip
        self.con.register("delivery_records", rows.to_arrow())
        try:
            self.con.execute("INSERT INTO raw.deliveries BY NAME SELECT * FROM delivery_records")
        finally:
            self.con.unregister("delivery_records")

    def finish(self, verdict: FileVerdict, path: Path, sha: str, extra: dict | None = None,
               load: Callable[[], None] | None = None) -> FileVerdict:  # fmt: skip
        """Record (and load) one file; see `finish_all`."""
        return self.finish_all([_Record(verdict, path, sha, extra or {})], load)[0]

    def finish_all(
        self, records: list[_Record], load: Callable[[], None] | None = None
    ) -> list[FileVerdict]:
        """Record (and load) files in one transaction, then move each file where it is kept.

        Committed first, moved second: after a crash in between the files are still in landing
        and the next run finds their records (`_complete_interrupted_move`) and only completes
        the moves — nothing is lost, loaded or counted twice. A crash before the commit leaves
        none of them recorded or loaded, and all of them in landing for the next run.
        """
        placed = []
        for r in records:
            regular = r.path.is_file() and not r.path.is_symlink()
            target = _target(r.path, self.folder_for(r.verdict), r.sha) if regular else None
            stored = str(target.relative_to(self.folders.home)) if target is not None else ""
            placed.append((replace(r, verdict=replace(r.verdict, stored_as=stored)), target))
        self.con.execute("BEGIN TRANSACTION")
        try:
            if load is not None:
                load()
            self.insert([r for r, _ in placed])
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        for r, target in placed:
            _move(r.path, target) if target is not None else r.path.unlink()
        return [r.verdict for r, _ in placed]


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
    seen: dict[tuple[str, str, str], FileName] = {}
    snapshots: set[tuple[str, str, date]] = set()
    received = rec.received_at.date()
    paths = list(paths)
    shas = {p: sha256_of(p) for p in paths if not p.is_symlink() and p.is_file()}
    known = _Known.of(con, shas)
    for path in paths:
        if path not in shas:
            err = FileRejection(RejectReason.NOT_A_REGULAR_FILE, {"file_name": path.name})
            verdict = _rejection(rec.new_id(), path.name, None, err)
            verdicts.append(rec.finish(verdict, path, hashlib.sha256(b"").hexdigest()))
            continue
        sha = shas[path]
        if _complete_interrupted_move(known, rec, path, sha):
            continue
        delivery_id = rec.new_id()
        try:
            fn = parse_file_name(path)
            check_stand(fn, received)
        except FileRejection as err:
            fn = _name_or_none(path)
            verdict = _rejection(delivery_id, path.name, fn, err)
            verdicts.append(rec.finish(verdict, path, sha))
            continue
        # A duplicate is the same content from the same provider for the same extract, at a
        # stand that is not newer: the same bytes with a newer stand advance the snapshot.
        identity = (fn.provider, fn.extract, sha)
        earlier = seen.get(identity) or known.accepted_file_with(fn, sha)
        if earlier is not None and earlier.stand >= fn.stand:
            verdict = FileVerdict(
                delivery_id, path.name, fn.provider, fn.extract, fn.stand, DUPLICATE,
                message_de=f"identisch mit bereits gelieferter Datei {earlier.name}; "
                "nichts geändert",
                message_en=f"identical to already delivered file {earlier.name}; nothing changed",
            )  # fmt: skip
            verdicts.append(rec.finish(verdict, path, sha))
            continue
        snapshot = (fn.provider, fn.extract, fn.stand)
        if snapshot in snapshots:
            # Two different files claim the same snapshot in one run: the name order must not
            # decide which one is current.
            err = FileRejection(
                RejectReason.CONFLICTING_SNAPSHOT,
                {"file_name": path.name, "stand": fn.stand.isoformat()},
            )
            verdicts.append(rec.finish(_rejection(delivery_id, path.name, fn, err), path, sha))
            continue
        seen[identity] = fn
        snapshots.add(snapshot)
        pending.append(Delivery(path, fn, sha, delivery_id))
    return verdicts, pending


def _name_or_none(path: Path) -> FileName | None:
    try:
        return parse_file_name(path)
    except FileRejection:
        return None


@dataclass(frozen=True)
class _Known:
    """What `raw.deliveries` already holds about the files in landing: two queries for all of
    them (one per file and question took ≈ 3 s of a `bw` ingest's 2,405 files)."""

    stored_as: dict[tuple[str, str], str]
    """(file name, sha256) → the place of the newest record of those bytes under that name."""
    accepted: dict[tuple[str, str, str], tuple[str, date]]
    """(sha256, provider, extract) → the newest accepted delivery's file name and stand."""

    @classmethod
    def of(cls, con: duckdb.DuckDBPyConnection, shas: dict[Path, str]) -> _Known:
        files = pl.DataFrame(
            {"file_name": [p.name for p in shas], "sha256": list(shas.values())},
            schema={"file_name": pl.Utf8, "sha256": pl.Utf8},
        )
        con.register("landing_files", files.to_arrow())
        try:
            # fetchall: a half-read result would block `register` on this connection
            stored = con.execute(
                "SELECT file_name, sha256, arg_max(stored_as, delivery_id) FROM raw.deliveries "
                "SEMI JOIN landing_files USING (file_name, sha256) WHERE stored_as <> '' "
                "GROUP BY ALL"
            ).fetchall()
            accepted = con.execute(
                "SELECT sha256, provider, extract, arg_max(file_name, stand), max(stand) "
                "FROM raw.deliveries WHERE verdict = ? "
                "AND sha256 IN (SELECT sha256 FROM landing_files) GROUP BY ALL",
                [ACCEPTED],
            ).fetchall()
        finally:
            con.unregister("landing_files")
        return cls(
            {(name, sha): place for name, sha, place in stored},
            {
                (sha, provider, extract): (name, stand)
                for sha, provider, extract, name, stand in accepted
            },
        )

    def accepted_file_with(self, fn: FileName, sha: str) -> FileName | None:
        """The newest accepted delivery of this provider and extract with these bytes, if any."""
        found = self.accepted.get((sha, fn.provider, fn.extract))
        return replace(fn, name=found[0], stand=found[1]) if found else None


def _complete_interrupted_move(known: _Known, rec: _Recorder, path: Path, sha: str) -> bool:
    """A file whose verdict was committed but whose move a crash interrupted: move it now.

    Recognised by name and content in `raw.deliveries`, with its recorded place still empty.
    Without this a rejected file would be rejected (and counted) twice, an accepted one would
    become a duplicate of itself.
    """
    place = known.stored_as.get((path.name, sha))
    if place is None:
        return False
    target = rec.folders.home / place
    if target.exists():
        return False  # the move happened: this is a new delivery of the same file
    _move(path, target)
    return True


def _typed_frame(files: list[TypedFile], ex: Extract) -> tuple[pl.DataFrame, pl.DataFrame]:
    """All files of one extract typed as one frame, with `_file` (delivery id) and `_provider`;
    and their type errors (ERROR_COLUMNS)."""
    parsed = parse_many(
        [
            ({"_file": f.delivery.delivery_id, "_provider": f.delivery.name.provider}, f.table)
            for f in files
        ],
        ex,
    )
    frame = parsed.frame.select(
        *(c for c in parsed.frame.columns if c not in ("_file", "_provider")),
        pl.col("_file").cast(pl.Int64),
        pl.col("_provider").cast(pl.Utf8),
    ).with_columns(pl.col("_line").cast(pl.Int64))
    return frame, parsed.errors.select(list(ERROR_COLUMNS)).cast(ERROR_COLUMNS)


def _pseudonymised(
    con: duckdb.DuckDBPyConnection,
    ex: Extract,
    frame: pl.DataFrame,
    unchecked: frozenset[str],
    key: bytes,
) -> pl.DataFrame:
    """Ids replaced by their HMAC pseudonyms, and `_ref_<column>` for every reference column.

    A reference holds when the referenced id exists in what the provider holds after this run:
    the current snapshot of the referenced extract, which this run has already loaded (see
    `load_order`). NULL where the referencing id is empty (optional references).
    """
    # Until the insert an id is the warehouse id's 32 hex characters (the gate and the
    # operator's quarantine values read text; polars has no unsigned 128-bit integer); the raw
    # layer stores the integer (`_insert_rows`). The extract's own ids are hashed row by row (each
    # is unique in its file); a reference column repeats its ids (4.5 M contacts name 0.6 M
    # cases), so each distinct (provider, id) of the chunk is hashed and checked once
    # (`_references`) and joined back on the delivered id, in the rows' order. Only the distinct
    # ids go to DuckDB, which holds the snapshots they are checked against; the chunk stays in
    # polars (`pseudonymise.id_text` hashes there).
    provider = pl.col("_provider")
    selected: list[pl.Expr] = [pl.col("_file"), provider, pl.col("_line")]
    rows = frame.lazy()
    for c in ex.columns:
        if c.ref is not None and c.type is not ColumnType.ID:
            raise ValueError(f"{ex.name}.{c.name}: a reference must be an id column")
        if c.type is not ColumnType.ID:
            selected.append(pl.col(c.raw_name))
        elif c.ref is None:
            selected.append(pseudonymise.id_text(key, provider, pl.col(c.name)).alias(c.name))
        else:
            checked = _references(con, c, frame, unchecked, key)
            rows = rows.join(
                checked.lazy().rename({"id_text": f"_id_{c.name}", "found": f"_found_{c.name}"}),
                left_on=["_provider", c.name],
                right_on=["_provider", "delivered"],
                how="left",
                maintain_order="left",
            )
            # NULL where the id is empty (an optional reference) or the check is off
            selected += [
                pl.col(f"_id_{c.name}").alias(c.name),
                pl.when(pl.col(c.name).is_not_null())
                .then(pl.col(f"_found_{c.name}"))
                .alias(f"_ref_{c.name}"),
            ]
    # The streaming engine hashes on every core; in memory polars runs one expression over one
    # column on one thread. All 32 chunks of the `bw` files, alternating: 6.8, 6.9, 8.7 s against
    # 9.6, 9.7, 10.3 s; 11.7, 12.2, 15.5 against 12.0, 12.1, 12.9 CPU-s (2026-12-06, Intel Xeon).
    return rows.select(selected).collect(engine="streaming")


def _references(
    con: duckdb.DuckDBPyConnection,
    c: Column,
    frame: pl.DataFrame,
    unchecked: frozenset[str],
    key: bytes,
) -> pl.DataFrame:
    """Each distinct (provider, id) of the chunk's reference column `c` as `delivered`, its
    warehouse id's text (`id_text`) and whether the referenced extract's current snapshot holds
    it (`found`; NULL unchecked)."""
    distinct = (
        frame.lazy()
        .select("_provider", pl.col(c.name).alias("delivered"))
        .drop_nulls("delivered")
        .unique()
        .with_columns(
            pseudonymise.id_text(key, pl.col("_provider"), pl.col("delivered")).alias("id_text")
        )
        .collect(engine="streaming")  # hashed on every core (`_pseudonymised`)
    )
    if c.ref.extract in unchecked:
        return distinct.with_columns(pl.lit(None, pl.Boolean).alias("found"))
    held = (
        f"SELECT DISTINCT _provider, {c.ref.column} AS id "
        f"FROM raw.{EXTRACTS[c.ref.extract].raw_table}_current "
        "WHERE _provider IN (SELECT DISTINCT _provider FROM distinct_ids)"
    )
    con.register("distinct_ids", distinct.to_arrow())
    try:
        return con.sql(
            "SELECT d._provider, d.delivered, d.id_text, held.id IS NOT NULL AS found "
            f"FROM distinct_ids AS d LEFT JOIN ({held}) AS held "
            f"ON held._provider = d._provider AND held.id = {id_sql_from_text('d.id_text')}"
        ).pl()
    finally:
        con.unregister("distinct_ids")


def _insert_rows(con: duckdb.DuckDBPyConnection, ex: Extract, rows: pl.DataFrame) -> None:
    """`rows` of one extract, each into the load batch of its file (`_file`)."""
    columns = ", ".join(
        id_sql_from_text(c.raw_name)
        if c.type is ColumnType.ID
        else f"CAST({c.raw_name} AS {c.duckdb_type})"
        for c in ex.columns
    )
    con.register("good_rows", rows.to_arrow())
    try:
        con.execute(
            f"INSERT INTO raw.{ex.raw_table} SELECT _file, _provider, _line, {columns} "
            "FROM good_rows"
        )
    finally:
        con.unregister("good_rows")


def _quarantine_rows(
    con: duckdb.DuckDBPyConnection, errors: pl.DataFrame, files: list[TypedFile]
) -> None:
    """The rows in `errors` (of `files`), with file, line, column and rule."""
    if errors.is_empty():
        return
    names = pl.DataFrame(
        {
            "_file": [f.delivery.delivery_id for f in files],
            "file_name": [f.delivery.name.name for f in files],
            "provider": [f.delivery.name.provider for f in files],
            "extract": [f.delivery.name.extract for f in files],
        },
        schema={"_file": pl.Int64, "file_name": pl.Utf8, "provider": pl.Utf8, "extract": pl.Utf8},
    )
    rows = (
        errors.sort("_file", "_line", "column", "rule")
        .join(names, on="_file", how="left", maintain_order="left")
        .select(
            pl.col("_file").alias("delivery_id"),
            "file_name",
            "provider",
            "extract",
            pl.col("_line").alias("line"),
            pl.col("column").alias("column_name"),
            pl.col("rule"),
            pl.col("value"),
        )
    )
    con.register("quarantined", rows.to_arrow())
    try:
        con.execute("INSERT INTO raw.quarantined_rows SELECT * FROM quarantined")
    finally:
        con.unregister("quarantined")


@dataclass(frozen=True)
class _Unreadable:
    """A delivery that cannot be read as a table: its rejection, and its data rows as far as they
    can be counted (DQ02 counts a file rejected whole with its rows)."""

    delivery: Delivery
    rejection: FileRejection
    rows: int | None


def _read(deliveries: list[Delivery], ex: Extract) -> list[TypedFile | _Unreadable]:
    """Deliveries of one extract read, in order (on the read-ahead thread: nothing here touches
    the database). Read together (`read_tables`): one parse for files alike."""
    return [
        TypedFile(d, table)
        if isinstance(table, RawTable)
        else _Unreadable(d, table, readable_row_count(d.path, ex))
        for d, table in zip(deliveries, read_tables([d.path for d in deliveries], ex), strict=True)
    ]


READ_TOGETHER_BYTES = 8 * 2**20
"""Files of one extract are read together (`read_tables`) up to this many bytes: `bw`'s 300
`stellen` files at once, its `kontakte` files eight or so at a time."""


def _read_groups(deliveries: Iterable[Delivery]) -> Iterator[list[Delivery]]:
    """The deliveries in order, in groups of about READ_TOGETHER_BYTES."""
    group: list[Delivery] = []
    size = 0
    for d in deliveries:
        group.append(d)
        # a file that cannot be looked at: reading it says why (`read_tables`: its rejection)
        with suppress(OSError):
            size += d.path.stat().st_size
        if size >= READ_TOGETHER_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


GATE_CHUNK_ROWS = 500_000
"""Files of one extract are validated together up to this many rows: few gate calls, bounded
memory. Every rule is per file or checked against the database, so chunking at file boundaries
changes no verdict. Measured on `bw` (the ingest alone, 2026-12-04, DuckDB at 1 GB): 1,000,000
rows 88.9 s and 2.51 GiB peak, 500,000 rows 91.6 s and 1.99 GiB (at 1.5 GB: 1,000,000 rows
87.1 s and 2.74 GiB, 250,000 rows 95.2 s and 1.97 GiB).

The files of a chunk are also written together: their rows, quarantined rows and delivery records
in one transaction (`_Recorder.finish_all`). A transaction and commit per file cost ≈ 17 s of the
`bw` ingest (2,405 files; back to back on the same files, 89.6 / 88.7 s → 70.9 / 73.5 s) and
gave nothing more: a failure in any of them fails the ingest anyway, and the next run takes up
every file that has no committed record.

The next chunk is read and typed while the build's thread works on the one before
(`core.read_ahead`, one chunk ahead): the two overlap on 2 cores."""


@dataclass(frozen=True)
class _Chunk:
    """Files of one extract read and typed together (`_typed_frame`), and the deliveries among
    them that could not be read, in the order they came."""

    unreadable: list[_Unreadable]
    files: list[TypedFile]
    typed: pl.DataFrame | None = None
    type_errors: pl.DataFrame | None = None


def _typed_chunk(unreadable: list[_Unreadable], files: list[TypedFile], ex: Extract) -> _Chunk:
    if not files:
        return _Chunk(unreadable, files)
    typed, type_errors = _typed_frame(files, ex)
    return _Chunk(unreadable, files, typed, type_errors)


def _read_chunks(deliveries: Iterable[Delivery], ex: Extract) -> Iterator[_Chunk]:
    """The deliveries read and typed in chunks of about GATE_CHUNK_ROWS rows, cut at file
    boundaries (runs on the read-ahead thread: nothing here touches the database)."""
    unreadable: list[_Unreadable] = []
    files: list[TypedFile] = []
    rows = 0
    for outcome in (o for group in _read_groups(deliveries) for o in _read(group, ex)):
        if isinstance(outcome, _Unreadable):
            unreadable.append(outcome)
            continue
        files.append(outcome)
        rows += outcome.table.frame.height
        if rows >= GATE_CHUNK_ROWS:
            yield _typed_chunk(unreadable, files, ex)
            unreadable, files, rows = [], [], 0
    if unreadable or files:
        yield _typed_chunk(unreadable, files, ex)


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
                 files: list[TypedFile], type_errors: pl.DataFrame,
                 result: IngestResult) -> pl.DataFrame:  # fmt: skip
    """Row errors of the extract gate (Great Expectations), minus cells whose type already failed.

    A cell that could not be typed is empty by the time the gate sees it; its `required` error
    would only repeat the type error the clerk gets anyway.
    """
    stands = {f.delivery.delivery_id: f.delivery.name.stand for f in files}
    gate = extract_gate.validate_extract(frame, ex, stand_by_file=stands)
    result.gate_results.append(gate)
    gate_errors = gate.errors.select(list(ERROR_COLUMNS)).cast(ERROR_COLUMNS)
    gate_errors = gate_errors.join(
        type_errors.select("_file", "_line", "column").unique(),
        on=["_file", "_line", "column"],
        how="anti",
    )
    errors = pl.concat([type_errors, gate_errors], how="vertical")
    return _echo_safe(_with_pseudonym_values(errors, frame, ex))


def _echo_safe(errors: pl.DataFrame) -> pl.DataFrame:
    """What of a bad row may be quoted back: nothing of a row whose fields do not line up with
    the header (only its field-count error stays), and no value longer than ECHO_MAX_CHARS."""
    field_count = pl.col("rule").is_in(FIELD_COUNT_RULES)
    misaligned = errors.filter(field_count).select("_file", "_line").unique()
    kept = pl.concat(
        [
            errors.filter(field_count).with_columns(pl.lit(None, pl.Utf8).alias("value")),
            errors.filter(~field_count).join(misaligned, on=["_file", "_line"], how="anti"),
        ],
        how="vertical",
    )
    value = pl.col("value")
    return kept.with_columns(
        pl.when(value.str.len_chars() > ECHO_MAX_CHARS)
        .then(value.str.slice(0, ECHO_MAX_CHARS - 1) + pl.lit("…"))
        .otherwise(value)
        .alias("value")
    )


def _load_extracts(
    con: duckdb.DuckDBPyConnection, rec: _Recorder, groups: list[tuple[Extract, list[Delivery]]],
    result: IngestResult, unchecked: frozenset[str], key: bytes, total: int,
) -> None:  # fmt: skip
    """Every extract's deliveries, extract by extract in `groups`' order (`load_order`), into
    `result.verdicts`; the progress line after each extract.

    One reading thread for all of them (`read_ahead`): the first chunk of the next extract is
    read and typed while the last chunk of the one before is checked and written. Reading touches
    no table, so the reference checks still see the referenced extracts loaded first. With a
    thread per extract the build's thread waited for each extract's first chunk (its lock waits
    were 14.6–16.4 s of a `bw` ingest in cProfile); the `bw` ingest alone, alternating: 61.4,
    64.6 s before, 57.4, 55.0 s after (2026-12-06, README "Benchmark")."""
    chunks = ((ex, chunk) for ex, deliveries in groups for chunk in _read_chunks(deliveries, ex))
    # closing: an error here stops the reading thread at once (`read_ahead`)
    with closing(read_ahead(chunks, name="imw-ingest-read")) as ahead:
        for name, of_extract in groupby(ahead, key=lambda item: item[0].name):
            for ex, chunk in of_extract:
                for u in chunk.unreadable:  # recorded before the chunk's files, as when read here
                    d = u.delivery
                    verdict = _rejection(d.delivery_id, d.path.name, d.name, u.rejection, u.rows)
                    result.verdicts.append(rec.finish(verdict, d.path, d.sha))
                if chunk.files:
                    result.verdicts += _load_chunk(con, rec, ex, chunk, result, unchecked, key)
            progress.report(
                "ingest",
                f"files {len(result.verdicts)}/{total} ({name}) · "
                f"{sum(v.rows_loaded for v in result.verdicts):,} rows loaded · "
                f"{sum(v.rows_quarantined for v in result.verdicts):,} quarantined",
            )


def _load_chunk(
    con: duckdb.DuckDBPyConnection, rec: _Recorder, ex: Extract, chunk: _Chunk,
    result: IngestResult, unchecked: frozenset[str], key: bytes,
) -> list[FileVerdict]:  # fmt: skip
    """The chunk's files pseudonymised, validated, decided and written in one transaction."""
    files = chunk.files
    frame = _pseudonymised(con, ex, chunk.typed, unchecked, key)
    errors = _gate_errors(con, frame, ex, files, chunk.type_errors, result)
    # the chunk in file order as delivered; a file's good rows are its rows without a bad line
    frame = frame.sort("_file", maintain_order=True)
    bad = errors.select("_file", "_line").unique()
    dropped = dict(
        frame.join(bad, on=["_file", "_line"], how="semi").group_by("_file").len().iter_rows()
    )
    loadable = {
        file: rows - dropped.get(file, 0)
        for file, rows in frame.group_by("_file").len().iter_rows()
    }
    records = _decide(files, errors, loadable)
    accepted = [r.verdict.delivery_id for r in records if r.verdict.verdict == ACCEPTED]
    good = (
        frame  # the common case: nothing to drop, no copy
        if bad.is_empty() and len(accepted) == len(files)
        else frame.join(bad, on=["_file", "_line"], how="anti", maintain_order="left").filter(
            pl.col("_file").is_in(accepted)
        )
    )
    return rec.finish_all(records, partial(_write_chunk, con, ex, good, errors, files))


def _write_chunk(con: duckdb.DuckDBPyConnection, ex: Extract, good: pl.DataFrame,
                 errors: pl.DataFrame, files: list[TypedFile]) -> None:  # fmt: skip
    """The accepted files' good rows and every file's quarantined rows."""
    _insert_rows(con, ex, good)
    _quarantine_rows(con, errors, files)


def _decide(
    files: list[TypedFile], errors: pl.DataFrame, loadable: dict[int, int]
) -> list[_Record]:
    """Accept or reject each of `files` by its share of bad rows (`errors`: theirs);
    `loadable`: each file's rows without a bad line, by delivery id."""
    bad = dict(errors.group_by("_file").agg(pl.col("_line").n_unique()).iter_rows())
    records = []
    for f in files:
        d, table = f.delivery, f.table
        n_bad = bad.get(d.delivery_id, 0)
        extra = {"encoding": table.encoding, "delimiter": table.delimiter}
        if table.rows_delivered and n_bad / table.rows_delivered > MAX_BAD_ROW_SHARE:
            err = FileRejection(
                RejectReason.TOO_MANY_BAD_ROWS,
                {"bad_rows": n_bad, "rows": table.rows_delivered, "limit": MAX_BAD_ROW_SHARE},
            )
            verdict = _rejection(d.delivery_id, d.path.name, d.name, err, table.rows_delivered)
            # the rows that broke the file are quarantined too, so the clerk knows what to fix
            verdict = replace(
                verdict, rows_quarantined=n_bad, extra_columns=tuple(table.extra_columns)
            )
        else:
            verdict = FileVerdict(
                d.delivery_id, d.path.name, d.name.provider, d.name.extract, d.name.stand,
                ACCEPTED, rows_delivered=table.rows_delivered,
                rows_loaded=loadable.get(d.delivery_id, 0), rows_quarantined=n_bad,
                extra_columns=tuple(table.extra_columns),
            )  # fmt: skip
        records.append(_Record(verdict, d.path, d.sha, extra))
    return records


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
    pseudonymise.text_key(key)  # a key the hashing cannot take fails before anything is written
    # Great Expectations, which the extract gate needs, imported before any file is read and
    # frozen with what the process holds then (`core.collector`; once per process): no
    # collection walks its ≈ 235,000 objects again. Frozen at the first validation instead, in
    # the middle of the ingest, a `bw` build process stayed 0.35 GB larger through dbt's step.
    gx_runtime.imported_and_frozen()
    result = IngestResult(started_at=datetime.now(UTC).replace(tzinfo=None))
    build_db.parent.mkdir(parents=True, exist_ok=True)
    with connect(build_db) as con:
        con.execute("SET enable_progress_bar = false")
        # One transaction per file keeps every file atomic; checkpointing after each of them
        # (DuckDB's default threshold is 16 MB of WAL) cost a third of the ingest time at BW scale.
        con.execute("SET checkpoint_threshold = '1GB'")
        raw.ensure_schema(con)
        if not precheck:
            pseudonymise.check_key(con, key)
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
        total = len(verdicts) + len(pending)
        progress.report("ingest", f"files 0/{total} · {len(verdicts)} refused unread")
        groups = [
            (EXTRACTS[name], mine)
            for name in load_order()
            if (mine := [d for d in pending if d.name.extract == name])
        ]
        _load_extracts(con, rec, groups, result, unchecked, key, total)
        result.shrunk = _shrunk(con, [v.delivery_id for v in result.by_verdict(ACCEPTED)])
        con.execute("CHECKPOINT")
    if files is None:
        result.ignored = ignored_entries(folders.landing)
    return result


SHRINK_WARNING_SHARE = 0.5
"""A snapshot with fewer than this share of the previous snapshot's rows (or none) is named in
the reports: a header-only or truncated export would otherwise empty a provider silently."""


def _shrunk(con: duckdb.DuckDBPyConnection, delivery_ids: list[int]) -> list[Shrinkage]:
    if not delivery_ids:
        return []
    rows = con.execute(
        """
        SELECT provider, extract, file_name, row_count, previous_rows, previous_file
        FROM (
            SELECT batch_id, provider, extract, file_name, row_count,
                   lag(row_count) OVER w AS previous_rows, lag(file_name) OVER w AS previous_file
            FROM raw.load_batches
            WINDOW w AS (PARTITION BY provider, extract ORDER BY stand, batch_id)
        )
        WHERE batch_id IN (SELECT unnest(?::BIGINT[])) AND previous_rows > 0
          AND (row_count = 0 OR row_count < previous_rows * ?)
        ORDER BY provider, extract, file_name
        """,
        [delivery_ids, SHRINK_WARNING_SHARE],
    ).fetchall()
    return [Shrinkage(*row) for row in rows]
