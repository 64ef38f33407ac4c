"""Write the delivered frames as files, in the formats municipal software really produces.

Each provider gets one deterministic software profile: delimiter, encoding, date and decimal
style, header spelling, column order, and whether small extracts come as XLSX. The variety is
what the readers must cope with; every variant is allowed by the contract.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter

from contract.spec import AUTHORITY_PROVIDER
from synthetic import params as P
from synthetic.snapshot import PROVIDER


@dataclass(frozen=True)
class FileFormat:
    separator: str = ";"
    encoding: str = "utf-8"  # utf-8, utf-8-sig (with BOM) or cp1252
    german_dates: bool = False
    decimal_comma: bool = False
    thousands: bool = False
    """Decimals as `1.234,56` (implies decimal comma)."""
    upper_headers: bool = False
    shuffle_columns: bool = False
    crlf: bool = False
    xlsx: bool = False


@dataclass(frozen=True)
class Profile:
    name: str
    csv: FileFormat
    xlsx_small: bool = False
    """Extracts with few rows are delivered as XLSX (an Excel export)."""


PROFILES: tuple[tuple[Profile, float], ...] = (
    (Profile("windows", FileFormat(";", "cp1252", True, True, crlf=True)), 0.25),
    (Profile("comma", FileFormat(",", "utf-8", shuffle_columns=True)), 0.15),
    (Profile("excel", FileFormat(";", "utf-8-sig", upper_headers=True), xlsx_small=True), 0.10),
    (Profile("bom_upper", FileFormat(";", "utf-8-sig", True, True, upper_headers=True)), 0.15),
    (Profile("standard", FileFormat(";", "utf-8")), 0.35),
)
"""Every profile appears at least once (tiny: the first three, one per provider)."""

AUTHORITY_FORMATS: dict[str, FileFormat] = {
    "bewilligungen": FileFormat(";", "utf-8-sig", german_dates=True, thousands=True),
    "mittelabrufe": FileFormat(";", "cp1252", decimal_comma=True, crlf=True),
    "verwendungsnachweise": FileFormat(",", "utf-8"),
    "haushalt": FileFormat(xlsx=True),
    "meldepflichten": FileFormat(";", "utf-8"),
}


def assign_profiles(providers: list[str], seed: int, scale: str) -> dict[str, Profile]:
    rng = P.rng_for(seed, scale, "formats")
    profiles = [p for p, _ in PROFILES]
    weights = np.array([w for _, w in PROFILES])
    chosen = [profiles[i] for i in rng.choice(len(profiles), size=len(providers), p=weights)]
    order = np.arange(len(providers)) if scale == "tiny" else rng.permutation(len(providers))
    for k, i in enumerate(order[: len(profiles)]):
        chosen[i] = profiles[k]
    return dict(zip(providers, chosen, strict=True))


EXTRA_FIELD = "_extra_field"
"""Column key in `CellTexts` for one surplus field appended to a CSV row (as an unquoted
delimiter inside a value would produce)."""

CellTexts = Mapping[tuple[int, str], str]
"""Literal cell texts for one file, by (row of the provider's part, contract column): what the
typed frame cannot hold, such as an unparseable date in a date column."""

_UTF8_BOM = b"\xef\xbb\xbf"


def file_name(extract: str, provider: str, stand: date, fmt: FileFormat) -> str:
    return f"{extract}_{provider}_{stand.isoformat()}.{'xlsx' if fmt.xlsx else 'csv'}"


class DeliveryWriter:
    """Writes one file per extract and provider (also where a provider has no rows)."""

    def __init__(
        self,
        out: Path,
        stand: date,
        seed: int,
        scale: str,
        providers: list[str],
        xlsx_max_rows: int,
    ) -> None:
        self.out, self.stand, self.seed, self.scale = out, stand, seed, scale
        self.providers = providers
        self.profiles = assign_profiles(providers, seed, scale)
        self.xlsx_max_rows = xlsx_max_rows
        self.late: dict[tuple[str, str], date] = {}
        """(extract, provider) delivered with an earlier stand (a late delivery)."""
        out.mkdir(parents=True, exist_ok=True)

    def file_format(self, extract: str, provider: str, n_rows: int) -> FileFormat:
        """The format `write` uses for this provider's file of `extract` with `n_rows` rows."""
        if extract in AUTHORITY_FORMATS:
            return AUTHORITY_FORMATS[extract]
        profile = self.profiles[provider]
        if profile.xlsx_small and n_rows <= self.xlsx_max_rows:
            return replace(profile.csv, xlsx=True)
        return profile.csv

    def write(
        self,
        extract: str,
        frame: pl.DataFrame,
        texts: Mapping[str, CellTexts] | None = None,
    ) -> list[Path]:
        """One file per provider; `texts` (per provider) overrides single cells of the files."""
        parts = _split_by_provider(frame)
        empty = frame.drop(PROVIDER).clear()
        authority = extract in AUTHORITY_FORMATS
        files = []
        for i, provider in enumerate([AUTHORITY_PROVIDER] if authority else self.providers):
            part = parts.pop(provider, empty)
            fmt = self.file_format(extract, provider, part.height)
            if fmt.shuffle_columns:
                rng = P.rng_for(self.seed, self.scale, f"columns/{extract}/{i}")
                part = part.select([part.columns[j] for j in rng.permutation(part.width)])
            if fmt.upper_headers:
                part = part.rename({c: c.upper() for c in part.columns})
            stand = self.late.get((extract, provider), self.stand)
            path = self.out / file_name(extract, provider, stand, fmt)
            cell_texts = (texts or {}).get(provider)
            if fmt.xlsx:
                _write_xlsx(part, path, fmt, stand, cell_texts)
            else:
                _write_csv(part, path, fmt)
                if cell_texts:
                    _patch_csv(path, fmt, cell_texts)
            files.append(path)
        return files


def authority_frame(extract: str, frames: list[pl.DataFrame]) -> pl.DataFrame:
    """One authority extract from the frames of the parts of a scale generated in parts.

    The authority delivers one file for the whole programme. Grant numbers name the provider,
    so they never coincide between parts; a payout request's id gets its part's number in
    front (`MA-03-000123`), so it stays unique and a later stand keeps it; the budget
    (`haushalt`, one row per year) is the sum of the parts' budgets.
    """
    frames = [
        f.with_columns(pl.col(PROVIDER).cast(pl.String)) for f in frames
    ]  # the parts' provider enums differ
    if extract == "mittelabrufe":
        frames = [
            f.with_columns(pl.col("abruf_id").str.replace("MA-", f"MA-{i + 1:02d}-", literal=True))
            for i, f in enumerate(frames)
        ]
    frame = pl.concat(frames, how="vertical")
    if extract == "haushalt":
        frame = (
            frame.group_by(PROVIDER, "jahr", maintain_order=True)
            .agg(pl.col("ansatz_eur").sum(), pl.col("reste_vorjahr_eur").sum())
            .sort("jahr")
        )
    return frame.with_columns(pl.col(PROVIDER).cast(pl.Enum([AUTHORITY_PROVIDER])))


def _split_by_provider(frame: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Rows per provider; zero-copy slices when the frame is sorted by provider (as generated)."""
    codes = frame[PROVIDER].to_physical().to_numpy()
    if codes.size and np.any(np.diff(codes.astype(np.int64)) < 0):
        return {
            key[0]: part
            for key, part in frame.partition_by(
                PROVIDER, as_dict=True, maintain_order=True, include_key=False
            ).items()
        }
    categories = frame[PROVIDER].dtype.categories  # type: ignore[attr-defined]
    data = frame.drop(PROVIDER)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if codes.size else []
    bounds = [*starts, codes.size]
    return {
        categories[int(codes[a])]: data.slice(int(a), int(b - a))
        for a, b in itertools.pairwise(bounds)
    }


def _german_thousands(values: list[float | None]) -> list[str | None]:
    table = str.maketrans(",.", ".,")
    return [None if v is None else f"{v:,.2f}".translate(table) for v in values]


def _write_csv(df: pl.DataFrame, path: Path, fmt: FileFormat) -> None:
    if fmt.thousands:
        df = df.with_columns(
            pl.Series(c, _german_thousands(df[c].to_list()), dtype=pl.String)
            for c in df.columns
            if df[c].dtype == pl.Float64
        )
    options = {
        "separator": fmt.separator,
        "line_terminator": "\r\n" if fmt.crlf else "\n",
        "date_format": "%d.%m.%Y" if fmt.german_dates else "%Y-%m-%d",
        "float_precision": 2,
        "decimal_comma": fmt.decimal_comma,
    }
    if fmt.encoding == "cp1252":
        path.write_bytes(df.write_csv(**options).encode("cp1252"))
    else:
        df.write_csv(path, include_bom=fmt.encoding == "utf-8-sig", **options)


def _patch_csv(path: Path, fmt: FileFormat, texts: CellTexts) -> None:
    """Replace single cells of a written CSV file; every other line keeps its bytes.

    Rows are found by line (header = line 1): the generator writes no line breaks inside values.
    """
    data = path.read_bytes()
    bom = _UTF8_BOM if data.startswith(_UTF8_BOM) else b""
    encoding = "cp1252" if fmt.encoding == "cp1252" else "utf-8"
    newline = "\r\n" if fmt.crlf else "\n"
    lines = data[len(bom) :].decode(encoding).split(newline)
    header = [name.lower() for name in _csv_fields(lines[0], fmt.separator)]
    by_row: dict[int, list[tuple[str, str]]] = {}
    for (row, column), text in sorted(texts.items()):
        by_row.setdefault(row, []).append((column, text))
    for row, cells in by_row.items():
        fields = _csv_fields(lines[row + 1], fmt.separator)
        extra = []
        for column, text in cells:
            if column == EXTRA_FIELD:
                extra.append(text)
            else:
                fields[header.index(column)] = text
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=fmt.separator, lineterminator="").writerow(fields + extra)
        lines[row + 1] = buffer.getvalue()
    path.write_bytes(bom + newline.join(lines).encode(encoding))


def _csv_fields(line: str, separator: str) -> list[str]:
    return next(csv.reader([line], delimiter=separator))


def _write_xlsx(
    df: pl.DataFrame,
    path: Path,
    fmt: FileFormat,
    stand: date,
    texts: CellTexts | None = None,
) -> None:
    wb = xlsxwriter.Workbook(str(path))
    # a fixed creation time keeps the file byte-identical on rerun
    wb.set_properties({"created": datetime(stand.year, stand.month, stand.day)})
    ws = wb.add_worksheet("Daten")
    date_fmt = wb.add_format({"num_format": "dd.mm.yyyy" if fmt.german_dates else "yyyy-mm-dd"})
    ws.write_row(0, 0, df.columns)
    for j, name in enumerate(df.columns):
        col = df[name]
        if col.dtype == pl.Date:
            for r, v in enumerate(col.to_list(), start=1):
                if v is not None:
                    ws.write_datetime(r, j, v, date_fmt)
        elif col.dtype.is_numeric():
            for r, v in enumerate(col.to_list(), start=1):
                if v is not None:
                    ws.write_number(r, j, v)
        else:
            for r, v in enumerate(col.to_list(), start=1):
                if v is not None:
                    ws.write_string(r, j, v)
    # a text cell replaces the typed one written above (xlsxwriter keeps the last write)
    index = {name.lower(): j for j, name in enumerate(df.columns)}
    for (row, column), text in sorted((texts or {}).items()):
        if column != EXTRA_FIELD:  # XLSX has no delimiter to get wrong
            ws.write_string(row + 1, index[column], text)
    wb.close()
