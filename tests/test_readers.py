"""Readers: file names, every delivery format the contract allows, type parsing, rejections.

Static fixtures live in `tests/fixtures/readers/` (their README maps each line to its defect).
Files whose bytes matter (BOM, Windows-1252, CRLF, XLSX, broken bytes) are generated here, next to
the assertions; every deliberately bad row carries a comment saying why it is bad.
"""

from __future__ import annotations

import datetime as dt
import pickle
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract.spec import Column, ColumnType, Extract
from ingest import readers
from ingest.readers import (
    ERROR_SCHEMA,
    LINE,
    ROW_COLUMN,
    FileName,
    ParsedTable,
    RawTable,
    parse_columns,
    parse_file_name,
    parse_many,
    read_table,
    read_tables,
)
from ingest.rejections import FileRejection, Problem, RejectReason

FIXTURES = Path(__file__).parent / "fixtures" / "readers"
STAND = dt.date(2026, 3, 31)
KONTAKTE_HEADER = "kontakt_id;fall_id;datum;dauer_min;kontaktart;thema"
PERSONAL = "Mustermann"
"""A value that must never reach a rejection message, wherever it sits in a rejected file."""


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def write_csv(
    directory: Path,
    name: str,
    lines: list[str],
    *,
    encoding: str = "utf-8",
    newline: str = "\n",
    bom: bool = False,
) -> Path:
    path = directory / name
    data = newline.join(lines).encode(encoding) + newline.encode()
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_xlsx(path: Path, rows: list[list[object]], *, second_sheet: bool = True) -> Path:
    """One row per list; None leaves a cell empty, dates become real date cells."""
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("Daten")
    date_format = workbook.add_format({"num_format": "dd.mm.yyyy"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, value, date_format)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            elif value is not None:
                sheet.write_number(r, c, value)
    if second_sheet:
        workbook.add_worksheet("Notizen").write_string(0, 0, "wird ignoriert")
    workbook.close()
    return path


def patch_sheet_xml(path: Path, old: str, new: str) -> None:
    """Edit sheet 1's XML: xlsxwriter rounds numbers to 16 digits, Excel writes 17."""
    with zipfile.ZipFile(path) as source:
        parts = {info: source.read(info) for info in source.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts.items():
            if info.filename == "xl/worksheets/sheet1.xml":
                assert old.encode() in data
                data = data.replace(old.encode(), new.encode())
            target.writestr(info, data)


def rejection(call: Callable[[], object]) -> FileRejection:
    """Run a call that must reject, and check both messages render completely."""
    with pytest.raises(FileRejection) as caught:
        call()
    error = caught.value
    for message in (error.message_de, error.message_en):
        assert message
        assert "[?]" not in message, message
        assert PERSONAL not in message
    assert PERSONAL not in repr(error.detail)
    return error


def probe_extract(*columns: Column) -> Extract:
    """A made-up extract for type tests of column types no real extract has (e.g. bool)."""
    return Extract("probe", "probe", "provider", "", "", "", columns)


def raw_table(**columns: list[str | None]) -> RawTable:
    """A RawTable as the readers produce it: data lines start at 2."""
    height = len(next(iter(columns.values())))
    frame = pl.DataFrame(
        {LINE: list(range(2, height + 2)), **columns},
        schema={LINE: pl.Int64, **dict.fromkeys(columns, pl.String)},
    )
    return RawTable(frame, "utf-8", ";", [], height)


def errors_of(parsed: ParsedTable) -> list[tuple[int, str, str, str | None]]:
    return list(parsed.errors.iter_rows())


# --------------------------------------------------------------------------------------------
# File names
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "kontakte_08115003_2026-03-31.csv",
            FileName("kontakte", "08115003", STAND, "csv", "kontakte_08115003_2026-03-31.csv"),
        ),
        (  # case-insensitive extract and suffix; the delivered name is kept
            "Personen_08115_2026-03-31.XLSX",
            FileName("personen", "08115", STAND, "xlsx", "Personen_08115_2026-03-31.XLSX"),
        ),
        (  # the funding authority delivers as 08
            "haushalt_08_2026-01-01.csv",
            FileName("haushalt", "08", dt.date(2026, 1, 1), "csv", "haushalt_08_2026-01-01.csv"),
        ),
    ],
)
def test_parse_file_name_accepts_contract_names(name: str, expected: FileName) -> None:
    assert parse_file_name(Path("/landing/some/dir") / name) == expected


@pytest.mark.parametrize(
    ("name", "reason", "problem"),
    [
        # impossible date: 2026 has no 30 February
        ("kontakte_08115003_2026-02-30.csv", RejectReason.BAD_FILE_NAME, Problem.STAND_NOT_A_DATE),
        # German date in the name
        ("kontakte_08115003_31.03.2026.csv", RejectReason.BAD_FILE_NAME, Problem.PATTERN),
        # 09 is Bayern, not Baden-Württemberg
        ("kontakte_09115003_2026-03-31.csv", RejectReason.BAD_FILE_NAME, Problem.PATTERN),
        # seven-digit AGS
        ("kontakte_0811500_2026-03-31.csv", RejectReason.BAD_FILE_NAME, Problem.PATTERN),
        # provider and stand missing
        ("kontakte.csv", RejectReason.BAD_FILE_NAME, Problem.PATTERN),
        # singular of an extract name
        ("kontakt_08115003_2026-03-31.csv", RejectReason.UNKNOWN_EXTRACT, None),
        ("beratungen_08115003_2026-03-31.xlsx", RejectReason.UNKNOWN_EXTRACT, None),
        # neither CSV nor XLSX
        ("kontakte_08115003_2026-03-31.txt", RejectReason.UNSUPPORTED_FORMAT, None),
        ("kontakte_08115003_2026-03-31.xls", RejectReason.UNSUPPORTED_FORMAT, None),
        ("kontakte_08115003_2026-03-31", RejectReason.UNSUPPORTED_FORMAT, None),
        # a municipal extract sent as the authority
        (
            "kontakte_08_2026-03-31.csv",
            RejectReason.WRONG_PROVIDER_FOR_EXTRACT,
            Problem.PROVIDER_EXTRACT,
        ),
        # authority extracts sent by a Gemeinde and by a Kreis
        (
            "haushalt_08115003_2026-01-01.csv",
            RejectReason.WRONG_PROVIDER_FOR_EXTRACT,
            Problem.AUTHORITY_EXTRACT,
        ),
        (
            "bewilligungen_08115_2026-01-01.xlsx",
            RejectReason.WRONG_PROVIDER_FOR_EXTRACT,
            Problem.AUTHORITY_EXTRACT,
        ),
    ],
)
def test_parse_file_name_rejects(name: str, reason: RejectReason, problem: str | None) -> None:
    error = rejection(lambda: parse_file_name(name))
    assert error.reason is reason
    assert error.detail.get("problem") == problem
    assert error.detail["file_name"] == name


