"""Read delivered extract files (contract v1) into string tables, then into typed tables.

Three steps, each usable on its own:

- `parse_file_name` checks the name before the file is opened (extract, provider, stand).
- `read_table` turns a CSV or XLSX file into one string column per contract column plus the
  physical line each row starts on, or rejects the file as a whole (`FileRejection`);
  `read_tables` does the same for several files of one extract, parsing files alike together
  (the loader's chunks).
- `parse_columns` converts the strings to the contract's types; a cell that does not convert
  becomes null and one row in `errors`, so the row verdict can be made later, row by row;
  `parse_many` does the same for several files of one extract in one pass (the loader's chunks).

Everything is columnar (polars expressions over whole columns): the whole history of a state is
millions of rows, and a Python loop per row would dominate the build.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import fastexcel
import numpy as np
import polars as pl

from contract import spec as contract
from contract.spec import Column, ColumnType, Extract
from ingest.reference import kreise
from ingest.rejections import FileRejection, Problem, RejectReason
from ingest.xlsx_guard import check_workbook

LINE = "_line"
"""Physical line of the delivered file where a row starts (CSV header = 1; XLSX: sheet row)."""

SUPPORTED_SUFFIXES = ("csv", "xlsx")
DELIMITERS = (";", ",")  # preferred first
ERROR_SCHEMA: dict[str, pl.DataType] = {
    LINE: pl.Int64(),
    "column": pl.String(),
    "rule": pl.String(),
    "value": pl.String(),
}
ROW_COLUMN = "_row"
"""`errors.column` for defects of a whole row rather than of one cell."""

_UTF8_BOM = b"\xef\xbb\xbf"
_ANY_SUFFIX = re.compile(r"^.*\.(?P<suffix>[^./\\]*)$")
_DIGITS = "[0-9]"  # not \d: the regex engine's \d also matches non-ASCII digits


# --------------------------------------------------------------------------------------------
# File names
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileName:
    extract: str  # lower-case contract name
    provider: str
    stand: dt.date
    suffix: str  # lower-case, without the dot
    name: str  # the file name as delivered


def parse_file_name(path: str | Path) -> FileName:
    """Check a delivered file's name against the contract, before anything reads the file."""
    name = Path(path).name
    suffix_match = _ANY_SUFFIX.match(name)
    suffix = suffix_match["suffix"].lower() if suffix_match else ""
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileRejection(RejectReason.UNSUPPORTED_FORMAT, {"file_name": name, "suffix": suffix})
    match = contract.FILE_NAME_PATTERN.match(name)
    if match is None:
        raise FileRejection(
            RejectReason.BAD_FILE_NAME, {"file_name": name, "problem": Problem.PATTERN}
        )
    try:
        stand = dt.date.fromisoformat(match["stand"])
    except ValueError:
        raise FileRejection(
            RejectReason.BAD_FILE_NAME,
            {"file_name": name, "problem": Problem.STAND_NOT_A_DATE, "stand": match["stand"]},
        ) from None
    extract_name = match["extract"].lower()
    if extract_name not in contract.EXTRACTS:
        raise FileRejection(
            RejectReason.UNKNOWN_EXTRACT,
            {"file_name": name, "extract": extract_name, "known": list(contract.EXTRACTS)},
        )
    _check_provider(contract.EXTRACTS[extract_name], match["provider"], name)
    _check_known_provider(match["provider"], name)
    return FileName(extract_name, match["provider"], stand, suffix, name)


def _check_known_provider(provider: str, name: str) -> None:
    """A provider's Kreis part must be one of the Kreise: a phantom unit would change LAND."""
    if provider == contract.AUTHORITY_PROVIDER or provider[:5] in kreise():
        return
    raise FileRejection(
        RejectReason.UNKNOWN_PROVIDER,
        {"file_name": name, "provider": provider, "n_kreise": len(kreise())},
    )


def check_stand(name: FileName, received: dt.date) -> None:
    """A stand after the day of arrival (plus a day for time zones) or before the programme
    began is a typo; accepted, it would stay current for ever and stretch every period grid."""
    limit = received + dt.timedelta(days=contract.STAND_TOLERANCE_DAYS)
    problem = None
    if name.stand > limit:
        problem = Problem.STAND_IN_FUTURE
    elif name.stand < contract.PROGRAMME_START:
        problem = Problem.STAND_BEFORE_PROGRAMME
    if problem is not None:
        raise FileRejection(
            RejectReason.BAD_STAND,
            {"file_name": name.name, "problem": problem, "stand": name.stand.isoformat(),
             "received": received.isoformat(), "start": contract.PROGRAMME_START.isoformat()},
        )  # fmt: skip


_PROVIDER_HINT = re.compile(r"(?:^|[_-])(08[0-9]{3}(?:[0-9]{3})?|08)(?:[_.-]|$)")


def provider_hint(name: str) -> str | None:
    """The provider AGS in a file name that breaks the contract, so its report reaches them."""
    match = _PROVIDER_HINT.search(name)
    return match[1] if match else None


def _check_provider(extract: Extract, provider: str, name: str) -> None:
    is_authority = provider == contract.AUTHORITY_PROVIDER
    if (extract.source == "authority") == is_authority:
        return
    problem = (
        Problem.AUTHORITY_EXTRACT if extract.source == "authority" else Problem.PROVIDER_EXTRACT
    )
    raise FileRejection(
        RejectReason.WRONG_PROVIDER_FOR_EXTRACT,
        {"file_name": name, "extract": extract.name, "provider": provider, "problem": problem},
    )


