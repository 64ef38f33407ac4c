"""Regression tests of #11 (reliability), one or more per numbered defect, on hand-written files
and the ingest alone (no dbt). Whole-build defects (2, 5, 6, 7's CLI, full disk) are in
`test_reliability_build.py`; the fuzzing in `test_fuzz_ingest.py`.
"""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime, timedelta

import duckdb
import polars as pl
import pytest
import xlsxwriter

from cli.main import main
from contract.spec import ECHO_MAX_CHARS, XLSX_MAX_INFLATED_BYTES
from core.csv_safety import neutralise, unsafe_cells
from core.settings import MissingKeyError, WeakKeyError, pseudonym_key
from ingest.load import ACCEPTED, DUPLICATE, REJECTED, Folders, ingest_landing
from ingest.pseudonymise import KeyMismatchError, fingerprint
from ingest.readers import parse_file_name
from ingest.rejections import FileRejection, Problem, RejectReason
from reports.delivery import write_delivery_reports
from reports.intake import write_intake_report

KEY = b"reliability-test-key-0123"
HEADER = (
    "person_id;geburtsjahr;geschlecht;staatsangehoerigkeit;einreisedatum;au_beginn;au_ende;"
    "wohngemeinde_ags"
)
PERSON_1 = "P-100001;1990;m;SYR;2016-01-10;2017-03-01;;08115003"
PERSON_2 = "P-100002;1985;w;AFG;10.02.2016;01.04.2017;30.06.2020;08115003"
PERSON_3 = "P-100003;2001;d;XXX;;2018-05-01;;08115003"
TODAY = datetime.now(UTC).date()


def write(folder, name: str, *lines: str, end: str = "\n") -> None:
    (folder / name).write_bytes((end.join(lines) + end).encode("utf-8"))


def folders_of(settings) -> Folders:
    return Folders(settings.landing, settings.archive_dir, settings.quarantine_dir, settings.home)


def run(settings, key: bytes = KEY):
    result = ingest_landing(settings.build_db, folders_of(settings), key)
    write_delivery_reports(result, settings.build_db, settings.reports_dir)
    write_intake_report(result, settings.reports_dir)
    return result


def by_name(result) -> dict:
    return {v.file_name: v for v in result.verdicts}


def query(settings, sql: str, params=None):
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def report_texts(settings) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in settings.reports_dir.rglob("*")
        if p.is_file()
    )


def xlsx(path, cells: dict[tuple[int, int], object], *, hidden_first: bool = False) -> None:
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    if hidden_first:
        workbook.add_worksheet().activate()
        sheet.hide()
    for (row, col), value in cells.items():
        if isinstance(value, str) and value.startswith("="):
            sheet.write_formula(row, col, value, None, "#DIV/0!")
        else:
            sheet.write(row, col, value)
    workbook.close()