def test_file_name_messages_name_the_problem() -> None:
    error = rejection(lambda: parse_file_name("kontakte_08115003_2026-02-30.csv"))
    assert error.message_de == (
        "Der Dateiname „kontakte_08115003_2026-02-30.csv“ enthält als Stand „2026-02-30“, das ist "
        "kein gültiges Datum (JJJJ-MM-TT)."
    )
    error = rejection(lambda: parse_file_name("kontakte_08115003_2026-03-31.xls"))
    assert error.message_en == (
        "the file 'kontakte_08115003_2026-03-31.xls' has the format '.xls'; only CSV and XLSX "
        "are accepted."
    )
    error = rejection(lambda: parse_file_name("haushalt_08115003_2026-01-01.csv"))
    assert "nur von der Bewilligungsstelle mit Träger 08" in error.message_de
    assert "not by provider 08115003" in error.message_en


# --------------------------------------------------------------------------------------------
# CSV: static fixtures
# --------------------------------------------------------------------------------------------
def test_semicolon_utf8_fixture_maps_header_lines_and_extra_column() -> None:
    table = read_table(FIXTURES / "kontakte_08115003_2026-03-31.csv", "kontakte")

    assert (table.encoding, table.delimiter) == ("utf-8", ";")
    assert table.extra_columns == ["Bemerkung intern"]
    assert table.rows_delivered == 5
    assert table.overlong_lines == []
    # Contract order, whatever the delivered order; optional ziel_id/verweisung added as null.
    assert table.frame.columns == [
        LINE, "kontakt_id", "fall_id", "datum", "dauer_min", "kontaktart", "thema", "ziel_id",
        "verweisung",
    ]  # fmt: skip
    assert all(dtype == pl.String for name, dtype in table.frame.schema.items() if name != LINE)
    # k-002 spans lines 3-4 (quoted line break), line 6 is blank.
    assert table.frame.select(LINE, "kontakt_id", "datum", "dauer_min", "thema").rows() == [
        (2, "k-001", "2026-03-02", "45", "SPRACHE"),
        (3, "k-002", "03.03.2026", "30", "ALLTAG"),
        (5, "k-003", "2026-03-31", "60", "ARBEIT"),  # "  60 " trimmed
        (7, "k-004", "31.02.2026", "20", "WOHNEN"),
        (8, "k-005", "2026-03-05", "3,0", "sprache"),
    ]
    assert table.frame["ziel_id"].null_count() == 5


def test_semicolon_utf8_fixture_parses_to_types_with_row_precise_errors() -> None:
    table = read_table(FIXTURES / "kontakte_08115003_2026-03-31.csv", "kontakte")
    parsed = parse_columns(table, "kontakte", STAND)

    assert parsed.frame.schema["datum"] == pl.Date
    assert parsed.frame.schema["dauer_min"] == pl.Int32
    assert parsed.frame.select(LINE, "datum", "dauer_min", "thema").rows() == [
        (2, dt.date(2026, 3, 2), 45, "SPRACHE"),
        (3, dt.date(2026, 3, 3), 30, "ALLTAG"),
        (5, dt.date(2026, 3, 31), 60, "ARBEIT"),
        (7, None, 20, "WOHNEN"),  # 31.02. does not exist
        (8, dt.date(2026, 3, 5), None, "sprache"),  # 3,0 has a separator; code kept as delivered
    ]
    assert errors_of(parsed) == [
        (7, "datum", "type:date", "31.02.2026"),
        (8, "dauer_min", "type:int", "3,0"),
    ]


def test_comma_delimiter_is_used_when_the_header_only_parses_that_way() -> None:
    table = read_table(FIXTURES / "stellen_08115_2026-03-31.csv", "stellen")
    assert table.delimiter == ","
    assert table.frame.select(LINE, "stellen_id", "vzae", "beginn", "ende").rows() == [
        (2, "s-1", "0,5", "2025-01-01", None),
        (3, "s-2", "1.0", "01.07.2025", "31.12.2026"),
        (4, "s-3", "0,25", "2025-04-01", None),
    ]
    parsed = parse_columns(table, "stellen", STAND)
    assert parsed.frame["vzae"].to_list() == [Decimal("0.50"), Decimal("1.00"), Decimal("0.25")]
    assert parsed.errors.is_empty()


def test_semicolon_wins_when_only_an_unknown_header_name_holds_a_comma(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "haushalt_08_2026-01-01.csv",
        ["jahr;ansatz_eur;reste_vorjahr_eur;Bemerkung, intern", "2026;10,50;0;x"],
    )
    table = read_table(path, "haushalt")
    assert table.delimiter == ";"
    assert table.extra_columns == ["Bemerkung, intern"]
    assert table.frame.row(0) == (2, "2026", "10,50", "0")


def test_decimal_spellings_fixture() -> None:
    table = read_table(FIXTURES / "haushalt_08_2026-01-01.csv", "haushalt")
    parsed = parse_columns(table, "haushalt", STAND)

    assert parsed.frame.schema["ansatz_eur"] == pl.Decimal(18, 2)
    assert parsed.frame.rows() == [
        (2, 2024, Decimal("1234.56"), Decimal("1234.56")),
        (3, 2025, Decimal("1234.56"), Decimal("-5.00")),
        (4, 2026, Decimal("1234567.00"), Decimal("1234.00")),
        (5, 2027, None, None),
        (6, 2028, None, None),
    ]
    assert errors_of(parsed) == [
        (5, "ansatz_eur", "type:decimal", "1,234.56"),  # English thousands separator
        (5, "reste_vorjahr_eur", "type:decimal", "1.2.3"),  # not a number
        (6, "ansatz_eur", "type:decimal", "12,3,4"),  # two decimal commas
        (6, "reste_vorjahr_eur", "type:decimal", "1.234"),  # 1234 or 1.234? ambiguous
    ]


# --------------------------------------------------------------------------------------------
# CSV: encodings, line endings, structure (generated bytes)
# --------------------------------------------------------------------------------------------
def test_utf8_with_bom_is_read_and_bom_is_not_part_of_the_first_name(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "personen_08115003_2026-03-31.csv",
        [
            "person_id;geburtsjahr;geschlecht;au_beginn;wohngemeinde_ags",
            "p-1;1990;w;2024-05-01;08115003",
        ],
        bom=True,
    )
    table = read_table(path, "personen")
    assert table.encoding == "utf-8-sig"
    assert table.frame.select(LINE, "person_id", "geburtsjahr").row(0) == (2, "p-1", "1990")


ZIELE_HEADER = "ziel_id;plan_id;handlungsfeld;vereinbart_am;messkriterium;status;Maßnahme"
ZIELE_ROWS = [
    "z-1;pl-1;SPRACHE;2026-01-10;Sprachprüfung B1 bestanden;OFFEN;Übergang",
    "z-2;pl-1;ARBEIT;10.01.2026;;OFFEN;",
]


