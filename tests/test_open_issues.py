"""Open problems per provider (#12, item 5): a rejection or quarantine stays open across later
ingests until an accepted delivery of the same extract replaces it."""

from __future__ import annotations

import duckdb

from cli.main import main
from ingest.load import Folders, ingest_landing
from reports.open_issues import FILE_NAME, read_open_issues, write_open_issues

KEY = b"open-issues-test-key"
A, B = "08115003", "08111000"
HEADER = (
    "person_id;geburtsjahr;geschlecht;staatsangehoerigkeit;einreisedatum;au_beginn;au_ende;"
    "wohngemeinde_ags"
)


def persons(n: int, bad_lines: dict[int, str] | None = None) -> list[str]:
    """n person rows (file lines 2..n+1); `bad_lines` replaces the year on the given lines."""
    rows = [HEADER]
    for i in range(1, n + 1):
        year = (bad_lines or {}).get(i + 1, "1990")
        rows.append(f"P-{i};{year};m;SYR;;2017-03-01;;08115003")
    return rows


def deliver(settings, name: str, lines: list[str]) -> None:
    (settings.landing / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    folders = Folders.of(settings)
    ingest_landing(settings.build_db, folders, KEY)
    write_open_issues(settings.build_db, settings.reports_dir)


def issues(settings) -> list[tuple]:
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        frame = read_open_issues(con)
    return frame.select("provider", "file_name", "kind", "rule", "column_name", "rows_affected",
                        "first_lines").rows()  # fmt: skip


def test_problems_stay_open_until_an_accepted_delivery_replaces_them(settings, capsys):
    # A: 40 persons, lines 5 and 9 have a year that is not an integer → 2 rows quarantined
    # (2/40 = 5 %, not more: the file is accepted).
    deliver(settings, f"personen_{A}_2026-03-31.csv", persons(40, {5: "neunzehn", 9: "x"}))
    # B: a workbook that is none → the whole file is rejected.
    (settings.landing / f"stellen_{B}_2026-03-31.xlsx").write_bytes(b"not a workbook")
    deliver(settings, f"personen_{B}_2026-03-31.csv", persons(3))
    open_now = issues(settings)
    assert open_now == [
        (B, f"stellen_{B}_2026-03-31.xlsx", "REJECTED", "UNREADABLE", None, None, None),
        (A, f"personen_{A}_2026-03-31.csv", "QUARANTINED", "type:int", "geburtsjahr", 2, [5, 9]),
    ] or sorted(open_now) == sorted(
        [
            (B, f"stellen_{B}_2026-03-31.xlsx", "REJECTED", "UNREADABLE", None, None, None),
            (A, f"personen_{A}_2026-03-31.csv", "QUARANTINED", "type:int", "geburtsjahr", 2,
             [5, 9]),
        ]
    )  # fmt: skip

    # A later ingest of another extract of A (a later build) resolves nothing.
    deliver(settings, f"personen_{B}_2026-04-30.csv", persons(4))
    assert len(issues(settings)) == 2

    # `imw status --open` groups them by provider.
    main(["status", "--home", str(settings.home), "--open"])
    out = capsys.readouterr().out
    assert "open problems: 2 in 2 files of 2 providers" in out
    assert f"  {A}: 1 file" in out and f"  {B}: 1 file" in out
    assert "2 rows quarantined: type:int on geburtsjahr, lines 5, 9" in out

    # The clerk's list (German, plural) and the operator's list.
    text = (settings.reports_dir / A / FILE_NAME).read_text(encoding="utf-8")
    assert "1 Lieferung hat noch offene Probleme." in text
    assert "2 Zeilen zurückgewiesen, Spalte `geburtsjahr`: keine Ganzzahl" in text
    assert "(Zeilen 5, 9)" in text
    assert "neunzehn" not in text  # never a delivered value
    operator = (settings.reports_dir / "_betrieb" / FILE_NAME).read_text(encoding="utf-8")
    assert f"{A}: 1 file" in operator and f"{B}: 1 file" in operator

    # A clean, accepted re-delivery of A's personen closes A's problem; B's stays open.
    deliver(settings, f"personen_{A}_2026-04-30.csv", persons(40))
    assert [(p, kind) for p, _, kind, *_ in issues(settings)] == [(B, "REJECTED")]
    assert "Keine offenen Probleme" in (settings.reports_dir / A / FILE_NAME).read_text()