def _resolve(extract: Extract | str) -> Extract:
    return extract if isinstance(extract, Extract) else contract.EXTRACTS[extract.lower()]


# --------------------------------------------------------------------------------------------
# Reading files into string tables
# --------------------------------------------------------------------------------------------
@dataclass
class RawTable:
    """A delivered file as strings: trimmed, empty cells null, blank rows dropped.

    `frame` has `_line` and one String column per contract column, named by the contract
    (optional columns that were not delivered are all-null). `encoding` and `delimiter` are None
    for XLSX. `overlong_lines` are rows with more fields than the header (an unquoted
    delimiter inside a value, most likely), `short_lines` rows with fewer; their cells cannot be
    trusted (values have shifted into other columns) and `parse_columns` reports them as row
    errors only, without any of their values.
    """

    frame: pl.DataFrame
    encoding: str | None
    delimiter: str | None
    extra_columns: list[str]
    rows_delivered: int
    overlong_lines: list[int] = field(default_factory=list)
    short_lines: list[int] = field(default_factory=list)


def read_table(path: str | Path, extract: Extract | str) -> RawTable:
    """Read a delivered CSV or XLSX file; reject it whole when it cannot be read as a table.

    Whatever goes wrong inside a reader becomes a rejection of this file (`READ_FAILED`, naming
    only the error's type): one file must never stop the build for every other provider.
    """
    path = Path(path)
    suffix = _checked_suffix(path)
    if suffix == "csv":
        return _guarded(path, lambda: _read_csv(path, _resolve(extract)))

    def workbook() -> RawTable:
        check_workbook(path)
        return _read_xlsx(path, _resolve(extract))

    return _guarded(path, workbook)


def read_tables(paths: list[Path], extract: Extract | str) -> list[RawTable | FileRejection]:
    """`read_table` of each of `paths` (files of one extract), in order: its table, or the
    `FileRejection` it raises. The same tables and rejections as one call per file.

    CSV files without quotes or blank lines whose header, delimiter and width are the same are
    parsed together (`_CsvFile.batchable`): one CSV parse and one plan for all of them instead of
    two polars calls per file. A polars call on a small file costs more in handing its work to
    polars' threads and back than in the work, and far more when the ingest's other thread keeps
    both cores busy (`bw`'s 265 `stellen` CSV files of 16 rows: 0.37 s file by file, 0.007 s
    together; with both cores busy 1.3 s against 0.02 s). Without a quote no field holds a line
    break, so each line is one row wherever the file's lines sit in the joined text; a parse
    that disagrees with the files' line counts is done again file by file."""
    ex = _resolve(extract)
    results: list[RawTable | FileRejection | None] = [None] * len(paths)
    batches: dict[tuple[str, tuple[str, ...], int], list[tuple[int, _CsvFile]]] = {}
    for i, path in enumerate(paths):
        path = Path(path)
        try:
            if _checked_suffix(path) != "csv":
                results[i] = read_table(path, ex)
                continue
            prepared = _guarded(path, lambda path=path: _prepared_csv(path, ex))
        except FileRejection as rejection:
            results[i] = rejection
            continue
        if prepared.batchable:
            batches.setdefault(prepared.key, []).append((i, prepared))
        else:
            results[i] = _one_csv(prepared, ex)
    for members in batches.values():
        tables = _csv_together([m for _, m in members], ex) if len(members) > 1 else None
        for n, (i, prepared) in enumerate(members):
            results[i] = tables[n] if tables is not None else _one_csv(prepared, ex)
    return results  # type: ignore[return-value]