@pytest.mark.parametrize(("encoding", "label"), [("cp1252", "cp1252"), ("utf-8", "utf-8")])
def test_umlauts_decode_in_windows_1252_and_utf8(tmp_path: Path, encoding: str, label: str) -> None:
    path = write_csv(
        tmp_path, "ziele_08115003_2026-03-31.csv", [ZIELE_HEADER, *ZIELE_ROWS], encoding=encoding
    )
    table = read_table(path, "ziele")
    assert table.encoding == label
    assert table.extra_columns == ["Maßnahme"]
    assert table.frame["messkriterium"].to_list() == ["Sprachprüfung B1 bestanden", None]


def test_free_text_survives_only_as_presence(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "ziele_08115003_2026-03-31.csv", [ZIELE_HEADER, *ZIELE_ROWS])
    parsed = parse_columns(read_table(path, "ziele"), "ziele", STAND)

    assert "messkriterium" not in parsed.frame.columns
    assert parsed.frame["messkriterium_vorhanden"].to_list() == [True, False]
    for column in parsed.frame.select(pl.col(pl.String)).columns:
        assert not parsed.frame[column].str.contains("Sprachprüfung").any()


def test_crlf_line_endings_and_quoted_crlf_keep_line_numbers(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "kontakte_08115003_2026-03-31.csv",
        [
            f"{KONTAKTE_HEADER};Notiz",
            'k1;f1;2026-03-02;45;PERSOENLICH;SPRACHE;"erste\r\nzweite\r\ndritte"',  # lines 2-4
            "k2;f1;2026-03-03;30;TELEFON;ALLTAG;",  # line 5
            "k3;f2;2026-03-04;15;DIGITAL;ARBEIT;x",  # line 6
        ],
        newline="\r\n",
    )
    table = read_table(path, "kontakte")
    assert table.frame.select(LINE, "kontakt_id", "thema").rows() == [
        (2, "k1", "SPRACHE"),
        (5, "k2", "ALLTAG"),
        (6, "k3", "ARBEIT"),
    ]
    has_cr = pl.any_horizontal(pl.col(pl.String).str.contains("\r", literal=True)).any()
    assert table.frame.select(has_cr).item() is False


def test_whitespace_cells_are_null_and_blank_rows_are_not_rows(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "kontakte_08115003_2026-03-31.csv",
        [
            KONTAKTE_HEADER,
            "  k1 ;f1;2026-03-02;   ;PERSOENLICH;SPRACHE",  # dauer_min only spaces: missing
            ";;;;;",  # all cells empty (Excel leaves such rows): not a row
            "   ",  # whitespace only: not a row
            'k2;"";2026-03-03;30;TELEFON;ALLTAG',  # quoted empty fall_id: missing
        ],
    )
    table = read_table(path, "kontakte")
    assert table.rows_delivered == 2
    assert table.frame.select(LINE, "kontakt_id", "fall_id", "dauer_min").rows() == [
        (2, "k1", "f1", None),
        (5, "k2", None, "30"),
    ]


def test_header_only_gives_zero_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "kontakte_08115003_2026-03-31.csv", [KONTAKTE_HEADER])
    table = read_table(path, "kontakte")
    assert table.rows_delivered == 0
    assert table.frame.height == 0
    parsed = parse_columns(table, "kontakte", STAND)
    assert parsed.frame.height == 0
    assert parsed.frame.schema["datum"] == pl.Date
    assert parsed.errors.is_empty()


def test_one_surplus_field_is_a_row_error_and_trailing_delimiters_are_harmless(
    tmp_path: Path,
) -> None:
    path = write_csv(
        tmp_path,
        "kontakte_08115003_2026-03-31.csv",
        [
            KONTAKTE_HEADER,
            "k1;f1;2026-03-02;45;PERSOENLICH;SPRACHE;",  # trailing delimiter, nothing after it
            "k2;f1;2026-03-03;30;TELEFON;ALLTAG;Rückruf",  # bad: one field more than the header
        ],
    )
    table = read_table(path, "kontakte")
    assert table.overlong_lines == [3]
    assert table.extra_columns == []
    parsed = parse_columns(table, "kontakte", STAND)
    assert errors_of(parsed) == [(3, ROW_COLUMN, "row:too_many_fields", None)]


def test_field_counts_the_usual_row_length_is_the_longest_of_the_most_common(
    tmp_path: Path,
) -> None:
    # 6 header fields. Non-blank rows have 6, 7, 6, 7 and 5 fields: 6 and 7 are equally common,
    # and the longer, 7, is the usual length, so the rows ending in an empty seventh field are a
    # trailing-delimiter dialect, not shifted rows (with 6 as the usual length, lines 3 and 5
    # would be overlong).
    path = write_csv(
        tmp_path,
        "kontakte_08115003_2026-03-31.csv",
        [
            KONTAKTE_HEADER,
            "k1;f1;2026-03-02;45;PERSOENLICH;SPRACHE",  # line 2: 6 fields
            "k2;f1;2026-03-03;30;TELEFON;ALLTAG;",  # line 3: 7, the seventh empty
            "k3;f1;2026-03-04;20;TELEFON;ALLTAG",  # line 4: 6
            "k4;f1;2026-03-05;25;TELEFON;ALLTAG;",  # line 5: 7, the seventh empty
            ";;;;;",  # line 6: blank, not a delivered row (and not counted for the usual length)
            "k6;f1;2026-03-06;15;TELEFON",  # bad, line 7: 5 fields, short of the 6 named
        ],
    )
    table = read_table(path, "kontakte")
    assert table.rows_delivered == 5  # lines 2, 3, 4, 5, 7
    assert table.overlong_lines == []
    assert table.short_lines == [7]
    # the short row's cells are blanked (they may have shifted); the others are read
    by_line = dict(zip(table.frame["_line"], table.frame["kontakt_id"], strict=True))
    assert by_line == {2: "k1", 3: "k2", 4: "k3", 5: "k4", 7: None}


def test_unnamed_column_with_values_is_reported_by_position(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "kontakte_08115003_2026-03-31.csv",
        [
            f"{KONTAKTE_HEADER};;",  # two unnamed columns, 7 and 8
            "k1;f1;2026-03-02;45;PERSOENLICH;SPRACHE;;x",  # column 8 holds a value
        ],
    )
    table = read_table(path, "kontakte")
    assert table.extra_columns == ["#8"]
    assert table.overlong_lines == []


