"""The floor: plain DuckDB reading the landing files into tables, nothing else.

    .venv/bin/python -m bench.floor CACHE_DIR DB      # prints one JSON object

One `CREATE TABLE <extract> AS …` per extract: one `read_csv([...])` per group of its files with
the same delimiter and header (column names and order), joined with `UNION ALL BY NAME`; XLSX
files are read with polars (fastexcel) and joined the same way. Every column is read as text
(the build reads strings too, then types them). No validation, no pseudonymisation, no
orchestration.

Why groups and not one `read_csv(..., union_by_name=true)` over all files of an extract: with
`union_by_name` DuckDB sniffs every file on its own, which cost 16 s instead of 0.7 s for the
1.1 M `aufenthalt` rows of `bw` (2 cores, loaded). Within a group the header is known, so the
files are read with `auto_detect=false` and the columns given. DuckDB reads Windows-1252 only
through its `encodings` extension, which would need a download (its latin-1 rejects bytes
0x80-0x9F such as `–`), so Windows-1252 files are first transcoded to UTF-8 copies next to the
database, inside the timing.
"""

from __future__ import annotations

import csv
import json
import resource
import shutil
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl

from bench.data import DataFile, Dataset, load_dataset
from contract.spec import EXTRACTS

CsvGroup = tuple[str, tuple[str, ...]]
"""(delimiter, lower-case column names in file order)."""


def _header(path: Path, like: DataFile) -> tuple[str, ...]:
    with path.open("rb") as fh:
        line = fh.readline().removeprefix(b"\xef\xbb\xbf")
    text = line.decode("cp1252" if like.encoding == "cp1252" else "utf-8").rstrip("\r\n")
    names = tuple(n.strip().lower() for n in next(csv.reader([text], delimiter=like.delimiter)))
    unknown = set(names) - {c.name for c in EXTRACTS[like.extract].columns}
    if unknown:
        raise ValueError(f"{like.name}: columns outside the contract {sorted(unknown)}")
    return names


def _csv_groups(
    files: Iterable[DataFile], landing: Path, scratch: Path
) -> dict[CsvGroup, list[str]]:
    """CSV paths per (delimiter, header), Windows-1252 files replaced by UTF-8 copies."""
    groups: dict[CsvGroup, list[str]] = {}
    for f in files:
        path = landing / f.name
        if f.encoding == "cp1252":
            scratch.mkdir(parents=True, exist_ok=True)
            copy = scratch / f.name
            copy.write_bytes(path.read_bytes().decode("cp1252").encode("utf-8"))
            path = copy
        groups.setdefault((f.delimiter or ";", _header(path, f)), []).append(str(path))
    return groups


def _xlsx_frame(paths: list[Path]) -> pl.DataFrame:
    frames = [pl.read_excel(p, engine="calamine") for p in paths]
    frames = [f.rename({c: c.strip().lower() for c in f.columns}) for f in frames]
    return pl.concat([f.cast(pl.String) for f in frames], how="diagonal_relaxed")


def read_floor(data: Dataset, db: Path) -> dict[str, object]:
    """Read every landing file of `data` into tables of a fresh database `db`; time it."""
    db.unlink(missing_ok=True)
    scratch = db.parent / f"{db.stem}-utf8"
    shutil.rmtree(scratch, ignore_errors=True)
    start = time.perf_counter()
    rows: dict[str, int] = {}
    with duckdb.connect(str(db)) as con:
        con.execute("SET enable_progress_bar = false")
        extracts = sorted({f.extract for f in data.files})
        for extract in extracts:
            files = [f for f in data.files if f.extract == extract]
            parts, params = [], []
            delimited = [f for f in files if f.encoding is not None]
            for (delimiter, names), paths in _csv_groups(delimited, data.landing, scratch).items():
                parts.append(
                    "SELECT * FROM read_csv(?, delim = ?, quote = '\"', escape = '\"', "
                    "header = true, auto_detect = false, columns = ?)"
                )
                params += [paths, delimiter, dict.fromkeys(names, "VARCHAR")]
            xlsx = [data.landing / f.name for f in files if f.encoding is None]
            if xlsx:
                xlsx_rows = _xlsx_frame(xlsx)  # noqa: F841 — read by DuckDB's replacement scan
                parts.append("SELECT * FROM xlsx_rows")
            con.execute(f"CREATE TABLE {extract} AS " + " UNION ALL BY NAME ".join(parts), params)
            rows[extract] = con.execute(f"SELECT count(*) FROM {extract}").fetchone()[0]
    elapsed = time.perf_counter() - start
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "read_s": round(elapsed, 3),
        "rows": sum(rows.values()),
        "rows_by_extract": rows,
        "files": len(data.files),
        "xlsx_files": sum(f.encoding is None for f in data.files),
        "peak_rss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    cache, db = Path(args[0]), Path(args[1])
    print(json.dumps(read_floor(load_dataset(cache), db)))


if __name__ == "__main__":
    main()