def _checked_suffix(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileRejection(
            RejectReason.UNSUPPORTED_FORMAT, {"file_name": path.name, "suffix": suffix}
        )
    return suffix


_R = TypeVar("_R")


def _guarded(path: Path, read: Callable[[], _R]) -> _R:
    """`read()`, with any error of the file turned into its rejection (`read_table`)."""
    try:
        return read()
    except FileRejection:
        raise
    except MemoryError:
        raise  # the machine's trouble, not the file's: the build must say so
    except OSError as error:
        if error.errno in _MACHINE_ERRNOS:
            raise
        raise FileRejection(
            RejectReason.UNREADABLE,
            {"file_name": path.name, "problem": Problem.READ_FAILED,
             "error": type(error).__name__},
        ) from error  # fmt: skip
    except Exception as error:  # any other defect of one file is that file's verdict
        # Only the type is kept: messages of parsers can quote cell values.
        raise FileRejection(
            RejectReason.UNREADABLE,
            {"file_name": path.name, "problem": Problem.READ_FAILED,
             "error": type(error).__name__},
        ) from error  # fmt: skip


def readable_row_count(path: str | Path, extract: Extract | str) -> int | None:
    """Data rows of a file rejected whole, as far as it can be read as a table; None otherwise.

    DQ02 (docs/indicators.md v2) counts the rows of a file rejected whole as delivered and not
    accepted: a file missing a required column still parses, and its non-blank rows after the
    header are what the provider delivered. A file that cannot be decoded or parsed has no row
    count.
    """
    path = Path(path)
    ex = _resolve(extract)
    try:
        if path.suffix.lower() == ".csv":
            utf8, _ = _decode(path.read_bytes(), path.name)
            header_line = utf8.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
            if len(header_line) > contract.CSV_MAX_HEADER_CHARS:
                return None  # not a header row: the file was rejected unread (HEADER_TOO_LONG)
            delimiter, header = _sniff_header(header_line, ex)
            cells = _parse_csv(utf8, delimiter, len(header), path.name).slice(1)
        elif path.suffix.lower() == ".xlsx":
            # the guard first, as in read_table: the XLSX reader aborts the process on a workbook
            # declaring a huge grid (FileRejection: no rows can be counted)
            check_workbook(path)
            header, cells = _load_first_sheet(path)
            if not header:
                return None
            cells = cells.select(pl.all().cast(pl.String))
        else:
            return None
    except MemoryError:
        raise  # the machine's trouble, as in read_table
    except OSError as error:
        if error.errno in _MACHINE_ERRNOS:
            raise
        return None
    except Exception:
        # The file is rejected already and its rows are a best effort: any reader error here
        # would otherwise escape the ingest (a damaged workbook's deflate stream raised
        # zlib.error; found by `make fuzz`).
        return None
    if cells.width == 0:
        return 0
    return (
        cells.select(_trimmed(c) for c in cells.columns)
        .filter(pl.any_horizontal(pl.col(c).is_not_null() for c in cells.columns))
        .height
    )


@dataclass(frozen=True)
class _CsvFile:
    """A CSV file decoded, its header checked and its records counted: what is known of it
    before its cells are parsed."""

    path: Path
    utf8: bytes
    encoding: str
    delimiter: str
    header: list[str]
    fields: pl.Series  # fields per record, header included
    width: int

    @property
    def batchable(self) -> bool:
        """Parsed beside other files, each line is this file's row as when parsed alone: no
        quote (no field spans lines, no quote reaches into the next file), no blank line (a
        parser may treat one at the end of a text otherwise than within it), and a line end
        after the last line."""
        utf8 = self.utf8
        return (
            b'"' not in utf8
            and utf8.endswith(b"\n")
            and b"\n\n" not in utf8
            and b"\n\r\n" not in utf8
            and not utf8.startswith((b"\n", b"\r\n"))
        )

    @property
    def key(self) -> tuple[str, tuple[str, ...], int]:
        """Files parsed together share the delimiter, the header and the width."""
        return self.delimiter, tuple(self.header), self.width


def _read_csv(path: Path, extract: Extract) -> RawTable:
    return _parsed_alone(_prepared_csv(path, extract), extract)


def _prepared_csv(path: Path, extract: Extract) -> _CsvFile:
    utf8, encoding = _decode(path.read_bytes(), path.name)
    utf8 = _unify_line_ends(utf8)
    header_line = utf8.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    if len(header_line) > contract.CSV_MAX_HEADER_CHARS:
        raise FileRejection(
            RejectReason.UNREADABLE,
            {"file_name": path.name, "problem": Problem.HEADER_TOO_LONG,
             "limit": contract.CSV_MAX_HEADER_CHARS},
        )  # fmt: skip
    delimiter, header = _sniff_header(header_line, extract)
    _check_header(header, extract, path.name)
    fields = _fields_per_record(utf8, delimiter)
    widest = fields.max() or 1
    if widest > len(header) + contract.CSV_MAX_SURPLUS_FIELDS:
        raise FileRejection(
            RejectReason.UNREADABLE,
            {"file_name": path.name, "problem": Problem.TOO_MANY_FIELDS,
             "header_fields": len(header), "delimiter": delimiter,
             "surplus": contract.CSV_MAX_SURPLUS_FIELDS},
        )  # fmt: skip
    width = max(len(header), widest)
    return _CsvFile(path, utf8, encoding, delimiter, header, fields, width)


def _parsed_alone(f: _CsvFile, extract: Extract) -> RawTable:
    cells = _parse_csv(f.utf8, f.delimiter, f.width, f.path.name)
    if cells.height != f.fields.len():
        # Quoting the two parsers read differently: the rows cannot be told apart reliably.
        raise FileRejection(
            RejectReason.UNREADABLE,
            {"file_name": f.path.name, "problem": Problem.MALFORMED_CSV},
        )
    # without a quote character no field can hold a line break: each row is one line
    lines = _csv_line_numbers(cells.columns) if b'"' in f.utf8 else pl.int_range(1, pl.len() + 1)
    cells = cells.with_columns(lines.alias(LINE), f.fields.alias(_FIELDS)).slice(1)
    return _assemble(
        f.header, cells, extract, f.encoding, f.delimiter,
        spares=cells.columns[len(f.header) : f.width],
    )  # fmt: skip


def _one_csv(f: _CsvFile, extract: Extract) -> RawTable | FileRejection:
    """The file's table parsed alone, or its rejection (`read_table` raises it; this returns
    it)."""
    try:
        return _guarded(f.path, lambda: _parsed_alone(f, extract))
    except FileRejection as rejection:
        return rejection


def _csv_together(files: list[_CsvFile], extract: Extract) -> list[RawTable] | None:
    """The tables of `files` (batchable, one key) from one parse of their joined text; None when
    that fails or counts other rows than their lines (then each is read alone, `_one_csv`)."""
    first = files[0]
    lengths = np.array([f.fields.len() for f in files], dtype=np.int64)
    try:
        cells = _parse_csv(
            b"".join(f.utf8 for f in files), first.delimiter, first.width, first.path.name
        )
        if cells.height != int(lengths.sum()):
            return None
        starts = np.cumsum(lengths) - lengths
        # each file's lines from 1 (its header), its header row dropped, the rest in order
        within = np.arange(cells.height, dtype=np.int64) - np.repeat(starts, lengths)
        cells = cells.with_columns(
            pl.Series(LINE, within + 1), pl.concat([f.fields for f in files]).alias(_FIELDS)
        ).filter(pl.Series(within > 0))
        return _assemble_files(
            first.header,
            cells,
            extract,
            [(f.encoding, int(n) - 1) for f, n in zip(files, lengths, strict=True)],
            first.delimiter,
            spares=cells.columns[len(first.header) : first.width],
        )
    except Exception:  # read alone, each file gets its own verdict
        return None


_MACHINE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.ENOMEM}
"""Errors of the machine, not of the delivered file: they fail the build loudly."""
_FIELDS = "_fields"
_QUOTED = re.compile(rb'"[^"]*"')