# --------------------------------------------------------------------------------------------
# 1. No single file stops the build
# --------------------------------------------------------------------------------------------
def test_a_file_that_cannot_be_read_is_rejected_and_every_other_file_is_processed(settings):
    landing = settings.landing
    # CR-only line ends (old Mac/Excel): a legitimate dialect, read as such.
    write(landing, "personen_08115_2026-07-01.csv", HEADER, PERSON_1, end="\r")
    # bad: a header line over 128 KB (Python's csv module raises on it)
    write(landing, "personen_08116_2026-07-01.csv", "person_id;" + "x" * 140_000, PERSON_1)
    # bad: a 1.7 KB workbook declaring and using a cell at XFD1048576 (the reader would ask for
    # hundreds of GiB and abort the whole process)
    xlsx(landing / "personen_08117_2026-07-01.xlsx", {(0, 0): "person_id", (1048575, 16383): 1})
    # bad: a small workbook whose only sheet inflates beyond XLSX_MAX_INFLATED_BYTES
    bomb = landing / "personen_08118_2026-07-01.xlsx"
    xlsx(bomb, {(0, 0): "person_id"})
    with (
        zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("xl/padding.bin", "w", force_zip64=True) as fh,
    ):
        chunk = b"\0" * (1 << 20)
        for _ in range(XLSX_MAX_INFLATED_BYTES // len(chunk) + 1):
            fh.write(chunk)
    # A clean file of another provider must get its verdict too.
    write(
        landing, "personen_08119_2026-07-01.csv", HEADER, PERSON_2.replace("08115003", "08119001")
    )

    verdicts = by_name(run(settings))

    assert verdicts["personen_08115_2026-07-01.csv"].verdict == ACCEPTED
    assert verdicts["personen_08115_2026-07-01.csv"].rows_loaded == 1  # PERSON_1
    assert verdicts["personen_08119_2026-07-01.csv"].verdict == ACCEPTED
    problems = {
        name: (v.verdict, v.reason)
        for name, v in verdicts.items()
        if name in ("personen_08116_2026-07-01.csv", "personen_08117_2026-07-01.xlsx",
                    "personen_08118_2026-07-01.xlsx")
    }  # fmt: skip
    assert set(problems.values()) == {(REJECTED, "UNREADABLE")}
    assert "longer than 65536" in verdicts["personen_08116_2026-07-01.csv"].message_en
    assert "more than 10000000 cells" in verdicts["personen_08117_2026-07-01.xlsx"].message_en
    assert "larger than 256 MB" in verdicts["personen_08118_2026-07-01.xlsx"].message_en
    assert not list(landing.iterdir()), "no file waits in landing for the next build"


def test_xlsx_error_cells_and_a_hidden_first_sheet_reject_the_file(settings):
    header = {(0, i): name for i, name in enumerate(HEADER.split(";"))}
    # bad: a formula cell holding #DIV/0! in the data
    xlsx(settings.landing / "personen_08115_2026-07-01.xlsx", {**header, (1, 1): "=1/0"})
    # bad: the first sheet is hidden; the visible one would not be the one read
    xlsx(settings.landing / "personen_08116_2026-07-01.xlsx", header, hidden_first=True)
    verdicts = by_name(run(settings))
    error_cells = verdicts["personen_08115_2026-07-01.xlsx"]
    hidden = verdicts["personen_08116_2026-07-01.xlsx"]
    assert (error_cells.verdict, error_cells.reason) == (REJECTED, "UNREADABLE")
    assert "Excel error values" in error_cells.message_en
    assert (hidden.verdict, hidden.reason) == (REJECTED, "UNREADABLE")
    assert "is hidden" in hidden.message_en


def test_a_workbook_with_a_damaged_part_is_rejected_and_the_others_are_processed(settings):
    # Found by `make fuzz` (a BOM written into an XLSX): the deflate stream of the workbook's
    # relationships part is broken, and reading it raised zlib.error past the ingest — first in
    # the guard, then again while counting the rows of the file already rejected.
    header = {(0, i): name for i, name in enumerate(HEADER.split(";"))}
    good = settings.landing / "personen_08115_2026-07-01.xlsx"
    xlsx(good, {**header, **{(1, i): v for i, v in enumerate(PERSON_1.split(";"))}})
    damaged = settings.landing / "personen_08116_2026-07-01.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item), compress_type=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(damaged) as zf:
        part = zf.getinfo("xl/_rels/workbook.xml.rels")
    raw = bytearray(damaged.read_bytes())
    start = part.header_offset + 30 + len(part.filename.encode()) + len(part.extra)
    # bad: the part's compressed bytes overwritten (its local header stays intact)
    raw[start : start + part.compress_size] = b"\xff" * part.compress_size
    damaged.write_bytes(bytes(raw))
    verdicts = by_name(run(settings))
    assert verdicts["personen_08115_2026-07-01.xlsx"].verdict == ACCEPTED
    broken = verdicts["personen_08116_2026-07-01.xlsx"]
    assert (broken.verdict, broken.reason) == (REJECTED, "UNREADABLE")
    assert broken.rows_delivered is None  # its rows cannot be counted: unknown, not 0
    assert not any(settings.landing.iterdir())  # both files left landing with a verdict


def test_a_row_shifted_by_an_inserted_cell_is_a_field_count_error_even_with_a_trailing_gap(
    settings,
):
    # Found by `make fuzz`: a cell inserted before the id of a row whose last field is empty
    # ("X;P-…;…;") gives one surplus field that is empty, which looked like a trailing
    # delimiter; the row was read shifted and its id, now under `geschlecht`, was quoted in the
    # quarantine as a bad code. 40 good rows keep the file accepted (1 bad row = 2.4 % < 5 %).
    good = [f"P-2{i:05d};1990;m;SYR;2016-01-10;2017-03-01;;08115003" for i in range(40)]
    # bad: PERSON_2 without its Gemeinde, so its last field is empty, and "X" inserted before
    # it: 9 fields for 8 columns, the 9th empty
    shifted = "X;P-100002;1985;w;AFG;10.02.2016;01.04.2017;30.06.2020;"
    write(
        settings.landing, "personen_08115_2026-07-01.csv", HEADER, *good[:20], shifted, *good[20:]
    )
    # a file whose every line ends with the delimiter is a dialect, not 40 shifted rows
    trailing = [HEADER + ";", *(row + ";" for row in good)]
    write(settings.landing, "personen_08116_2026-07-01.csv", *trailing)
    verdicts = by_name(run(settings))
    assert verdicts["personen_08115_2026-07-01.csv"].verdict == ACCEPTED
    assert verdicts["personen_08115_2026-07-01.csv"].rows_quarantined == 1
    assert verdicts["personen_08116_2026-07-01.csv"].verdict == ACCEPTED
    assert verdicts["personen_08116_2026-07-01.csv"].rows_quarantined == 0
    rules = query(
        settings,
        "SELECT line, rule, value FROM raw.quarantined_rows WHERE file_name = ?",
        ["personen_08115_2026-07-01.csv"],
    )
    assert rules == [(22, "row:too_many_fields", None)]  # header line 1 + 20 good rows
    assert "P-100002" not in report_texts(settings)


# --------------------------------------------------------------------------------------------
# 3. A stand typo cannot hijack a snapshot
# --------------------------------------------------------------------------------------------
def test_a_stand_after_the_delivery_day_or_before_the_programme_is_rejected(settings):
    tomorrow = TODAY + timedelta(days=1)  # within the tolerance of one day (time zones)
    write(
        settings.landing,
        "stellen_08115_2099-12-31.csv",
        "stellen_id;vzae;qualifikation;beginn",
        "S-1;1,0;BACHELOR;2020-01-01",
    )  # fmt: skip  (bad: a typo for 2025)
    write(
        settings.landing,
        "stellen_08116_2016-12-31.csv",
        "stellen_id;vzae;qualifikation;beginn",
        "S-1;1,0;BACHELOR;2016-01-01",
    )  # fmt: skip  (bad: before the programme began, 2017)
    write(settings.landing, f"stellen_08117_{tomorrow}.csv", "stellen_id;vzae;qualifikation;beginn",
          "S-1;1,0;BACHELOR;2020-01-01")  # fmt: skip
    verdicts = by_name(run(settings))
    future = verdicts["stellen_08115_2099-12-31.csv"]
    assert (future.verdict, future.reason) == (REJECTED, "BAD_STAND")
    assert "after the day of arrival" in future.message_en
    early = verdicts["stellen_08116_2016-12-31.csv"]
    assert (early.verdict, early.reason) == (REJECTED, "BAD_STAND")
    assert "before the programme began" in early.message_en
    assert verdicts[f"stellen_08117_{tomorrow}.csv"].verdict == ACCEPTED
    # Nothing dated 2099 is current: the period grid cannot reach past the newest stand.
    assert query(settings, "SELECT max(stand) FROM raw.current_batches") == [(tomorrow,)]


# --------------------------------------------------------------------------------------------
# 4. No clear id reaches a report through a shifted row; echoes are short
# --------------------------------------------------------------------------------------------
def test_rows_with_missing_or_surplus_fields_are_row_errors_that_echo_nothing(settings):
    long_code = "Z" * 500  # bad: a 500-character nationality code (cut in every report)
    write(
        settings.landing, "personen_08115003_2026-07-01.csv", HEADER,
        PERSON_1,
        # bad: one field too few: the id P-200002 would shift into geburtsjahr and beyond
        "1985;P-200002;w;AFG;10.02.2016;01.04.2017;08115003",
        # bad: one field too many: the id P-200003 shifts into staatsangehoerigkeit
        "P-200003x;1985;P-200003;w;AFG;10.02.2016;01.04.2017;;08115003",
        f"P-100004;1990;m;{long_code};2016-01-10;2017-03-01;;08115003",
        PERSON_2, PERSON_3, "P-100005;1990;m;SYR;2016-01-10;2017-03-01;;08115003",
        *(f"P-3{i:05d};1990;m;SYR;2016-01-10;2017-03-01;;08115003" for i in range(60)),
    )  # fmt: skip
    verdict = run(settings).verdicts[0]
    # 3 bad rows (short, long, long code) of 67: 4.5 %, below the 5 % limit
    assert (verdict.verdict, verdict.rows_delivered, verdict.rows_quarantined) == (ACCEPTED, 67, 3)
    rows = query(
        settings,
        "SELECT line, column_name, rule, value FROM raw.quarantined_rows ORDER BY line, rule",
    )
    assert rows[:2] == [
        (3, "_row", "row:too_few_fields", None),  # line 3: no other error, no value
        (4, "_row", "row:too_many_fields", None),  # line 4: likewise
    ]
    (line, column, _, value), *_ = rows[2:]
    assert (line, column) == (5, "staatsangehoerigkeit")
    assert value == "Z" * (ECHO_MAX_CHARS - 1) + "…" and len(value) == ECHO_MAX_CHARS
    texts = report_texts(settings)
    for clear in ("P-200002", "P-200003", "Z" * ECHO_MAX_CHARS):
        assert clear not in texts
    assert "Zeile hat weniger Felder als die Kopfzeile" in texts


# --------------------------------------------------------------------------------------------
# 7. The key: strength and fingerprint
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("weak", ["x", " ", " " * 20, "a" * 40, "abcabcabcabcabcabc"])
def test_a_weak_key_is_refused(weak):
    # too short / blank / too short / one character / three distinct characters
    with pytest.raises(WeakKeyError, match="too weak"):
        pseudonym_key({"IMW_PSEUDONYM_KEY": weak})
    assert issubclass(WeakKeyError, MissingKeyError)  # the CLI's exit 2 path


def test_a_different_key_is_refused_and_only_its_fingerprint_is_kept(settings):
    write(settings.landing, "personen_08115003_2026-07-01.csv", HEADER, PERSON_1)
    run(settings)
    write(settings.landing, "personen_08115003_2026-07-02.csv", HEADER, PERSON_1, PERSON_2)
    with pytest.raises(KeyMismatchError, match="imw rekey"):
        run(settings, key=b"another-key-0123456789")
    assert (settings.landing / "personen_08115003_2026-07-02.csv").exists(), "left untouched"
    assert query(settings, "SELECT fingerprint FROM raw.warehouse_key") == [(fingerprint(KEY),)]
    assert KEY not in settings.build_db.read_bytes()


# --------------------------------------------------------------------------------------------
# 8. Provider codes
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("personen_08999_2026-07-01.csv", RejectReason.UNKNOWN_PROVIDER),  # no such Kreis
        ("personen_08999001_2026-07-01.csv", RejectReason.UNKNOWN_PROVIDER),  # Gemeinde in none
        ("personen_\u0660\u0668\u0661\u0661\u0665_2026-07-01.csv", RejectReason.BAD_FILE_NAME),
        ("personen_0811\u0665_2026-07-01.csv", RejectReason.BAD_FILE_NAME),  # one Arabic digit
    ],
)
def test_provider_codes_are_ascii_digits_of_a_known_kreis(name, reason):
    with pytest.raises(FileRejection) as caught:
        parse_file_name(name)
    assert caught.value.reason is reason
    assert parse_file_name("personen_08115003_2026-07-01.csv").provider == "08115003"


