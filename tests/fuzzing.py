"""Shared helpers of the ingest fuzz test (`tests/test_fuzz_ingest.py`, `make fuzz`).

A case takes one valid file of the `tiny` data set, corrupts it the way a clumsy export or an
attacker would (cell edits with formulas and overlong values, dropped and repeated rows, rows with
fields missing or added, other encodings and line ends, truncation), delivers it with the next
day's stand into a warehouse that holds the clean `tiny` deliveries, runs the ingest and every
report it writes, and checks the warehouse's promises:

- no exception escapes (every file gets a verdict);
- loaded + quarantined = delivered, for every file, in the verdict and in the tables;
- no clear id and no free-text value of the data set in any table of the build database or any
  file of the reports;
- no CSV the warehouse wrote has a cell that a spreadsheet would run as a formula.
"""

from __future__ import annotations

import re
import shutil
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from contract.spec import EXTRACTS, ColumnType
from core.csv_safety import unsafe_cells
from expectations.extract_gate import write_data_docs
from ingest.load import ACCEPTED, REJECTED, Folders, ingest_landing
from ingest.readers import read_table
from reports.delivery import write_delivery_reports
from reports.intake import write_intake_report
from synthetic import generate

KEY = b"fuzz-key-0123456789abcdef"
STAND = date(2026, 6, 30)
"""The stand of the clean data; a corrupted file arrives with the next day's stand."""

FORMULAS = ('=HYPERLINK("http://x.example/")', "+SUM(1;2)", "@cmd", "-2+3", "\t=1+1", "=1+1")
ODD_VALUES = (
    *FORMULAS,
    "x" * 300,  # an overlong value: cut in every report
    "",
    "  ",
    "٠٨١١٥",  # Arabic-Indic digits
    "31.02.2025",
    "2025-13-01",
    "99999999999999999999",
    "-1",
    "ZZZ",
    "a;b",  # a delimiter inside a value, quoted
    'say "hi"',
    "line\nbreak",
)
KINDS = (
    "cell",
    "drop_row",
    "duplicate_row",
    "field_missing",
    "field_added",
    "fields_added",
    "encoding_cp1252",
    "encoding_broken",
    "bom",
    "crlf",
    "cr_only",
    "truncate",
    "header_case",
)


@dataclass(frozen=True)
class Mutation:
    file: str
    kind: str
    row: float
    """Position in the file as a share (0..1), so one strategy fits files of any length."""
    column: int
    value: str


@dataclass
class Corpus:
    root: Path
    template_db: Path
    files: dict[str, bytes]
    secret_ids: frozenset[str]
    secret_texts: tuple[str, ...]


@dataclass
class Tally:
    cases: int = 0
    escapes: int = 0
    conservation: int = 0
    leaks: int = 0
    formulas: int = 0
    verdicts: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def fail(self, kind: str, mutation: Mutation, detail: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.examples) < 10:
            self.examples.append(f"{kind}: {mutation} → {detail}")

    def summary(self) -> str:
        verdicts = ", ".join(f"{v.lower()} {n}" for v, n in sorted(self.verdicts.items()))
        return (
            f"fuzz: {self.cases} cases — {self.escapes} escapes, {self.conservation} conservation "
            f"failures, {self.leaks} leaks, {self.formulas} formulas; verdicts: {verdicts}"
        )

    @property
    def failures(self) -> int:
        return self.escapes + self.conservation + self.leaks + self.formulas


def _secrets_of(path: Path, extract: str) -> tuple[set[str], set[str]]:
    """Clear ids and free-text values of one delivered file (bulk: one frame per file)."""
    ex = EXTRACTS[extract]
    table = read_table(path, ex).frame
    ids = [c.name for c in ex.columns if c.type is ColumnType.ID]
    texts = [c.name for c in ex.columns if c.type is ColumnType.TEXT]
    found_ids = set(pl.concat([table[c] for c in ids]).drop_nulls().to_list()) if ids else set()
    found_texts = (
        set(pl.concat([table[c] for c in texts]).drop_nulls().to_list()) if texts else set()
    )
    return found_ids, found_texts