def _unify_line_ends(utf8: bytes) -> bytes:
    """CR-only line ends (classic Mac, some Excel exports) are a CSV dialect: read them as LF.

    Only when the file has no LF at all; otherwise a lone CR is part of a value.
    """
    if b"\r" in utf8 and b"\n" not in utf8:
        return utf8.replace(b"\r", b"\n")
    return utf8


def _fields_per_record(utf8: bytes, delimiter: str) -> pl.Series:
    """Number of fields of every record, header included, in file order.

    Quoted sections (which may hold delimiters and line breaks) are removed first; what is left
    has one line per record, and its delimiters separate fields. The CSV parser pads short rows
    silently, so this count is the only way to see them.
    """
    text = _QUOTED.sub(b"", utf8) if b'"' in utf8 else utf8
    if text.endswith(b"\n"):
        text = text[:-1]
    # on the bytes: the delimiter and the line feed are ASCII, which never occurs inside a
    # multi-byte UTF-8 character (a polars split per file cost ≈ 1 ms, 2.2 s of the `bw` files)
    data = np.frombuffer(text, dtype=np.uint8)
    line_ends = np.flatnonzero(data == ord("\n"))
    delimiters = np.flatnonzero(data == ord(delimiter))
    # delimiters before each line end, then per line the difference (the last line ends the text)
    before = np.concatenate(([0], np.searchsorted(delimiters, line_ends), [delimiters.size]))
    return pl.Series(np.diff(before) + 1, dtype=pl.Int64)


def _decode(data: bytes, file_name: str) -> tuple[bytes, str]:
    """Return the file as UTF-8 without BOM plus the encoding it was delivered in.

    Decoding is strict: Windows-1252 decodes almost any byte sequence, so trying it only after
    UTF-8 failed is what keeps UTF-8 files from being silently misread as mojibake.
    """
    body = data.removeprefix(_UTF8_BOM)
    if not body.strip():
        raise FileRejection(RejectReason.EMPTY_FILE, {"file_name": file_name})
    if b"\x00" in body:
        raise FileRejection(
            RejectReason.UNREADABLE, {"file_name": file_name, "problem": Problem.BINARY}
        )
    has_bom = len(body) < len(data)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        if has_bom:
            raise _bad_encoding(data, utf8_error.start + len(_UTF8_BOM), file_name) from None
        try:
            return body.decode("cp1252").encode("utf-8"), "cp1252"
        except UnicodeDecodeError as cp1252_error:
            raise _bad_encoding(data, cp1252_error.start, file_name) from None
    return body, "utf-8-sig" if has_bom else "utf-8"


def _bad_encoding(data: bytes, offset: int, file_name: str) -> FileRejection:
    return FileRejection(
        RejectReason.BAD_ENCODING,
        {"file_name": file_name, "byte_offset": offset, "line": data.count(b"\n", 0, offset) + 1},
    )


def _sniff_header(line: str, extract: Extract) -> tuple[str, list[str]]:
    """Choose the delimiter by which the header splits into more contract column names.

    `;` is the contract's delimiter and wins ties; `,` wins only when the header parses into
    more known columns that way, so a `;` file with a comma inside a header name stays `;`.
    """
    known = {c.name for c in extract.columns}
    candidates = [(d, next(csv.reader([line], delimiter=d), [])) for d in DELIMITERS]
    delimiter, header = max(
        candidates, key=lambda c: len(known.intersection(_normalise(name) for name in c[1]))
    )
    return delimiter, header or [""]