# --------------------------------------------------------------------------------------------
# CSV: rejections
# --------------------------------------------------------------------------------------------
def test_completely_empty_file_is_rejected(tmp_path: Path) -> None:
    empty = tmp_path / "kontakte_08115003_2026-03-31.csv"
    empty.write_bytes(b"")
    assert rejection(lambda: read_table(empty, "kontakte")).reason is RejectReason.EMPTY_FILE
    bom_only = tmp_path / "stellen_08115003_2026-03-31.csv"
    bom_only.write_bytes(b"\xef\xbb\xbf\r\n")
    assert rejection(lambda: read_table(bom_only, "stellen")).reason is RejectReason.EMPTY_FILE


def test_bytes_invalid_in_utf8_and_windows_1252_are_rejected_with_position(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kontakte_08115003_2026-03-31.csv"
    path.write_bytes(
        f"{KONTAKTE_HEADER}\n".encode()  # 52 bytes
        + b"k1;f1;2026-03-02;45;PERSOENLICH;SPRACHE\n"  # 40 bytes
        + b"k2;f\x81;2026-03-03;30;TELEFON;ALLTAG\n"  # bad: 0x81 is undefined in both encodings
    )
    error = rejection(lambda: read_table(path, "kontakte"))
    assert error.reason is RejectReason.BAD_ENCODING
    assert (error.detail["byte_offset"], error.detail["line"]) == (96, 3)
    assert "Position 96 (Zeile 3)" in error.message_de


def test_bom_promises_utf8_so_a_windows_1252_umlaut_is_bad_encoding(tmp_path: Path) -> None:
    path = tmp_path / "ziele_08115003_2026-03-31.csv"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + ZIELE_HEADER.encode("utf-8")
        + b"\n"
        + ZIELE_ROWS[0].encode("cp1252")  # bad: cp1252 bytes after a UTF-8 BOM
    )
    error = rejection(lambda: read_table(path, "ziele"))
    assert error.reason is RejectReason.BAD_ENCODING
    assert error.detail["line"] == 2


def test_nul_bytes_mean_not_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "kontakte_08115003_2026-03-31.csv"
    path.write_bytes(f"{KONTAKTE_HEADER}\n".encode() + b"k1\x00;f1\n")  # bad: NUL byte
    error = rejection(lambda: read_table(path, "kontakte"))
    assert (error.reason, error.detail["problem"]) == (RejectReason.UNREADABLE, Problem.BINARY)


def test_xlsx_renamed_to_csv_is_unreadable(tmp_path: Path) -> None:
    workbook = write_xlsx(tmp_path / "book.xlsx", [["kontakt_id"], [PERSONAL]])
    path = tmp_path / "kontakte_08115003_2026-03-31.csv"
    path.write_bytes(workbook.read_bytes())
    error = rejection(lambda: read_table(path, "kontakte"))
    assert (error.reason, error.detail["problem"]) == (RejectReason.UNREADABLE, Problem.BINARY)


def test_duplicate_header_names_ignoring_case_are_unreadable(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "personen_08115003_2026-03-31.csv",
        [
            "Person_ID;geburtsjahr;au_beginn;wohngemeinde_ags;person_id",  # bad: person_id twice
            f"p-1;1990;2024-05-01;08115003;{PERSONAL}",
        ],
    )
    error = rejection(lambda: read_table(path, "personen"))
    assert error.reason is RejectReason.UNREADABLE
    assert error.detail["columns"] == ["person_id"]
    assert error.message_de == (
        "Spalte(n) mehrfach in der Kopfzeile (Groß-/Kleinschreibung zählt nicht): person_id."
    )


def test_missing_required_columns_are_all_named(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "personen_08115003_2026-03-31.csv",
        [
            "geburtsjahr;geschlecht;wohngemeinde_ags",  # bad: person_id and au_beginn missing
            f"1990;w;08115003;{PERSONAL}",
        ],
    )
    error = rejection(lambda: read_table(path, "personen"))
    assert error.reason is RejectReason.MISSING_COLUMNS
    assert error.detail["columns"] == ["person_id", "au_beginn"]
    assert error.message_de == "Pflichtspalte(n) fehlen: person_id, au_beginn."
    assert error.message_en == "required column(s) missing: person_id, au_beginn."


def test_header_not_in_line_one_is_explained(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "haushalt_08_2026-01-01.csv",
        ["", "jahr;ansatz_eur;reste_vorjahr_eur", "2026;1;0"],  # bad: line 1 is empty
    )
    error = rejection(lambda: read_table(path, "haushalt"))
    assert error.reason is RejectReason.MISSING_COLUMNS
    assert error.detail["problem"] == Problem.HEADER_ROW_EMPTY
    assert error.detail["columns"] == ["jahr", "ansatz_eur", "reste_vorjahr_eur"]
    assert "in Zeile 1 stehen" in error.message_de


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (f'k2;"{PERSONAL};2026-03-03;30;TELEFON;ALLTAG', Problem.MALFORMED_CSV),  # never closed
        # bad: 101 fields more than the header, beyond CSV_MAX_SURPLUS_FIELDS (100); fewer are
        # row errors (test_rows_with_surplus_or_missing_fields_are_row_errors_without_values)
        (f"k2;f1;2026-03-03;30;TELEFON;ALLTAG;{PERSONAL}" + ";x" * 100, Problem.TOO_MANY_FIELDS),
    ],
)
def test_broken_csv_structure_is_unreadable(tmp_path: Path, row: str, problem: Problem) -> None:
    path = write_csv(
        tmp_path,
        "kontakte_08115003_2026-03-31.csv",
        [KONTAKTE_HEADER, "k1;f1;2026-03-02;45;PERSOENLICH;SPRACHE", row],
    )
    error = rejection(lambda: read_table(path, "kontakte"))
    assert (error.reason, error.detail["problem"]) == (RejectReason.UNREADABLE, problem)


def test_read_table_rejects_other_formats(tmp_path: Path) -> None:
    path = tmp_path / "kontakte_08115003_2026-03-31.txt"
    path.write_text(KONTAKTE_HEADER)
    assert rejection(lambda: read_table(path, "kontakte")).reason is (
        RejectReason.UNSUPPORTED_FORMAT
    )


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------
MITTELABRUFE_HEADER = [
    "ABRUF_ID", "bescheid_nr", "Jahr", "eingegangen_am", "betrag_beantragt_eur", "rueckfragen",
    "ausgezahlt_am", "betrag_ausgezahlt_eur", "Sachbearbeitung",
]  # fmt: skip


def write_mittelabrufe(path: Path) -> Path:
    write_xlsx(
        path,
        [
            MITTELABRUFE_HEADER,
            # row 2: number, date and date-time cells; 0.3 is patched to 0.30000000000000004
            ["a-1", "b-1", 2026, dt.date(2026, 1, 15), 1234.56, 3, dt.datetime(2026, 2, 1),
             0.3, None],
            [],  # row 3: empty
            # row 4: text cells for year and date; bad: ausgezahlt_am has a time of day
            ["a-2", "b-1", "2026", "15.01.2026", 85000, 0, dt.datetime(2026, 3, 2, 14, 5),
             99999999.99, PERSONAL],
            # row 5: bad: rueckfragen 1.5 is not an integer
            ["a-3", "b-2", 2027, dt.date(2026, 2, 20), -5, 1.5],
        ],
    )  # fmt: skip
    patch_sheet_xml(path, "<v>0.3</v>", "<v>0.30000000000000004</v>")
    return path