def build_corpus(root: Path) -> Corpus:
    """The clean `tiny` data set, its secrets, and a build database holding it."""
    landing = root / "landing"
    generate("tiny", landing, seed=1, stand=STAND, truth_path=root / "truth.json")
    files = {p.name: p.read_bytes() for p in sorted(landing.iterdir())}
    ids: set[str] = set()
    texts: set[str] = set()
    for path in sorted(landing.iterdir()):
        found_ids, found_texts = _secrets_of(path, path.name.split("_")[0])
        ids |= found_ids
        texts |= found_texts
    home = root / "template"
    folders = Folders(landing, home / "archive", home / "quarantine", home)
    result = ingest_landing(home / "build.duckdb", folders, KEY)
    assert all(v.verdict == ACCEPTED for v in result.verdicts), "the clean data must be accepted"
    # Short ids ("1") would match any number; the tiny ids are all longer than this.
    return Corpus(
        root=root,
        template_db=home / "build.duckdb",
        files=files,
        secret_ids=frozenset(i for i in ids if len(i) >= 6),
        secret_texts=tuple(sorted(t for t in texts if len(t) >= 8)),
    )


# --------------------------------------------------------------------------------------------
# Mutations
# --------------------------------------------------------------------------------------------
def _split_lines(text: str) -> list[str]:
    return text.split("\n")