def test_gemeinde_codes_in_the_data_lie_in_a_known_kreis(settings):
    write(
        settings.landing, "personen_08115003_2026-07-01.csv", HEADER,
        PERSON_1, PERSON_2,
        "P-100009;1990;m;SYR;2016-01-10;2017-03-01;;08999003",  # bad: Kreis 08999 does not exist
        *(f"P-3{i:05d};1990;m;SYR;2016-01-10;2017-03-01;;08115003" for i in range(30)),
    )  # fmt: skip
    run(settings)
    assert query(settings, "SELECT line, column_name, rule, value FROM raw.quarantined_rows") == [
        (4, "wohngemeinde_ags", "type:ags8", "08999003")
    ]


# --------------------------------------------------------------------------------------------
# 9. Duplicates are per provider and extract
# --------------------------------------------------------------------------------------------
def test_a_duplicate_is_the_same_content_of_the_same_provider_and_extract(settings):
    body = (HEADER, PERSON_1, PERSON_2)
    write(settings.landing, "personen_08115_2026-06-30.csv", *body)
    run(settings)
    write(settings.landing, "personen_08116_2026-06-30.csv", *body)  # same bytes, other provider
    write(settings.landing, "personen_08115_2026-07-01.csv", *body)  # same bytes, newer stand
    verdicts = by_name(run(settings))
    assert verdicts["personen_08116_2026-06-30.csv"].verdict == ACCEPTED
    assert "08115" not in (verdicts["personen_08116_2026-06-30.csv"].message_en or "")
    assert verdicts["personen_08115_2026-07-01.csv"].verdict == ACCEPTED
    write(settings.landing, "personen_08115_2026-06-29.csv", *body)  # same bytes, older stand
    assert run(settings).verdicts[0].verdict == DUPLICATE
    current = query(settings, "SELECT provider, stand FROM raw.current_batches ORDER BY provider")
    assert current == [("08115", date(2026, 7, 1)), ("08116", date(2026, 6, 30))]