def test_xlsx_cells_come_back_as_the_text_excel_shows(tmp_path: Path) -> None:
    path = write_mittelabrufe(tmp_path / "mittelabrufe_08_2026-03-31.xlsx")
    table = read_table(path, "mittelabrufe")

    assert (table.encoding, table.delimiter) == (None, None)
    assert table.extra_columns == ["Sachbearbeitung"]
    assert table.rows_delivered == 3
    assert table.frame.rows() == [
        (2, "a-1", "b-1", "2026", "2026-01-15", "1234.56", "3", "2026-02-01", "0.3"),
        (4, "a-2", "b-1", "2026", "15.01.2026", "85000", "0", "2026-03-02 14:05:00",
         "99999999.99"),
        (5, "a-3", "b-2", "2027", "2026-02-20", "-5", "1.5", None, None),
    ]  # fmt: skip


def test_xlsx_parses_to_types(tmp_path: Path) -> None:
    path = write_mittelabrufe(tmp_path / "mittelabrufe_08_2026-03-31.xlsx")
    parsed = parse_columns(read_table(path, "mittelabrufe"), "mittelabrufe", STAND)

    assert parsed.frame.row(0) == (
        2, "a-1", "b-1", 2026, dt.date(2026, 1, 15), Decimal("1234.56"), 3, dt.date(2026, 2, 1),
        Decimal("0.30"),
    )  # fmt: skip
    assert errors_of(parsed) == [
        (4, "ausgezahlt_am", "type:date", "2026-03-02 14:05:00"),
        (5, "rueckfragen", "type:int", "1.5"),
    ]


def test_xlsx_header_only_and_empty_sheet(tmp_path: Path) -> None:
    header_only = write_xlsx(
        tmp_path / "haushalt_08_2026-01-01.xlsx", [["jahr", "ansatz_eur", "reste_vorjahr_eur"]]
    )
    table = read_table(header_only, "haushalt")
    assert (table.rows_delivered, table.frame.columns) == (
        0,
        [LINE, "jahr", "ansatz_eur", "reste_vorjahr_eur"],
    )
    empty = write_xlsx(tmp_path / "haushalt_08_2025-01-01.xlsx", [], second_sheet=False)
    assert rejection(lambda: read_table(empty, "haushalt")).reason is RejectReason.EMPTY_FILE


def test_xlsx_header_must_be_in_row_one(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "haushalt_08_2026-01-01.xlsx",
        [[], ["jahr", "ansatz_eur", "reste_vorjahr_eur"], [2026, 1, 0]],  # bad: row 1 empty
    )
    error = rejection(lambda: read_table(path, "haushalt"))
    assert (error.reason, error.detail["problem"]) == (
        RejectReason.MISSING_COLUMNS,
        Problem.HEADER_ROW_EMPTY,
    )


