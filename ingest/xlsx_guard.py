"""Check an XLSX workbook before the XLSX reader sees it.

The reader (calamine, through fastexcel/polars) allocates the first sheet's cell grid at once:
a 1.7 KB file that declares or uses a cell at `XFD1048576` makes it ask for hundreds of GiB and
the process aborts — no exception, no verdict, every later build dies the same way. A 1 MB file
can hold a cell that inflates to 1 GB. So the ZIP container is inspected first, with bounded
memory and time, and a workbook beyond the contract's limits is rejected whole:

- the first sheet (workbook order, as the reader takes it) must exist and not be hidden;
- every part inflates to at most `XLSX_MAX_INFLATED_BYTES` in total (counted while inflating, so a
  lying ZIP directory does not help);
- the sheet's declared `<dimension>` and the extent of the cells it really uses span at most
  `XLSX_MAX_CELLS` cells;
- no cell holds an Excel error (`#REF!`, `#DIV/0!` …): the reader would turn it into an empty cell.

The sheet XML is scanned in chunks with regular expressions (C speed, no per-cell Python work).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from contract.spec import XLSX_MAX_CELLS, XLSX_MAX_INFLATED_BYTES
from ingest.rejections import FileRejection, Problem, RejectReason

_CHUNK = 1 << 20
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="([A-Za-z]{1,4})?([0-9]{1,10})?(?::([A-Za-z]{1,4})([0-9]{1,10}))?"'
)
_CELL_REF = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,4})([0-9]{1,10})"')
_ROW_REF = re.compile(rb'<(?:\w+:)?row\s[^>]*?\br="([0-9]{1,10})"')
_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\bt="e"')
_OVERLAP = 512
"""Bytes carried from one chunk to the next so that no tag is split between two scans."""


_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)
"""What reading a damaged member raises (bad CRC or deflate stream, cut short, an unknown
compression method, encryption): the workbook is corrupt, not the machine in trouble."""


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch - 64)
    return n


def _reject(name: str, problem: Problem, **facts: object) -> FileRejection:
    return FileRejection(RejectReason.UNREADABLE, {"file_name": name, "problem": problem, **facts})


def _first_sheet(zf: zipfile.ZipFile, name: str) -> str:
    """Path of the workbook's first sheet inside the container; hidden → rejected."""
    try:
        workbook = ElementTree.fromstring(_read_small(zf, "xl/workbook.xml", name))
        rels = ElementTree.fromstring(_read_small(zf, "xl/_rels/workbook.xml.rels", name))
    except ElementTree.ParseError:
        raise _reject(name, Problem.CORRUPT_XLSX) from None
    sheet = workbook.find(f"{{{_MAIN_NS}}}sheets/{{{_MAIN_NS}}}sheet")
    if sheet is None:
        raise _reject(name, Problem.CORRUPT_XLSX)
    if sheet.get("state") in ("hidden", "veryHidden"):
        raise _reject(name, Problem.XLSX_HIDDEN_SHEET, sheet=sheet.get("name", ""))
    rel_id = sheet.get(f"{{{_REL_NS}}}id")
    target = next(
        (r.get("Target") for r in rels.iter(f"{{{_PKG_REL_NS}}}Relationship")
         if r.get("Id") == rel_id),
        None,
    )  # fmt: skip
    if not target:
        raise _reject(name, Problem.CORRUPT_XLSX)
    path = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
    if path not in zf.namelist():
        raise _reject(name, Problem.CORRUPT_XLSX)
    return path


def _read_small(zf: zipfile.ZipFile, member: str, name: str) -> bytes:
    """A small part (workbook, relationships), inflated with a cap."""
    try:
        with zf.open(member) as fh:
            data = fh.read(16 * _CHUNK + 1)
    except (KeyError, *_DAMAGED):
        raise _reject(name, Problem.CORRUPT_XLSX) from None
    if len(data) > 16 * _CHUNK:
        raise _reject(name, Problem.XLSX_TOO_LARGE, limit_mb=XLSX_MAX_INFLATED_BYTES >> 20)
    return data


class _SheetScan:
    """Extent of the used cells, the declared dimension and error cells, chunk by chunk."""

    def __init__(self) -> None:
        self.max_row = 0
        self.max_col = 0
        self.declared: tuple[int, int] | None = None
        self.errors = False

    def feed(self, chunk: bytes) -> None:
        if self.declared is None and (m := _DIMENSION.search(chunk)):
            last_col, last_row = (m[3], m[4]) if m[3] else (m[1], m[2])
            self.declared = (int(last_row or 1), _column_number(last_col or b"A"))
        refs = _CELL_REF.findall(chunk)
        if refs:
            # (length, text) orders column letters and row digits numerically.
            widest = max(refs, key=lambda c: (len(c[0]), c[0]))[0]
            lowest = max(refs, key=lambda c: (len(c[1]), c[1]))[1]
            self.max_col = max(self.max_col, _column_number(widest))
            self.max_row = max(self.max_row, int(lowest))
        rows = _ROW_REF.findall(chunk)
        if rows:
            self.max_row = max(self.max_row, int(max(rows, key=lambda r: (len(r), r))))
        self.errors = self.errors or _ERROR_CELL.search(chunk) is not None


def check_workbook(path: Path) -> None:
    """Raise `FileRejection` when the workbook is beyond the contract's limits (see module doc)."""
    name = path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _reject(name, Problem.CORRUPT_XLSX) from None
    with zf:
        sheet = _first_sheet(zf, name)
        inflated = 0
        scan = _SheetScan()
        for info in zf.infolist():
            if info.is_dir():
                continue
            try:
                with zf.open(info) as fh:
                    tail = b""
                    while chunk := fh.read(_CHUNK):
                        inflated += len(chunk)
                        if inflated > XLSX_MAX_INFLATED_BYTES:
                            raise _reject(
                                name, Problem.XLSX_TOO_LARGE,
                                limit_mb=XLSX_MAX_INFLATED_BYTES >> 20,
                            )  # fmt: skip
                        if info.filename == sheet:
                            scan.feed(tail + chunk)
                            tail = chunk[-_OVERLAP:]
            except _DAMAGED:
                raise _reject(name, Problem.CORRUPT_XLSX) from None
    declared_cells = scan.declared[0] * scan.declared[1] if scan.declared else 0
    used_cells = scan.max_row * scan.max_col
    if max(declared_cells, used_cells) > XLSX_MAX_CELLS:
        raise _reject(name, Problem.XLSX_TOO_MANY_CELLS, limit=XLSX_MAX_CELLS)
    if scan.errors:
        raise _reject(name, Problem.XLSX_ERROR_CELLS)