def test_two_different_files_for_one_snapshot_in_one_run_reject_the_second(settings):
    write(settings.landing, "personen_08115_2026-07-01.csv", HEADER, PERSON_1)
    write(settings.landing, "Personen_08115_2026-07-01.csv", HEADER, PERSON_2)  # same snapshot
    verdicts = run(settings).verdicts
    assert sorted(v.verdict for v in verdicts) == [ACCEPTED, REJECTED]
    assert next(v for v in verdicts if v.verdict == REJECTED).reason == "CONFLICTING_SNAPSHOT"


# --------------------------------------------------------------------------------------------
# 10. Formula injection
# --------------------------------------------------------------------------------------------
FORMULAS = ['=HYPERLINK("http://x.example/")', "+SUM(1;2)", "@cmd", "-1+1", "\t=1"]


def test_formulas_are_neutralised_in_the_clerks_row_list(settings):
    write(
        settings.landing, "personen_08115003_2026-07-01.csv", HEADER,
        # bad: formulas as nationality codes
        *(f'P-10001{i};1990;m;"{f.replace(chr(34), 2 * chr(34))}";2016-01-10;2017-03-01;;08115003'
          for i, f in enumerate(FORMULAS)),
    )  # fmt: skip
    run(settings)
    frame = pl.read_csv(settings.reports_dir / "08115003" / "aktuell_zeilen.csv", separator=";",
                        infer_schema=False)  # fmt: skip
    # Delivered values are trimmed first ("\t=1" arrives as "=1"), then neutralised.
    assert sorted(frame["wert"].to_list()) == sorted("'" + f.strip() for f in FORMULAS)
    assert unsafe_cells(frame) == 0