def test_xlsx_missing_and_duplicate_columns(tmp_path: Path) -> None:
    missing = write_xlsx(
        tmp_path / "haushalt_08_2026-01-01.xlsx",
        [["Jahr", "ansatz_eur"], [2026, PERSONAL]],  # bad: reste_vorjahr_eur missing
    )
    error = rejection(lambda: read_table(missing, "haushalt"))
    assert (error.reason, error.detail["columns"]) == (
        RejectReason.MISSING_COLUMNS,
        ["reste_vorjahr_eur"],
    )
    duplicate = write_xlsx(
        tmp_path / "haushalt_08_2025-01-01.xlsx",
        [["jahr", "ansatz_eur", "reste_vorjahr_eur", "JAHR"], [2026, 1, 0, 2025]],  # bad: jahr 2x
    )
    error = rejection(lambda: read_table(duplicate, "haushalt"))
    assert (error.reason, error.detail["columns"]) == (RejectReason.UNREADABLE, ["jahr"])


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04 the start of a zip, then nothing",  # bad: truncated archive
        f"jahr;ansatz_eur;reste_vorjahr_eur\n2026;{PERSONAL};0\n".encode(),  # bad: CSV named .xlsx
    ],
)
def test_corrupt_xlsx_is_unreadable(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "haushalt_08_2026-01-01.xlsx"
    path.write_bytes(content)
    error = rejection(lambda: read_table(path, "haushalt"))
    assert (error.reason, error.detail["problem"]) == (
        RejectReason.UNREADABLE,
        Problem.CORRUPT_XLSX,
    )


# --------------------------------------------------------------------------------------------
# Type parsing, one column type at a time
# --------------------------------------------------------------------------------------------
def parse_probe(column_type: ColumnType, values: list[str | None]) -> ParsedTable:
    column = Column("wert", "value", column_type, "probe column")
    return parse_columns(raw_table(wert=values), probe_extract(column), STAND)


def test_dates_accept_iso_and_german_only() -> None:
    parsed = parse_probe(
        ColumnType.DATE,
        [
            "2026-03-31",
            "31.03.2026",
            "29.02.2024",  # leap year
            None,  # empty: missing, not an error
            "31.02.2025",  # bad: no 31 February
            "2026-02-29",  # bad: 2026 is no leap year
            "1.3.2026",  # bad: day and month need two digits
            "2026-3-01",  # bad: month needs two digits
            "2026/03/31",  # bad: slashes
            "31.03.26",  # bad: two-digit year
        ],
    )
    assert parsed.frame["wert"].to_list() == [
        dt.date(2026, 3, 31), dt.date(2026, 3, 31), dt.date(2024, 2, 29), *[None] * 7,
    ]  # fmt: skip
    assert errors_of(parsed) == [
        (6, "wert", "type:date", "31.02.2025"),
        (7, "wert", "type:date", "2026-02-29"),
        (8, "wert", "type:date", "1.3.2026"),
        (9, "wert", "type:date", "2026-3-01"),
        (10, "wert", "type:date", "2026/03/31"),
        (11, "wert", "type:date", "31.03.26"),
    ]


def test_integers_take_sign_and_digits_only() -> None:
    parsed = parse_probe(
        ColumnType.INT,
        [
            "3",
            "-2",
            "+4",
            "007",
            "3,0",  # bad: separator
            "1.000",  # bad: thousands separator
            "3.5",  # bad: fraction
            "2147483648",  # bad: beyond INTEGER
            "drei",  # bad: a word
        ],
    )
    assert parsed.frame.schema["wert"] == pl.Int32
    assert parsed.frame["wert"].to_list() == [3, -2, 4, 7, *[None] * 5]
    assert [rule for _, _, rule, _ in errors_of(parsed)] == ["type:int"] * 5
    assert [line for line, *_ in errors_of(parsed)] == [6, 7, 8, 9, 10]


def test_decimals_accept_the_three_contract_spellings_only() -> None:
    parsed = parse_probe(
        ColumnType.DECIMAL,
        [
            "1234,56",
            "1.234,56",
            "1234.56",
            "-5",
            "1234",
            "+0,5",
            "1.234.567,8",
            "1,234.56",  # bad: English thousands separator
            "1.2.3",  # bad: not a number
            "12,3,4",  # bad: two commas
            "1.234",  # bad: ambiguous
            "0,125",  # bad: DECIMAL(18,2) would have to round
            "1e5",  # bad: exponent
            "12 345,00",  # bad: space as thousands separator
        ],
    )
    assert parsed.frame["wert"].to_list() == [
        Decimal("1234.56"), Decimal("1234.56"), Decimal("1234.56"), Decimal("-5.00"),
        Decimal("1234.00"), Decimal("0.50"), Decimal("1234567.80"), *[None] * 7,
    ]  # fmt: skip
    assert [value for *_, value in errors_of(parsed)] == [
        "1,234.56", "1.2.3", "12,3,4", "1.234", "0,125", "1e5", "12 345,00",
    ]  # fmt: skip


def test_booleans_accept_contract_spellings_in_any_case() -> None:
    parsed = parse_probe(
        ColumnType.BOOL,
        [
            "ja", "J", "1", "TRUE", "True",
            "nein", "N", "0", "false",
            None,
            "vielleicht",  # bad: not a spelling of the contract
            "yes",  # bad: English spellings other than true/false are not in the contract
        ],
    )  # fmt: skip
    assert parsed.frame.schema["wert"] == pl.Boolean
    assert parsed.frame["wert"].to_list() == [True] * 5 + [False] * 4 + [None] * 3
    assert errors_of(parsed) == [
        (12, "wert", "type:bool", "vielleicht"),
        (13, "wert", "type:bool", "yes"),
    ]


def test_ids_are_checked_for_length_and_never_echoed() -> None:
    parsed = parse_probe(
        ColumnType.ID,
        [
            "x" * 64,
            "K-0815",
            PERSONAL * 7,  # bad: 70 characters, longer than 64
        ],
    )
    assert parsed.frame["wert"].to_list() == ["x" * 64, "K-0815", None]
    assert errors_of(parsed) == [(4, "wert", "type:id_length", None)]


@pytest.mark.parametrize(
    ("column_type", "good", "bad"),
    [
        # bad: 7 digits, AGS of Bayern, a letter, a Kreis where a Gemeinde is required
        (ColumnType.AGS8, ["08115003"], ["8115003", "09115003", "0811500a", "08115"]),
        # bad: 6 digits, AGS of Bayern, 8 digits of Bayern
        (ColumnType.AGS, ["08115", "08115003"], ["081150", "09115", "09115003"]),
    ],
)
def test_ags_columns(column_type: ColumnType, good: list[str], bad: list[str]) -> None:
    parsed = parse_probe(column_type, [*good, *bad])
    assert parsed.frame["wert"].to_list() == [*good, *[None] * len(bad)]
    rule = f"type:{'ags8' if column_type is ColumnType.AGS8 else 'ags'}"
    assert errors_of(parsed) == [
        (line, "wert", rule, value) for line, value in enumerate(bad, start=len(good) + 2)
    ]


def test_codes_are_kept_as_delivered() -> None:
    parsed = parse_probe(ColumnType.CODE, ["SPRACHE", "sprache", "UNBEKANNT_XYZ"])
    assert parsed.frame["wert"].to_list() == ["SPRACHE", "sprache", "UNBEKANNT_XYZ"]
    assert parsed.errors.is_empty()


def test_errors_are_sorted_by_line_and_have_a_fixed_schema() -> None:
    date = Column("datum", "date", ColumnType.DATE, "")
    count = Column("anzahl", "count", ColumnType.INT, "")
    parsed = parse_columns(
        raw_table(datum=["x", "2026-01-01", "y"], anzahl=["1", "z", "w"]),  # bad: x, z, y and w
        probe_extract(date, count),
        STAND,
    )
    assert parsed.errors.schema == pl.Schema(ERROR_SCHEMA)
    assert [(line, column) for line, column, *_ in errors_of(parsed)] == [
        (2, "datum"),
        (3, "anzahl"),
        (4, "datum"),
        (4, "anzahl"),
    ]
    clean = parse_columns(raw_table(datum=["2026-01-01"], anzahl=["1"]), probe_extract(date, count),
                          STAND)  # fmt: skip
    assert clean.errors.schema == pl.Schema(ERROR_SCHEMA)


# --------------------------------------------------------------------------------------------
# Rejections
# --------------------------------------------------------------------------------------------
def test_every_reason_renders_in_both_languages() -> None:
    facts = {
        "file_name": "x.csv", "suffix": "txt", "extract": "x", "known": ["a", "b"],
        "provider": "08", "stand": "2026-02-30", "byte_offset": 1, "line": 1, "columns": ["a"],
        "delimiter": ";", "header_fields": 6, "bad_rows": 6, "rows": 100, "limit": 0.05,
        "n_kreise": 44, "received": "2026-01-01", "start": "2017-01-01",
    }  # fmt: skip
    for reason in RejectReason:
        error = FileRejection(reason, facts)
        assert error.message_de and error.message_en
        assert "[?]" not in error.message_de + error.message_en
    too_many = FileRejection(RejectReason.TOO_MANY_BAD_ROWS, facts)
    assert too_many.message_de.startswith("6 von 100 Zeilen sind fehlerhaft, mehr als 5 %")


def test_rejection_survives_pickling() -> None:
    error = FileRejection(RejectReason.MISSING_COLUMNS, {"columns": ["person_id"]})
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason, copy.detail, copy.message_en) == (
        error.reason,
        error.detail,
        "required column(s) missing: person_id.",
    )
    assert str(copy) == copy.message_en