def _quoted(value: str) -> str:
    if any(ch in value for ch in ';,"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def mutate(data: bytes, m: Mutation) -> bytes:
    """The corrupted bytes of a file. XLSX files get byte-level damage only."""
    if m.file.endswith(".xlsx"):
        cut = max(1, int(len(data) * m.row))
        if m.kind == "truncate":
            return data[:cut]
        return data[:cut] + bytes([data[cut % len(data)] ^ 0xFF]) + data[cut + 1 :]
    text = data.decode("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8", "replace")
    lines = _split_lines(text)
    body = [i for i in range(1, len(lines)) if lines[i].strip()]
    row = body[min(int(m.row * len(body)), len(body) - 1)] if body else 0
    delimiter = ";" if ";" in lines[0] else ","
    if m.kind == "cell" and body:
        cells = lines[row].split(delimiter)
        cells[m.column % len(cells)] = _quoted(m.value)
        lines[row] = delimiter.join(cells)
    elif m.kind == "drop_row" and body:
        del lines[row]
    elif m.kind == "duplicate_row" and body:
        lines.insert(row, lines[row])
    elif m.kind == "field_missing" and body:
        cells = lines[row].split(delimiter)
        del cells[m.column % len(cells)]
        lines[row] = delimiter.join(cells)
    elif m.kind == "field_added" and body:
        cells = lines[row].split(delimiter)
        cells.insert(m.column % (len(cells) + 1), _quoted(m.value))
        lines[row] = delimiter.join(cells)
    elif m.kind == "fields_added" and body:
        lines[row] = lines[row] + (delimiter + "x") * (2 + m.column % 5)
    elif m.kind == "header_case":
        lines[0] = lines[0].upper()
    out = "\n".join(lines)
    if m.kind == "crlf":
        return out.replace("\n", "\r\n").encode()
    if m.kind == "cr_only":
        return out.replace("\n", "\r").encode()
    if m.kind == "encoding_cp1252":
        return out.encode("cp1252", "replace")
    if m.kind == "encoding_broken":
        raw = out.encode()
        cut = int(len(raw) * m.row)
        return raw[:cut] + b"\xff\xfe\x81" + raw[cut:]
    if m.kind == "bom":
        return b"\xef\xbb\xbf" + out.encode()
    if m.kind == "truncate":
        raw = out.encode()
        return raw[: max(1, int(len(raw) * m.row))]
    return out.encode()


def next_stand_name(name: str) -> str:
    """The same file name with the next day's stand (a new snapshot, not a duplicate)."""
    stem, suffix = name.rsplit(".", 1)
    extract, provider, stand = stem.split("_")
    later = date.fromisoformat(stand) + timedelta(days=1)
    return f"{extract}_{provider}_{later.isoformat()}.{suffix}"


# --------------------------------------------------------------------------------------------
# One case and its checks
# --------------------------------------------------------------------------------------------
def run_case(corpus: Corpus, m: Mutation, home: Path, tally: Tally) -> None:
    shutil.rmtree(home, ignore_errors=True)
    (home / "landing").mkdir(parents=True)
    db = home / "warehouse" / "build.duckdb"
    db.parent.mkdir()
    shutil.copyfile(corpus.template_db, db)
    (home / "landing" / next_stand_name(m.file)).write_bytes(mutate(corpus.files[m.file], m))
    folders = Folders(home / "landing", home / "archive", home / "quarantine", home)
    tally.cases += 1
    try:
        result = ingest_landing(db, folders, KEY)
        reports = home / "reports"
        write_delivery_reports(result, db, reports)
        write_intake_report(result, reports)
        if result.gate_results:
            write_data_docs(result.gate_results, reports / "data_docs" / "extracts")
    except Exception:
        tally.fail("escapes", m, traceback.format_exc(limit=3).splitlines()[-1])
        return
    tally.verdicts.update(v.verdict for v in result.verdicts)
    _check_conservation(db, result, home, m, tally)
    _check_leaks(corpus, db, home / "reports", m, tally)
    _check_formulas(home / "reports", m, tally)


def _check_conservation(db: Path, result, home: Path, m: Mutation, tally: Tally) -> None:
    if len(result.verdicts) != 1 or any((home / "landing").iterdir()):
        tally.fail("conservation", m, f"{len(result.verdicts)} verdicts for 1 file")
        return
    v = result.verdicts[0]
    with duckdb.connect(str(db), read_only=True) as con:
        quarantined = con.execute(
            "SELECT count(DISTINCT line) FROM raw.quarantined_rows WHERE delivery_id = ?",
            [v.delivery_id],
        ).fetchone()[0]
        loaded = (
            con.execute(
                f"SELECT count(*) FROM raw.{EXTRACTS[v.extract].raw_table} WHERE _batch_id = ?",
                [v.delivery_id],
            ).fetchone()[0]
            if v.extract
            else 0
        )
    if v.verdict == ACCEPTED:
        ok = (
            v.rows_loaded + v.rows_quarantined == v.rows_delivered
            and loaded == v.rows_loaded
            and quarantined == v.rows_quarantined
        )
    elif v.verdict == REJECTED and v.reason == "TOO_MANY_BAD_ROWS":
        ok = loaded == 0 and quarantined == v.rows_quarantined > 0
    else:
        ok = loaded == 0 and quarantined == 0
    if not ok:
        tally.fail(
            "conservation", m,
            f"{v.verdict} delivered {v.rows_delivered}, loaded {v.rows_loaded}/{loaded}, "
            f"quarantined {v.rows_quarantined}/{quarantined}",
        )  # fmt: skip


_TOKEN = re.compile(r"[A-Za-z0-9_.\-]+")


def _check_leaks(corpus: Corpus, db: Path, reports: Path, m: Mutation, tally: Tally) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        con.register("secrets", pl.DataFrame({"v": sorted(corpus.secret_ids)}).to_arrow())
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_schema NOT IN ('information_schema', "
            "'pg_catalog') AND table_name IN (SELECT table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE')"
        ).fetchall()
        for schema, table, column in columns:
            name = f'"{schema}"."{table}"."{column}"'
            source = f'"{schema}"."{table}"'
            hits = con.execute(
                f"SELECT count(*) FROM {source} WHERE {name} IN (SELECT v FROM secrets)"
            ).fetchone()[0]
            if table in ("deliveries", "quarantined_rows"):  # where delivered text could land
                hits += con.execute(
                    f"SELECT count(*) FROM {source}, secrets WHERE contains({name}, secrets.v)"
                ).fetchone()[0]
            if hits:
                tally.fail("leaks", m, f"{hits} clear ids in {schema}.{table}.{column}")
                return
    for path in sorted(p for p in reports.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", "replace")
        found = corpus.secret_ids.intersection(_TOKEN.findall(text))
        found |= {t for t in corpus.secret_texts if t in text}
        if found:
            tally.fail("leaks", m, f"{len(found)} secrets in {path.relative_to(reports)}")
            return


def _check_formulas(reports: Path, m: Mutation, tally: Tally) -> None:
    for path in sorted(reports.rglob("*.csv")):
        frame = pl.read_csv(path, separator=";", infer_schema=False, encoding="utf8")
        if unsafe_cells(frame):
            tally.fail("formulas", m, f"formula cells in {path.name}")
            return