def test_neutralise_leaves_safe_values_and_other_types_alone():
    frame = pl.DataFrame({"text": ["=1", "ok", None, "-2"], "n": [-1, 2, 3, 4]})
    out = neutralise(frame)
    assert out["text"].to_list() == ["'=1", "ok", None, "'-2"]
    assert out["n"].to_list() == [-1, 2, 3, 4]  # numbers are numbers in a spreadsheet
    codes = pl.DataFrame({"c": pl.Series(["A", "@B"], dtype=pl.Enum(["A", "@B"]))})
    assert neutralise(codes)["c"].to_list() == ["A", "'@B"]


# --------------------------------------------------------------------------------------------
# 11. The smaller ones
# --------------------------------------------------------------------------------------------
def test_a_symlink_in_landing_is_refused_unread_and_no_link_is_kept(settings, tmp_path):
    secret = tmp_path / "elsewhere.csv"
    secret.write_text(HEADER + "\n" + PERSON_1 + "\n")
    (settings.landing / "personen_08115_2026-07-01.csv").symlink_to(secret)
    verdict = run(settings).verdicts[0]
    assert (verdict.verdict, verdict.reason, verdict.stored_as) == (
        REJECTED, "NOT_A_REGULAR_FILE", ""
    )  # fmt: skip
    assert secret.exists() and not list(settings.landing.iterdir())
    kept = [p for p in settings.home.rglob("*") if p.is_symlink()]
    assert kept == []