def test_files_typed_together_give_each_file_its_own_values_and_errors(tmp_path: Path) -> None:
    """The loader types a chunk of files in one pass (`parse_many`): every row and error is the
    one of typing that file alone, labelled with the file, in file order."""
    tables = [
        read_table(write_csv(tmp_path, f"kontakte_0811500{n}_2026-03-31.csv", lines), "kontakte")
        for n, lines in enumerate(
            [
                [KONTAKTE_HEADER, "k1;f1;2026-03-02;45;PERSOENLICH;SPRACHE"],  # clean
                [
                    KONTAKTE_HEADER,
                    "k1;f1;31.02.2026;45;PERSOENLICH;SPRACHE",  # line 2: no 31 February
                    "k2;f1;2026-03-03;viele;TELEFON;ALLTAG",  # line 3: minutes not a number
                    "k3;f2;2026-03-04;30;TELEFON;ALLTAG;Rückruf",  # line 4: a field too many
                ],
                [KONTAKTE_HEADER],  # header only: no rows, no errors
                [KONTAKTE_HEADER, "k9;f9;2026-03-05;x;TELEFON;ALLTAG"],  # line 2: minutes
            ]
        )
    ]
    # labels that do not follow the files' order: the order stays the files'
    labels = [({"_file": 13 - n, "_provider": f"p{n}"}, t) for n, t in enumerate(tables)]
    together = parse_many(labels, "kontakte")
    alone = [parse_columns(t, "kontakte", STAND) for t in tables]

    def with_labels(frame: pl.DataFrame, n: int) -> pl.DataFrame:
        return frame.select(
            pl.lit(13 - n).alias("_file"), pl.lit(f"p{n}").alias("_provider"), pl.all()
        )

    expected_rows = pl.concat(
        [with_labels(p.frame, n) for n, p in enumerate(alone)], how="vertical_relaxed"
    )
    expected_errors = pl.concat(
        [with_labels(p.errors, n) for n, p in enumerate(alone)], how="vertical_relaxed"
    )
    assert together.frame.cast(expected_rows.schema).rows() == expected_rows.rows()
    assert together.errors.cast(expected_errors.schema).rows() == expected_errors.rows()
    # the errors by hand: the second file's (labelled 12) lines 2 (date), 3 (minutes) and 4 (a
    # field too many, nothing echoed); then the fourth file's (labelled 10) line 2 (minutes)
    assert [(f, line, column, rule) for f, _, line, column, rule, _ in together.errors.rows()] == [
        (12, 2, "datum", "type:date"),
        (12, 3, "dauer_min", "type:int"),
        (12, 4, ROW_COLUMN, "row:too_many_fields"),
        (10, 2, "dauer_min", "type:int"),
    ]


@given(
    text=st.text(alphabet='ab;,"\n\r\u00e4\u20ac', max_size=200),
    delimiter=st.sampled_from([";", ","]),
)
@settings(max_examples=300, deadline=None)
def test_fields_per_record_counts_delimiters_outside_quotes_line_by_line(text, delimiter):
    """The field count the reader uses to find short and overlong rows (counted on the bytes)
    equals the plain definition: quoted sections removed, then per line (a final line end
    ends the last line) the delimiters + 1."""
    from ingest.readers import _QUOTED, _fields_per_record

    utf8 = text.encode("utf-8")
    plain = _QUOTED.sub(b"", utf8).decode("utf-8").removesuffix("\n")
    expected = [line.count(delimiter) + 1 for line in plain.split("\n")]
    assert _fields_per_record(utf8, delimiter).to_list() == expected


# --------------------------------------------------------------------------------------------
# Files of one extract read together (`read_tables`, the loader's chunks)
# --------------------------------------------------------------------------------------------
def _alone(path: Path, extract: str) -> RawTable | FileRejection:
    try:
        return read_table(path, extract)
    except FileRejection as err:
        return err


def assert_read_as_alone(paths: list[Path], extract: str) -> list[RawTable | FileRejection]:
    """`read_tables` gives every file the table (or rejection) `read_table` gives it alone."""
    together = read_tables(paths, extract)
    assert len(together) == len(paths)
    for path, got in zip(paths, together, strict=True):
        want = _alone(path, extract)
        assert type(got) is type(want), path.name
        if isinstance(want, FileRejection):
            assert (got.reason, got.detail) == (want.reason, want.detail), path.name
            continue
        assert got.frame.schema == want.frame.schema, path.name
        assert got.frame.rows() == want.frame.rows(), path.name
        assert (
            got.encoding,
            got.delimiter,
            got.extra_columns,
            got.rows_delivered,
            got.overlong_lines,
            got.short_lines,
        ) == (
            want.encoding,
            want.delimiter,
            want.extra_columns,
            want.rows_delivered,
            want.overlong_lines,
            want.short_lines,
        ), path.name
    return together


def test_files_read_together_are_read_as_alone_and_parsed_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = f"{KONTAKTE_HEADER};"  # an unnamed seventh column in every file of the batch
    row = "k{n};f1;2026-03-0{n};45;PERSOENLICH;SPRACHE;"
    batch = {
        # 1: three clean rows, lines 2–4
        "08115001": [header, *(row.format(n=n) for n in (1, 2, 3))],
        # 2: header only, between two files with rows: no rows of the neighbours
        "08115002": [header],
        # 3: line 2 blank (not a row); line 3 with a value in the unnamed column (#7, for this
        # file only); line 4 short of the named fields (bad: a short row, blanked)
        "08115003": [header, ";;;;;;", "k5;f1;2026-03-05;45;TELEFON;ALLTAG;x", "k6;f1"],
        # 4: rows usually 8 fields long (a trailing delimiter each), so none is overlong here,
        # where 8 fields in a file whose rows have 7 would be (file 5)
        "08115004": [header, *(row.format(n=n) + ";" for n in (7, 8))],
        # 5: line 3 one field too many (bad: overlong, blanked) among rows of the usual 7
        "08115005": [header, row.format(n=1), row.format(n=2) + ";", row.format(n=3)],
    }
    paths = [
        write_csv(tmp_path, f"kontakte_{provider}_2026-03-31.csv", lines)
        for provider, lines in batch.items()
    ]
    # Windows-1252 with an umlaut: decoded per file, its encoding its own
    paths.append(
        write_csv(
            tmp_path,
            "kontakte_08115006_2026-03-31.csv",
            [header, "k9;f1;2026-03-09;45;TELEFON;Rückkehr;"],
            encoding="cp1252",
        )
    )
    # read alone, not together: a quote (line 2), no line end after the last line, a missing
    # column (rejected whole), a header of its own (another batch of one)
    paths.append(
        write_csv(
            tmp_path, "kontakte_08115007_2026-03-31.csv", [header, 'k1;f1;2026-03-01;45;"A;B";X;']
        )
    )
    no_end = tmp_path / "kontakte_08115008_2026-03-31.csv"
    no_end.write_bytes(f"{header}\n{row.format(n=1)}".encode())
    paths.append(no_end)
    paths.append(
        write_csv(tmp_path, "kontakte_08115009_2026-03-31.csv", ["kontakt_id;fall_id", "k1;f1"])
    )
    paths.append(
        write_csv(
            tmp_path,
            "kontakte_08115010_2026-03-31.csv",
            [KONTAKTE_HEADER, "k1;f1;2026-03-01;5;TELEFON;X"],
        )
    )
    parses = []
    parse = readers._parse_csv
    monkeypatch.setattr(readers, "_parse_csv", lambda *a: parses.append(a[0]) or parse(*a))
    together = assert_read_as_alone(paths, "kontakte")
    # files 1, 2, 3 and 6 (7 fields wide) in one parse, 4 and 5 (8 wide) in another; 7, 8 and 10
    # each alone; 9 rejected before its cells are parsed (and `_alone` parses each file but 9
    # once more for the comparison)
    assert len(parses) == 2 + 3 + 9
    text = [p.read_bytes() for p in paths]
    text[5] = text[5].decode("cp1252").encode()  # parsed as decoded
    assert text[0] + text[1] + text[2] + text[5] in parses
    assert text[3] + text[4] in parses
    first, _, third, fourth, fifth, sixth, *_ = together
    assert first.frame["_line"].to_list() == [2, 3, 4]
    assert third.rows_delivered == 2 and third.short_lines == [4] and third.extra_columns == ["#7"]
    assert first.extra_columns == [] and fourth.overlong_lines == [] and fifth.overlong_lines == [3]
    assert sixth.encoding == "cp1252" and sixth.frame["thema"].to_list() == ["Rückkehr"]
    assert isinstance(together[8], FileRejection)