def _parse_csv(utf8: bytes, delimiter: str, width: int, file_name: str) -> pl.DataFrame:
    """Parse all rows, header included, as strings, as wide as the widest row.

    Columns beyond the header catch surplus fields, so that such a row becomes a row error
    instead of a rejected file.
    """
    schema = {f"c{i}": pl.String for i in range(width)}
    try:
        return pl.read_csv(
            utf8,
            has_header=False,
            separator=delimiter,
            schema=schema,
            missing_columns="insert",
            truncate_ragged_lines=False,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError as error:
        # polars' message is matched only to choose our wording; it is never shown, because it
        # can quote cell values.
        problem = Problem.TOO_MANY_FIELDS if "more fields" in str(error) else Problem.MALFORMED_CSV
        raise FileRejection(
            RejectReason.UNREADABLE,
            {
                "file_name": file_name,
                "problem": problem,
                "header_fields": width,
                "delimiter": delimiter,
            },
        ) from None


def _csv_line_numbers(columns: list[str]) -> pl.Expr:
    """Line where each parsed row starts: rows before it, plus newlines inside quoted fields."""
    newlines = pl.sum_horizontal(
        pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in columns
    )
    lines_per_row = (newlines + 1).cast(pl.Int64)
    return (lines_per_row.cum_sum() - lines_per_row + 1).alias(LINE)


def _read_xlsx(path: Path, extract: Extract) -> RawTable:
    """Read the first sheet; `xlsx_guard.check_workbook` must have passed it first."""
    header, cells = _load_first_sheet(path)
    if not header:
        raise FileRejection(RejectReason.EMPTY_FILE, {"file_name": path.name})
    _check_header(header, extract, path.name)
    width = max(len(header), cells.width)
    header = header + [""] * (width - len(header))
    texts = [_excel_text(name, dtype) for name, dtype in cells.schema.items()]
    texts += [pl.lit(None, pl.String)] * (width - len(texts))
    cells = cells.select(
        *(text.alias(f"c{i}") for i, text in enumerate(texts)),
        pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias(LINE),
    )
    return _assemble(header, cells, extract, None, None)


def _load_first_sheet(path: Path) -> tuple[list[str], pl.DataFrame]:
    """Header cells of row 1 as text, and the cells from row 2 on with the types Excel stored.

    The data rows are read with inferred types rather than fastexcel's string conversion,
    which prints floats with nine decimals (99999999.99 becomes "99999999.989999995"); the
    header row is read separately so its text does not turn every column into strings.
    Leading empty rows are kept (skip_rows=0/1 instead of the default), so that a frame index
    maps to a sheet row.
    """
    try:
        header_row = _read_sheet(path, {"skip_rows": 0, "n_rows": 1, "dtypes": "string"})
        if header_row.height == 0:
            return [], pl.DataFrame()
        cells = _read_sheet(path, {"skip_rows": 1}, infer_schema_length=None)
    except (fastexcel.FastExcelError, pl.exceptions.PolarsError) as error:
        raise FileRejection(
            RejectReason.UNREADABLE, {"file_name": path.name, "problem": Problem.CORRUPT_XLSX}
        ) from error
    return [v if v is not None else "" for v in header_row.row(0)], cells


def _read_sheet(path: Path, read_options: dict[str, object], **options: object) -> pl.DataFrame:
    return pl.read_excel(
        path,
        engine="calamine",
        has_header=False,
        read_options={"header_row": None, **read_options},
        drop_empty_rows=False,
        drop_empty_cols=False,
        raise_if_empty=False,
        **options,
    )


def _excel_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """Render one typed sheet column as the text a clerk sees in Excel.

    Numbers are rounded to Excel's 15 significant digits (0.1+0.2 is "0.3") and whole numbers
    lose the ".0"; dates print as YYYY-MM-DD, date-times keep their time unless it is midnight.
    """
    cell = pl.col(name)
    if dtype.is_float():
        rounded = cell.round_sig_figs(15)
        whole = (rounded == rounded.floor()) & (rounded.abs() < 2.0**63)
        return (
            pl.when(whole)
            .then(rounded.cast(pl.Int64, strict=False).cast(pl.String))
            .otherwise(rounded.cast(pl.String))
        )
    if dtype == pl.Date:
        return cell.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return (
            pl.when(cell.dt.time() == dt.time(0))
            .then(cell.dt.strftime("%Y-%m-%d"))
            .otherwise(cell.dt.strftime("%Y-%m-%d %H:%M:%S"))
        )
    if dtype == pl.String:
        # Columns mixing text and dates come back as text with the date cells as date-times.
        return cell.str.replace(r"^([0-9]{4}-[0-9]{2}-[0-9]{2}) 00:00:00$", "$1")
    return cell.cast(pl.String)


def _normalise(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower()


def _assemble(
    header: list[str],
    cells: pl.DataFrame,
    extract: Extract,
    encoding: str | None,
    delimiter: str | None,
    spares: list[str] | None = None,
) -> RawTable:
    """Map positional string columns to contract columns by header name; shared by CSV/XLSX.

    `cells` holds one column per header position (in order), `_line`, and from the CSV reader
    the `spares` columns beyond the header and `_fields` (fields per row). Unknown and unnamed
    columns are dropped only after blank rows are known: a value anywhere makes a row a
    delivered row, even one the contract cannot use.
    """
    return _assemble_files(header, cells, extract, [(encoding, cells.height)], delimiter, spares)[0]


_FILE = "_file_of_row"


def _assemble_files(
    header: list[str],
    cells: pl.DataFrame,
    extract: Extract,
    files: list[tuple[str | None, int]],
    delimiter: str | None,
    spares: list[str] | None = None,
) -> list[RawTable]:
    """`_assemble` of several files with one header, whose rows follow each other in `cells`:
    per file its encoding and number of rows, in order. One table per file, each as `_assemble`
    of its rows alone makes it (the checks that look at a whole file, the usual number of fields
    and which unnamed columns hold values, are made per file)."""
    spares = spares or []
    positions = [c for c in cells.columns if c not in (LINE, _FIELDS, *spares)]
    names = [_normalise(h) for h in header]
    everything = [*positions, *spares]
    counted = [_FIELDS] if _FIELDS in cells.columns else []
    delivered = dict(zip(names, positions, strict=True))
    unnamed = [pos for name, pos in zip(names, positions, strict=True) if not name]
    columns = [c.name for c in extract.columns]
    rows = np.array([n for _, n in files], dtype=np.int64)
    # One plan, one collect: the non-blank rows with the contract's columns and what the checks
    # below read (spare fields, fields per row, unnamed columns); the checks then work on the
    # collected columns without the query engine. A file costs a fixed number of polars calls
    # whatever its size. Five plans collected together (`pl.collect_all`) took 1.8 ms of a
    # 16-row file; reading all 2,405 `bw` files took 16.2 s that way, 12.7 s this way, with the
    # same tables for them and for 3,000 fuzzed and 162 defective files (2026-12-06, Xeon).
    non_blank = (
        cells.lazy()
        .with_columns(pl.Series(_FILE, np.repeat(np.arange(len(files)), rows)))
        .select(pl.col(LINE), pl.col(_FILE), *counted, *(_trimmed(c) for c in everything))
        .filter(pl.any_horizontal(pl.col(c).is_not_null() for c in everything))
        .select(
            pl.col(LINE),
            pl.col(_FILE),
            *counted,
            *(
                pl.col(delivered[name]).alias(name)
                if name in delivered
                else pl.lit(None, pl.String).alias(name)
                for name in columns
            ),
            *spares,
            *unnamed,
        )
        .collect()
    )
    frame = pl.DataFrame([non_blank.get_column(c) for c in (LINE, *columns)])
    lines = non_blank.get_column(LINE).to_numpy()
    # the files' rows in `non_blank`: from bounds[i] to bounds[i + 1] (their order is kept)
    bounds = np.searchsorted(non_blank.get_column(_FILE).to_numpy(), np.arange(len(files) + 1))
    spare_filled = np.zeros(len(lines), dtype=bool)
    for spare in spares:
        spare_filled |= non_blank.get_column(spare).is_not_null().to_numpy()
    unnamed_filled = [non_blank.get_column(p).is_not_null().to_numpy() for p in unnamed]
    fields_all = non_blank.get_column(_FIELDS).to_numpy() if counted else None
    # Trailing unnamed header cells (a trailing delimiter) are not fields a row must have.
    needed = max((i + 1 for i, name in enumerate(names) if name), default=0)
    tables = []
    for i, (encoding, _) in enumerate(files):
        a, b = int(bounds[i]), int(bounds[i + 1])
        overlong = spare_filled[a:b].copy()
        short = np.zeros(b - a, dtype=bool)
        if fields_all is not None:
            fields = fields_all[a:b]
            if len(fields):
                # A surplus field left empty is a trailing delimiter only where the file's rows
                # usually end that way; one row longer than the header and than the usual row
                # was shifted (a cell inserted before its id: "X;P-1;CODE;…;"), so its id sits
                # under another column's name and must not be read or quoted (found by
                # `make fuzz`).
                values, counts = np.unique(fields, return_counts=True)
                usual = values[counts == counts.max()].max()  # the most common length (largest)
                overlong |= (fields > len(names)) & (fields != usual)
            short = fields < needed
        overlong_lines, short_lines = lines[a:b][overlong].tolist(), lines[a:b][short].tolist()
        filled = [bool(values[a:b].any()) for values in unnamed_filled]
        extra = _extra_columns(header, names, positions, unnamed, filled, extract)
        table = frame.slice(a, b - a)
        if overlong_lines or short_lines:
            # Shifted cells may hold an id or free text under another column's name: blank them
            # before any check can quote them (reports, Data Docs).
            misaligned = pl.Series(LINE, [*overlong_lines, *short_lines], pl.Int64).implode()
            table = table.with_columns(
                pl.when(~pl.col(LINE).is_in(misaligned)).then(pl.col(name)).alias(name)
                for name in columns
            )
        tables.append(
            RawTable(table, encoding, delimiter, extra, table.height, overlong_lines, short_lines)
        )
    return tables


def _check_header(header: list[str], extract: Extract, file_name: str) -> None:
    names = [_normalise(h) for h in header]
    duplicates = sorted(name for name, n in Counter(n for n in names if n).items() if n > 1)
    if duplicates:
        raise FileRejection(
            RejectReason.UNREADABLE,
            {"file_name": file_name, "problem": Problem.DUPLICATE_COLUMNS, "columns": duplicates},
        )
    missing = [c.name for c in extract.required_columns if c.name not in names]
    if missing:
        detail: dict[str, object] = {"file_name": file_name, "columns": missing}
        if not any(names):
            detail["problem"] = Problem.HEADER_ROW_EMPTY
        raise FileRejection(RejectReason.MISSING_COLUMNS, detail)


def _trimmed(column: str) -> pl.Expr:
    value = pl.col(column).str.strip_chars()
    return pl.when(value != "").then(value).alias(column)


def _extra_columns(
    header: list[str],
    names: list[str],
    positions: list[str],
    unnamed: list[str],
    filled: list[bool],
    extract: Extract,
) -> list[str]:
    """Unknown columns to name in a warning: named ones as delivered, unnamed ones holding
    values as `#<position>` (1-based), so the clerk can find them (`filled`: per unnamed
    position, whether a non-blank row holds a value there)."""
    known = {c.name for c in extract.columns}
    filled_unnamed = {pos for pos, has_value in zip(unnamed, filled, strict=True) if has_value}
    extra = []
    for index, (raw, name, pos) in enumerate(zip(header, names, positions, strict=True)):
        if name and name not in known:
            extra.append(raw.strip())
        elif pos in filled_unnamed:
            extra.append(f"#{index + 1}")
    return extra


# --------------------------------------------------------------------------------------------
# Typed columns
# --------------------------------------------------------------------------------------------
@dataclass
class ParsedTable:
    """Typed contract columns (free text only as `<name>_vorhanden`) plus `_line`, and one row
    in `errors` per cell (or row) that broke a type rule."""

    frame: pl.DataFrame
    errors: pl.DataFrame


Conversion = tuple[pl.Expr, str | None]
"""The typed value (null where the cell is empty or broke the rule) and the rule's name
(None: the type cannot fail, as for codes and free text)."""


def parse_columns(raw: RawTable, extract: Extract | str, stand: dt.date) -> ParsedTable:
    """Convert each contract column to its type; cells that do not convert become errors.

    Only type rules live here. Code lists, ranges, required values and cross-row rules belong
    to validation; `stand` is accepted so both stages share a signature, but no type rule of
    contract v1 depends on it.
    """
    return _parse(raw.frame, _resolve(extract), [], _misaligned(raw))


_PART = "_part"
"""`parse_many`'s position of a file in its list: the errors' order (file by file), not the
labels' values."""


def parse_many(
    raws: list[tuple[dict[str, int | str], RawTable]], extract: Extract | str
) -> ParsedTable:
    """`parse_columns` of several files of one extract at once: each file's rows and errors
    carry its labels (the same names for every file, e.g. its delivery id), as leading columns.

    The same values and errors as one call per file, in the same order (`raws`' order): typing
    is column by column, so a chunk of files takes one pass instead of ≈ 25 small frame
    operations per file (no type rule depends on the stand). On `bw` (2,405 files) reading and
    typing took 27.6 s file by file, ≈ 17 s reading plus 3 s typing by chunk. At least one
    file (the ingest hands over no chunk without one, `ingest.load._typed_chunk`)."""
    if not raws:
        raise ValueError("parse_many: no files to type")
    keys = list(raws[0][0])
    dtypes = _label_dtypes([labels for labels, _ in raws], keys)
    # The files' rows joined once, then each file's part and labels as whole columns, not a few
    # polars calls per file (a call costs more than a small file's rows), of the types literals
    # per file (`pl.lit`) joined by a relaxed concat would have.
    part = np.repeat(np.arange(len(raws)), [raw.frame.height for _, raw in raws])
    frame = pl.concat([raw.frame for _, raw in raws], how="vertical_relaxed").with_columns(
        pl.Series(_PART, part, pl.Int64),
        *(pl.Series(k, [labels[k] for labels, _ in raws], dtypes[k]).gather(part) for k in keys),
    )
    # only files with misaligned rows have row errors; the empty frame gives the types
    misaligned = pl.concat(
        [
            pl.DataFrame(schema={**ERROR_SCHEMA, _PART: pl.Int64(), **dtypes}),
            *(
                _misaligned(raw).with_columns(
                    pl.lit(i, pl.Int64).alias(_PART),
                    *(pl.lit(labels[k], dtypes[k]).alias(k) for k in keys),
                )
                for i, (labels, raw) in enumerate(raws)
                if raw.overlong_lines or raw.short_lines
            ),
        ],
        how="vertical",
    )
    parsed = _parse(frame, _resolve(extract), [_PART, *keys], misaligned)
    return ParsedTable(parsed.frame.drop(_PART), parsed.errors.drop(_PART))


_INT32 = (-(2**31), 2**31 - 1)


def _label_dtypes(labels: list[dict[str, int | str]], keys: list[str]) -> dict[str, pl.DataType]:
    """Per label, the type its values' literals (`pl.lit`) joined by a relaxed concat have:
    Int32 when every value fits in it, else Int64, for ints; String for strings. A label of
    another kind, or of mixed kinds, is a `TypeError`."""
    dtypes: dict[str, pl.DataType] = {}
    for k in keys:
        values = [one[k] for one in labels]
        if all(isinstance(v, str) for v in values):
            dtypes[k] = pl.String()
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            small = all(_INT32[0] <= v <= _INT32[1] for v in values)  # type: ignore[operator]
            dtypes[k] = pl.Int32() if small else pl.Int64()
        else:
            raise TypeError(
                f"label {k!r}: ints or strings, not {sorted({type(v).__name__ for v in values})}"
            )
    return dtypes


def _misaligned(raw: RawTable) -> pl.DataFrame:
    """The row errors of rows whose fields do not line up with the header."""
    return pl.concat(
        [
            _row_errors(raw.overlong_lines, FIELD_COUNT_RULES[0]),
            _row_errors(raw.short_lines, FIELD_COUNT_RULES[1]),
        ],
        how="vertical",
    )


def _parse(
    cells: pl.DataFrame, extract: Extract, keys: list[str], misaligned: pl.DataFrame
) -> ParsedTable:
    conversions = {c.name: _CONVERTERS[c.type](pl.col(c.name)) for c in extract.columns}
    frame = cells.select(
        *keys,
        pl.col(LINE),
        *(conversions[c.name][0].alias(c.raw_name) for c in extract.columns),
    )
    errors = pl.concat(
        [
            *(_cell_errors(cells, c, conversions[c.name], keys) for c in extract.columns),
            misaligned.select(*keys, *ERROR_SCHEMA),
        ],
        how="vertical",
    )
    # file by file (the first key, when several files are parsed together), then by line
    return ParsedTable(frame, errors.sort(*keys[:1], LINE, maintain_order=True))


def _cell_errors(
    cells: pl.DataFrame, column: Column, conversion: Conversion, keys: list[str]
) -> pl.DataFrame:
    value, rule = conversion
    if rule is None:
        return cells.select(*keys).clear().hstack(pl.DataFrame(schema=ERROR_SCHEMA))
    cell = pl.col(column.name)
    # Ids are pseudonymised only later, and free text is never kept: neither may be echoed.
    echo = pl.lit(None, pl.String) if column.type in (ColumnType.ID, ColumnType.TEXT) else cell
    return cells.filter(cell.is_not_null() & value.is_null()).select(
        *keys,
        pl.col(LINE),
        pl.lit(column.name).alias("column"),
        pl.lit(rule).alias("rule"),
        echo.alias("value"),
    )


FIELD_COUNT_RULES = ("row:too_many_fields", "row:too_few_fields")
"""Row errors of rows whose fields do not line up with the header: none of their values is
trustworthy, so none of them is ever echoed (the loader drops their other errors)."""


def _row_errors(lines: list[int], rule: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            LINE: lines,
            "column": [ROW_COLUMN] * len(lines),
            "rule": [rule] * len(lines),
            "value": [None] * len(lines),
        },
        schema=ERROR_SCHEMA,
    )


def _to_id(cell: pl.Expr) -> Conversion:
    return pl.when(cell.str.len_chars() <= contract.ID_MAX_LENGTH).then(cell), "type:id_length"


def _to_int(cell: pl.Expr) -> Conversion:
    # Separators are not allowed: "1.000" and "3,0" would be guesses.
    digits = cell.str.contains(rf"^[+-]?{_DIGITS}+$")
    return (
        pl.when(digits).then(cell.str.strip_prefix("+").cast(pl.Int32, strict=False)),
        "type:int",
    )


_DECIMAL_GERMAN = rf"^[+-]?{_DIGITS}{{1,3}}(?:\.{_DIGITS}{{3}})+,{_DIGITS}+$"
"""1.234,56 — thousands dots only together with a decimal comma ..."""
_DECIMAL_GERMAN_WHOLE = rf"^[+-]?{_DIGITS}{{1,3}}(?:\.{_DIGITS}{{3}}){{2,}}$"
"""... or when there are two of them (1.234.567); "1.234" alone is ambiguous."""
_DECIMAL_PLAIN = rf"^[+-]?{_DIGITS}+(?:[.,]{_DIGITS}+)?$"
_DECIMAL_NORMALISED = rf"^[+-]?{_DIGITS}{{1,16}}(?:\.{_DIGITS}{{1,2}})?$"
"""What fits DECIMAL(18,2) exactly: more decimals would have to be rounded, i.e. guessed."""


def _to_decimal(cell: pl.Expr) -> Conversion:
    german = cell.str.contains(_DECIMAL_GERMAN) | cell.str.contains(_DECIMAL_GERMAN_WHOLE)
    normalised = (
        pl.when(german)
        .then(cell.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
        .when(cell.str.contains(_DECIMAL_PLAIN))
        .then(cell.str.replace(",", ".", literal=True))
    )
    value = (
        pl.when(normalised.str.contains(_DECIMAL_NORMALISED))
        .then(normalised.str.strip_prefix("+").str.to_decimal(scale=2))
        .cast(pl.Decimal(18, 2))
    )
    return value, "type:decimal"


def _to_date(cell: pl.Expr) -> Conversion:
    # The regexes gate polars' parser, which would also take "1.2.2025" or "2025-1-01".
    iso = cell.str.contains(rf"^{_DIGITS}{{4}}-{_DIGITS}{{2}}-{_DIGITS}{{2}}$")
    german = cell.str.contains(rf"^{_DIGITS}{{2}}\.{_DIGITS}{{2}}\.{_DIGITS}{{4}}$")
    value = (
        pl.when(iso)
        .then(cell.str.to_date("%Y-%m-%d", strict=False))
        .when(german)
        .then(cell.str.to_date("%d.%m.%Y", strict=False))
    )
    return value, "type:date"


def _to_bool(cell: pl.Expr) -> Conversion:
    spelled = cell.str.to_lowercase()
    value = (
        pl.when(spelled.is_in(contract.TRUE_SPELLINGS))
        .then(pl.lit(True))
        .when(spelled.is_in(contract.FALSE_SPELLINGS))
        .then(pl.lit(False))
    )
    return value, "type:bool"


def _to_ags8(cell: pl.Expr) -> Conversion:
    gemeinde = cell.str.contains(rf"^08{_DIGITS}{{6}}$")
    return pl.when(gemeinde & _in_known_kreis(cell)).then(cell), "type:ags8"


def _to_ags(cell: pl.Expr) -> Conversion:
    kreis_or_gemeinde = cell.str.contains(rf"^08{_DIGITS}{{3}}(?:{_DIGITS}{{3}})?$")
    return pl.when(kreis_or_gemeinde & _in_known_kreis(cell)).then(cell), "type:ags"


def _in_known_kreis(cell: pl.Expr) -> pl.Expr:
    """The Kreis part (first five digits) is one of the Kreise: a Gemeinde outside every known
    Kreis would become a phantom unit."""
    return cell.str.slice(0, 5).is_in(sorted(kreise()))


def _to_code(cell: pl.Expr) -> Conversion:
    # Code lists are checked by validation, which can name the list in its report.
    return cell, None


def _to_presence(cell: pl.Expr) -> Conversion:
    return cell.is_not_null(), None


_CONVERTERS: dict[ColumnType, Callable[[pl.Expr], Conversion]] = {
    ColumnType.ID: _to_id,
    ColumnType.INT: _to_int,
    ColumnType.DECIMAL: _to_decimal,
    ColumnType.DATE: _to_date,
    ColumnType.BOOL: _to_bool,
    ColumnType.AGS8: _to_ags8,
    ColumnType.AGS: _to_ags,
    ColumnType.CODE: _to_code,
    ColumnType.TEXT: _to_presence,
}