def test_hidden_entries_are_named_and_a_shrunken_snapshot_is_warned_about(settings):
    write(settings.landing, "personen_08115_2026-06-30.csv", HEADER, PERSON_1, PERSON_2, PERSON_3)
    run(settings)
    write(settings.landing, "personen_08115_2026-07-01.csv", HEADER)  # header only: 0 rows
    write(settings.landing, ".personen_08116_2026-07-01.csv", HEADER, PERSON_1)  # hidden
    (settings.landing / "unterordner").mkdir()
    result = run(settings)
    assert [(s.rows, s.previous_rows) for s in result.shrunk] == [(0, 3)]
    intake = (settings.reports_dir / "_betrieb" / "eingang.md").read_text()
    assert ".personen_08116_2026-07-01.csv" in intake and "unterordner/" in intake
    assert "personen_08115_2026-07-01.csv` has 0 rows" in intake
    clerk = (settings.reports_dir / "08115" / "aktuell.md").read_text()
    assert "0 Zeilen statt 3" in clerk


def test_a_file_whose_move_a_crash_interrupted_is_not_counted_twice(settings, monkeypatch):
    import ingest.load

    # bad: a file rejected as a whole (its required columns are missing)
    write(settings.landing, "personen_08115_2026-07-01.csv", "foo;bar", "1;2")
    with monkeypatch.context() as m:
        m.setattr(
            ingest.load, "_move", lambda src, target: (_ for _ in ()).throw(KeyboardInterrupt)
        )
        with pytest.raises(KeyboardInterrupt):  # the crash: after the commit, before the move
            run(settings)
    assert (settings.landing / "personen_08115_2026-07-01.csv").exists()
    assert run(settings).verdicts == []  # only the move is completed
    assert query(settings, "SELECT count(*) FROM raw.deliveries") == [(1,)]
    assert (settings.quarantine_dir / "08115" / "personen_08115_2026-07-01.csv").exists()


def test_a_newline_in_a_file_name_cannot_forge_a_report_row(settings):
    name = "x\n| `personen_08115_2026-07-01.csv` | angenommen | 1 | 1 | 0 |\n.csv"
    (settings.landing / name).write_text(HEADER + "\n")
    run(settings)
    [report_path] = settings.reports_dir.glob("*/aktuell.md")
    report = report_path.read_text()
    rows = [line for line in report.splitlines() if line.startswith("|")]
    assert len(rows) == 3  # header, separator, and the one file
    assert not any(row.startswith("| `personen_08115") for row in rows)


def test_a_50_mb_cell_is_never_echoed_whole(settings):
    big = "9" * 50_000_000  # bad: a 50 MB "year of birth"
    write(
        settings.landing, "personen_08115003_2026-07-01.csv", HEADER,
        f"P-100001;{big};m;SYR;2016-01-10;2017-03-01;;08115003",
        *(f"P-3{i:05d};1990;m;SYR;2016-01-10;2017-03-01;;08115003" for i in range(30)),
    )  # fmt: skip
    run(settings)
    [(value,)] = query(settings, "SELECT value FROM raw.quarantined_rows")
    assert len(value) == ECHO_MAX_CHARS and value.endswith("…")
    assert max(p.stat().st_size for p in settings.reports_dir.rglob("*") if p.is_file()) < 100_000


def test_imw_check_keeps_two_files_of_the_same_name_apart(tmp_path, capsys):
    for folder, person in (("a", PERSON_1), ("b", PERSON_2)):
        (tmp_path / folder).mkdir()
        write(tmp_path / folder, "personen_08115003_2026-07-01.csv", HEADER, person)
    code = main(["check", str(tmp_path / "a" / "personen_08115003_2026-07-01.csv"),
                 str(tmp_path / "b" / "personen_08115003_2026-07-01.csv")])  # fmt: skip
    out = capsys.readouterr().out
    # Two different files for one snapshot: the second is rejected, nothing crashes.
    assert code == 1 and "another file with the same provider, extract and stand" in out


def test_field_count_rows_have_their_own_rule_and_the_xlsx_guard_reads_dimensions(tmp_path):
    from ingest.xlsx_guard import check_workbook

    path = tmp_path / "personen_08115_2026-07-01.xlsx"
    xlsx(path, {(0, 0): "person_id", (9, 3): 1})  # A1:D10: 40 cells, well within the limit
    check_workbook(path)
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:D10"/>' in sheet
    # bad: the same sheet declaring A1:XFD1048576 (17 billion cells) without using them
    declared = tmp_path / "personen_08116_2026-07-01.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(declared, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"A1:D10", b"A1:XFD1048576")
            dst.writestr(item, data)
    with pytest.raises(FileRejection) as caught:
        check_workbook(declared)
    assert caught.value.detail["problem"] == Problem.XLSX_TOO_MANY_CELLS