def test_a_parse_together_that_disagrees_with_the_files_lines_reads_each_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [
        write_csv(
            tmp_path,
            f"kontakte_0811500{n}_2026-03-31.csv",
            [KONTAKTE_HEADER, f"k{n};f1;2026-03-01;5;TELEFON;X"],
        )
        for n in (1, 2)
    ]
    parse = readers._parse_csv

    def one_row_short(utf8: bytes, *rest: object) -> pl.DataFrame:
        cells = parse(utf8, *rest)
        joined = utf8.count(b"\n") > 2  # the two files' text: drop a row, as a parser might
        return cells.head(cells.height - 1) if joined else cells

    monkeypatch.setattr(readers, "_parse_csv", one_row_short)
    assert_read_as_alone(paths, "kontakte")  # each file's own two rows: read alone


@pytest.fixture(scope="module")
def tiny_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from synthetic import generate

    landing = tmp_path_factory.mktemp("tiny-landing")
    generate("tiny", landing, seed=1, stand=dt.date(2026, 6, 30))
    return landing


@given(data=st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_corrupted_files_read_together_are_read_as_alone(
    tiny_landing: Path, tmp_path_factory, data
) -> None:
    """The fuzz test's corruptions (`tests/fuzzing.py`) of several `tiny` files of one extract,
    read together and alone: the same tables and rejections."""
    from tests.fuzzing import KINDS, ODD_VALUES, Mutation, mutate

    by_extract: dict[str, list[Path]] = {}
    for p in sorted(tiny_landing.iterdir()):
        if p.suffix == ".csv":
            by_extract.setdefault(p.name.split("_")[0], []).append(p)
    extract = data.draw(st.sampled_from(sorted(e for e, ps in by_extract.items() if len(ps) > 1)))
    sources = data.draw(st.lists(st.sampled_from(by_extract[extract]), min_size=2, max_size=5))
    folder = tmp_path_factory.mktemp("together")
    paths = []
    for n, source in enumerate(sources):
        content = source.read_bytes()
        if data.draw(st.booleans()):  # corrupted, else delivered as generated
            m = Mutation(
                file=source.name,
                kind=data.draw(st.sampled_from(KINDS)),
                row=data.draw(st.floats(min_value=0.0, max_value=0.999)),
                column=data.draw(st.integers(min_value=0, max_value=20)),
                value=data.draw(st.sampled_from(ODD_VALUES)),
            )
            content = mutate(content, m)
        path = folder / source.name.replace(".csv", f"_{n}.csv")
        path.write_bytes(content)
        paths.append(path)
    assert_read_as_alone(paths, extract)


@pytest.mark.parametrize(
    "file_ids",
    [
        [13, 12, 11, 10],  # all fit in Int32: the per-file literals' type
        [13, 2**33, 11, 10],  # one beyond Int32: Int64 for all, as a relaxed concat makes it
    ],
)
def test_files_typed_together_have_the_per_file_labels_types_and_rows(
    tmp_path: Path, file_ids: list[int]
) -> None:
    """`parse_many` labels the joined rows in whole columns: the same frame, types included,
    as typing each file alone and labelling its rows with literals."""
    tables = read_tables(
        [
            write_csv(tmp_path, f"kontakte_0811500{n}_2026-03-31.csv", lines)
            for n, lines in enumerate(
                [
                    [KONTAKTE_HEADER, "k1;f1;2026-03-02;45;PERSOENLICH;SPRACHE"],  # clean
                    [KONTAKTE_HEADER],  # header only
                    [
                        KONTAKTE_HEADER,
                        "k2;f1;2026-03-03;viele;TELEFON;ALLTAG",  # line 2: minutes not a number
                        "k3;f2;2026-03-04;30;TELEFON;ALLTAG;Rückruf",  # line 3: a field too many
                        "k4;f2",  # line 4: short of the named fields
                    ],
                    [KONTAKTE_HEADER, "k9;f9;2026-03-05;x;TELEFON;ALLTAG"],  # line 2: minutes
                ]
            )
        ],
        "kontakte",
    )
    raws = [
        ({"_file": i, "_provider": f"p{n}"}, t)
        for n, (i, t) in enumerate(zip(file_ids, tables, strict=True))
    ]
    together = parse_many(raws, "kontakte")
    # each file typed alone, its labels put before its columns as literals, the files joined
    # as a relaxed concat joins them: the types and rows `parse_many` must give

    def alone(of: str) -> pl.DataFrame:
        return pl.concat(
            [
                getattr(parse_columns(t, "kontakte", STAND), of).select(
                    pl.lit(labels["_file"]).alias("_file"),
                    pl.lit(labels["_provider"]).alias("_provider"),
                    pl.all(),
                )
                for labels, t in raws
            ],
            how="vertical_relaxed",
        )

    assert together.frame.schema == alone("frame").schema
    assert together.frame.schema["_file"] == (pl.Int32 if max(file_ids) < 2**31 else pl.Int64)
    assert together.frame.rows() == alone("frame").rows()
    assert together.errors.schema == alone("errors").schema
    assert together.errors.rows() == alone("errors").rows()
    # the third file's lines 2 (minutes), 3 (a field too many) and 4 (short), then the fourth's
    assert [(line, rule) for _, _, line, _, rule, _ in together.errors.rows()] == [
        (2, "type:int"),
        (3, "row:too_many_fields"),
        (4, "row:too_few_fields"),
        (2, "type:int"),
    ]
    # a label of another kind has no such column type here: said, not guessed
    with pytest.raises(TypeError, match="'_file': ints or strings"):
        parse_many([({"_file": 1.5, "_provider": "p"}, tables[0])], "kontakte")
    # no files: said, not a polars error about an empty concat
    with pytest.raises(ValueError, match="no files to type"):
        parse_many([], "kontakte")
