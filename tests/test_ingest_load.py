"""Loading the landing folder: one batch per accepted file, idempotent, snapshots, rejections."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pytest

from cli.main import print_build_summary
from core.settings import Settings
from ingest.load import ACCEPTED, DUPLICATE, REJECTED, Folders, ingest_landing
from ingest.pseudonymise import warehouse_id
from reports.delivery import md, write_delivery_reports

KEY = b"test-key"
PROVIDER = "08115003"
HEADER = (
    "person_id;geburtsjahr;geschlecht;staatsangehoerigkeit;einreisedatum;au_beginn;au_ende;"
    "wohngemeinde_ags"
)
PERSON_1 = "P-1;1990;m;SYR;2016-01-10;2017-03-01;;08115003"
PERSON_2 = "P-2;1985;w;AFG;10.02.2016;01.04.2017;30.06.2020;08115003"
PERSON_3 = "P-3;2001;d;XXX;;2018-05-01;;08115003"


def write(folder, name: str, *lines: str, encoding: str = "utf-8") -> None:
    (folder / name).write_bytes(("\n".join(lines) + "\n").encode(encoding))


def run(settings):
    result = ingest_landing(settings.build_db, Folders.of(settings), KEY)
    write_delivery_reports(result, settings.build_db, settings.reports_dir)
    return result


def query(settings, sql: str, params=None):
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_accepted_file_is_one_batch_with_pseudonymised_ids(settings):
    write(settings.landing, f"personen_{PROVIDER}_2026-03-31.csv", HEADER, PERSON_1, PERSON_2)
    result = run(settings)

    assert [v.verdict for v in result.verdicts] == [ACCEPTED]
    batch = query(settings, "SELECT file_name, provider, extract, stand, row_count, sha256 "
                            "FROM raw.load_batches")  # fmt: skip
    assert len(batch) == 1
    name, provider, extract, stand, rows, sha = batch[0]
    assert (name, provider, extract, str(stand), rows) == (
        f"personen_{PROVIDER}_2026-03-31.csv",
        PROVIDER,
        "personen",
        "2026-03-31",
        2,
    )
    assert len(sha) == 64
    ids = {r[0] for r in query(settings, "SELECT person_id FROM raw.personen_current")}
    # stored as warehouse ids: the first 128 bits of each id's HMAC, as integers
    assert ids == {warehouse_id(KEY, PROVIDER, "P-1"), warehouse_id(KEY, PROVIDER, "P-2")}
    # German dates were parsed: P-2's AU ended on 30.06.2020.
    assert (
        query(settings, "SELECT au_ende FROM raw.personen WHERE geburtsjahr = 1985")[0][
            0
        ].isoformat()
        == "2020-06-30"
    )
    # The file left landing for the archive, unchanged.
    assert not any(settings.landing.iterdir())
    assert (settings.archive_dir / PROVIDER / f"personen_{PROVIDER}_2026-03-31.csv").exists()


def test_same_bytes_twice_change_nothing(settings):
    name = f"personen_{PROVIDER}_2026-03-31.csv"
    write(settings.landing, name, HEADER, PERSON_1, PERSON_2)
    run(settings)
    before = query(settings, "SELECT * FROM raw.personen ORDER BY person_id")

    write(settings.landing, name, HEADER, PERSON_1, PERSON_2)  # the very same bytes again
    result = run(settings)

    assert [v.verdict for v in result.verdicts] == [DUPLICATE]
    assert query(settings, "SELECT * FROM raw.personen ORDER BY person_id") == before
    assert query(settings, "SELECT count(*) FROM raw.load_batches")[0][0] == 1
    assert sorted(p.name for p in (settings.archive_dir / PROVIDER).iterdir()) == [name]


def test_newer_snapshot_replaces_older_and_history_is_kept(settings):
    write(settings.landing, f"personen_{PROVIDER}_2026-03-31.csv", HEADER, PERSON_1, PERSON_2)
    run(settings)
    write(settings.landing, f"personen_{PROVIDER}_2026-06-30.csv", HEADER, PERSON_1, PERSON_2,
          PERSON_3)  # fmt: skip
    run(settings)

    assert query(settings, "SELECT count(*) FROM raw.personen_current")[0][0] == 3
    assert query(settings, "SELECT count(*) FROM raw.personen")[0][0] == 5  # history: 2 + 3
    assert query(settings, "SELECT stand FROM raw.current_batches")[0][0].isoformat() == (
        "2026-06-30"
    )

    # A late delivery of an OLDER stand is kept as history but does not become current.
    write(settings.landing, f"personen_{PROVIDER}_2026-01-31.csv", HEADER, PERSON_1)
    run(settings)
    assert query(settings, "SELECT count(*) FROM raw.personen_current")[0][0] == 3

    # A corrected file with the SAME stand wins by arrival.
    write(settings.landing, f"personen_{PROVIDER}_2026-06-30.csv", HEADER, PERSON_3)
    run(settings)
    assert query(settings, "SELECT count(*) FROM raw.personen_current")[0][0] == 1
    # Both files of stand 2026-06-30 are archived; the second with its hash in the name.
    assert len(list((settings.archive_dir / PROVIDER).glob("personen_*_2026-06-30*.csv"))) == 2


# Each case: (file name, content lines, expected reason, words the German report must contain)
REJECTIONS = [
    # file name does not follow <extract>_<provider>_<stand>.<csv|xlsx>
    ("personen-08115003.csv", [HEADER, PERSON_1], "BAD_FILE_NAME", "Dateiname"),
    # extract name not in the contract
    (f"klienten_{PROVIDER}_2026-03-31.csv", [HEADER, PERSON_1], "UNKNOWN_EXTRACT", "klienten"),
    # required column au_beginn missing from the header
    (f"personen_{PROVIDER}_2026-03-31.csv",
     [HEADER.replace(";au_beginn", ""), "P-1;1990;m;SYR;2016-01-10;;08115003"],
     "MISSING_COLUMNS", "au_beginn"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "lines", "reason", "word"), REJECTIONS)
def test_file_level_rejection_quarantines_and_keeps_previous_snapshot(
    settings, name, lines, reason, word
):
    good = f"personen_{PROVIDER}_2026-01-31.csv"
    write(settings.landing, good, HEADER, PERSON_1, PERSON_2)
    run(settings)

    write(settings.landing, name, *lines)
    result = run(settings)

    (verdict,) = result.verdicts
    assert verdict.verdict == REJECTED
    assert verdict.reason == reason
    assert verdict.message_de and verdict.message_en
    kept = list(settings.quarantine_dir.rglob(name))
    assert len(kept) == 1, "the rejected file is kept in quarantine, never deleted"
    # The provider keeps its previous snapshot.
    assert query(settings, "SELECT file_name FROM raw.current_batches") == [(good,)]
    assert query(settings, "SELECT count(*) FROM raw.personen_current")[0][0] == 2
    # The report names the file and the reason, in German and English.
    folder = verdict.provider or "_unzugeordnet"
    report = (settings.reports_dir / folder / "aktuell.md").read_text()
    assert name in report and word in report
    # the report escapes Markdown (a `|` in the message would end a table cell)
    assert md(verdict.message_de) in report and md(verdict.message_en) in report
    payload = json.loads((settings.reports_dir / folder / "aktuell.json").read_text())
    assert payload["files"][0]["reason"] == reason


def test_unreadable_and_badly_encoded_files_are_rejected(settings):
    # An "xlsx" that is not a zip/xlsx at all.
    (settings.landing / f"stellen_{PROVIDER}_2026-03-31.xlsx").write_bytes(b"not a workbook")
    # Bytes undefined in both UTF-8 and Windows-1252 (0x81, 0x8D) inside a CSV.
    (settings.landing / f"personen_{PROVIDER}_2026-03-31.csv").write_bytes(
        (HEADER + "\n").encode() + b"P-1;1990;m;SYR;;2017-03-01;;08115003\x81\x8d\n"
    )
    result = run(settings)
    reasons = {v.file_name.split("_")[0]: v.reason for v in result.verdicts}
    assert reasons == {"stellen": "UNREADABLE", "personen": "BAD_ENCODING"}
    assert query(settings, "SELECT count(*) FROM raw.load_batches")[0][0] == 0
    assert len(list(settings.quarantine_dir.rglob("*"))) == 3  # provider folder + 2 files


def test_rows_that_cannot_be_typed_are_quarantined_and_counts_add_up(settings):
    lines = [HEADER]
    lines += [f"P-{i};1990;m;SYR;;2017-03-01;;08115003" for i in range(1, 40)]
    lines.append("P-40;neunzehn;m;SYR;;2017-03-01;;08115003")  # line 41: year is not an integer
    write(settings.landing, f"personen_{PROVIDER}_2026-03-31.csv", *lines)
    result = run(settings)

    (v,) = result.verdicts
    assert (v.verdict, v.rows_delivered, v.rows_loaded, v.rows_quarantined) == (
        ACCEPTED, 40, 39, 1)  # fmt: skip
    assert v.rows_loaded + v.rows_quarantined == v.rows_delivered
    assert query(settings, "SELECT line, column_name, rule, value FROM raw.quarantined_rows") == [
        (41, "geburtsjahr", "type:int", "neunzehn")
    ]
    report = (settings.reports_dir / PROVIDER / "aktuell.md").read_text()
    assert "keine Ganzzahl" in report and "Spalte `geburtsjahr`" in report
    assert "Zeilen / lines: 41" in report
    rows = (settings.reports_dir / PROVIDER / "aktuell_zeilen.csv").read_text(encoding="utf-8-sig")
    assert (
        rows.splitlines()[1]
        == f"personen_{PROVIDER}_2026-03-31.csv;41;geburtsjahr;type:int;neunzehn"
    )


def test_more_than_five_percent_bad_rows_reject_the_whole_file(settings):
    lines = [HEADER]
    lines += [f"P-{i};1990;m;SYR;;2017-03-01;;08115003" for i in range(1, 19)]
    lines += ["P-19;1990;m;SYR;;31.02.2017;;08115003"]  # line 20: 31 February does not exist
    lines += ["P-20;1990;m;SYR;;2017-13-01;;08115003"]  # line 21: month 13 does not exist
    # 2 bad rows of 20 = 10 % > 5 %
    write(settings.landing, f"personen_{PROVIDER}_2026-03-31.csv", *lines)
    (v,) = run(settings).verdicts
    assert (v.verdict, v.reason, v.rows_delivered) == (REJECTED, "TOO_MANY_BAD_ROWS", 20)
    assert query(settings, "SELECT count(*) FROM raw.personen")[0][0] == 0


@pytest.mark.parametrize(
    ("n_rows", "verdict"),
    [
        (25, ACCEPTED),  # 1 bad row of 25 = 4 % — at most 5 %: the file is loaded without it
        (17, REJECTED),  # 1 bad row of 17 ≈ 5.9 % — more than 5 %: the whole file is rejected
    ],
)
def test_the_five_percent_rule_at_four_and_six_percent(settings, n_rows, verdict):
    lines = [HEADER]
    lines += [f"P-{i};1990;m;SYR;;2017-03-01;;08115003" for i in range(1, n_rows)]
    lines.append(f"P-{n_rows};1990;q;SYR;;2017-03-01;;08115003")  # last line: sex 'q' not a code
    write(settings.landing, f"personen_{PROVIDER}_2026-03-31.csv", *lines)
    (v,) = run(settings).verdicts
    assert (v.verdict, v.rows_delivered, v.rows_quarantined) == (verdict, n_rows, 1)
    loaded = query(settings, "SELECT count(*) FROM raw.personen")[0][0]
    assert loaded == (n_rows - 1 if verdict == ACCEPTED else 0)
    assert query(settings, "SELECT line, column_name, rule FROM raw.quarantined_rows") == [
        (n_rows + 1, "geschlecht", "code")
    ]


def test_a_file_rejected_whole_records_its_readable_rows(settings, capsys):
    """DQ02 v2: a file rejected whole counts its rows (as far as they can be read) as delivered
    and not accepted, so ingest records rows_delivered, and the delivery report and the build
    summary give that row count as rejected instead of "0 rows quarantined"."""
    # required column au_beginn missing: the file is rejected whole, its 3 rows still parse
    # (one blank line in between is no row)
    write(settings.landing, f"personen_{PROVIDER}_2026-03-31.csv",
          HEADER.replace(";au_beginn", ""), "P-1;1990;m;SYR;2016-01-10;;08115003", "",
          "P-2;1985;w;AFG;;;08115003", "P-3;2001;d;XXX;;;08115003")  # fmt: skip
    # bytes undefined in UTF-8 and Windows-1252: cannot be read at all, no row count
    (settings.landing / f"kontakte_{PROVIDER}_2026-03-31.csv").write_bytes(
        b"kontakt_id;fall_id\nK-1;F-1\x81\x8d\n"
    )
    result = run(settings)
    by_extract = {v.extract: v for v in result.verdicts}
    assert (by_extract["personen"].verdict, by_extract["personen"].rows_delivered) == (
        REJECTED,
        3,
    )
    assert by_extract["kontakte"].rows_delivered is None
    assert query(
        settings,
        "SELECT rows_delivered FROM raw.deliveries WHERE extract = 'personen'",
    ) == [(3,)]
    report = (settings.reports_dir / PROVIDER / "aktuell.md").read_text()
    # the table row: delivered 3, loaded 0, rejected 3
    assert f"| `personen_{PROVIDER}_2026-03-31.csv` | abgelehnt / rejected | 3 | 0 | 3 |" in report
    # the build summary: 2 files rejected, 3 rows rejected (the unreadable file has no count)
    print_build_summary(settings, datetime(2000, 1, 1, tzinfo=UTC))
    assert "rejected: 2 files, 3 rows rejected" in capsys.readouterr().out


def test_a_raw_layer_of_hex_pseudonyms_becomes_warehouse_ids_in_place(tmp_path):
    """A build database written before the warehouse ids (#16) keeps its history: ensure_schema
    turns each 64-character pseudonym into its first 128 bits, without the key."""
    from contract.spec import EXTRACTS
    from ingest.pseudonymise import pseudonym
    from ingest.raw import ensure_schema, table_ddl

    ex = EXTRACTS["faelle"]
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute(table_ddl(ex).replace("UHUGEINT", "VARCHAR"))  # the old column type
        con.execute("CREATE VIEW raw.faelle_current AS SELECT * FROM raw.faelle")  # and a view
        con.execute(
            "INSERT INTO raw.faelle (_batch_id, _provider, _line, fall_id, person_id) "
            "VALUES (1, ?, 2, ?, ?), (1, ?, 3, ?, NULL)",  # the second case has no person: NULL
            [PROVIDER, pseudonym(KEY, PROVIDER, "F-1"), pseudonym(KEY, PROVIDER, "P-1"),
             PROVIDER, pseudonym(KEY, PROVIDER, "F-2")],
        )  # fmt: skip
        ensure_schema(con)
        view_types = dict(con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'faelle_current'"
        ).fetchall())  # fmt: skip
        ensure_schema(con)  # a second time changes nothing
        types = dict(con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'faelle'"
        ).fetchall())  # fmt: skip
        rows = con.execute("SELECT fall_id, person_id FROM raw.faelle ORDER BY _line").fetchall()
    assert types["fall_id"] == types["person_id"] == "UHUGEINT"
    assert view_types["fall_id"] == "UHUGEINT"  # the view over it records the new type
    assert types["fallart"] == "VARCHAR"  # a code column is not an id and stays text
    assert rows == [
        (warehouse_id(KEY, PROVIDER, "F-1"), warehouse_id(KEY, PROVIDER, "P-1")),
        (warehouse_id(KEY, PROVIDER, "F-2"), None),
    ]


def _persons(n_rows: int, bad: dict[int, str] | None = None) -> list[str]:
    """A personen file of `n_rows` rows; `bad` maps a row number (1-based) to a bad sex code."""
    bad = bad or {}
    return [HEADER] + [
        f"P-{i};1990;{bad.get(i, 'm')};SYR;;2017-03-01;;08115003" for i in range(1, n_rows + 1)
    ]


def _three_providers(settings) -> dict[str, str]:
    """Three files of one extract, validated and written together (one chunk)."""
    names = {
        "clean": "personen_08115001_2026-03-31.csv",
        "some_bad": "personen_08115002_2026-03-31.csv",
        "too_bad": "personen_08115003_2026-03-31.csv",
    }
    write(settings.landing, names["clean"], *_persons(3))
    # row 25 (line 26): sex 'q' is no code — 1 of 25 = 4 %: accepted without it
    write(settings.landing, names["some_bad"], *_persons(25, {25: "q"}))
    # rows 19 and 20 (lines 20, 21): 2 of 20 = 10 % > 5 %: rejected whole
    write(settings.landing, names["too_bad"], *_persons(20, {19: "q", 20: "x"}))
    return names


def test_files_validated_together_get_their_own_verdicts_rows_and_quarantine(settings):
    names = _three_providers(settings)
    result = run(settings)
    got = {v.file_name: (v.verdict, v.rows_delivered, v.rows_loaded, v.rows_quarantined)
           for v in result.verdicts}  # fmt: skip
    assert got == {
        names["clean"]: (ACCEPTED, 3, 3, 0),  # every row
        names["some_bad"]: (ACCEPTED, 25, 24, 1),  # all but line 26
        names["too_bad"]: (REJECTED, 20, 0, 2),  # nothing loaded, its 2 bad rows quarantined
    }
    # each file's rows are in its own load batch (the delivery id of its record)
    assert query(
        settings,
        "SELECT b.file_name, count(*) FROM raw.personen p JOIN raw.load_batches b "
        "ON b.batch_id = p._batch_id GROUP BY 1 ORDER BY 1",
    ) == [(names["clean"], 3), (names["some_bad"], 24)]
    # each quarantined row names its own file and provider
    assert query(
        settings,
        "SELECT q.file_name, q.provider, q.line, q.column_name, q.rule FROM raw.quarantined_rows q "
        "JOIN raw.deliveries d USING (delivery_id) WHERE d.file_name = q.file_name ORDER BY 1, 3",
    ) == [
        (names["some_bad"], "08115002", 26, "geschlecht", "code"),
        (names["too_bad"], "08115003", 20, "geschlecht", "code"),
        (names["too_bad"], "08115003", 21, "geschlecht", "code"),
    ]
    assert not any(settings.landing.iterdir())  # every file left landing


def test_a_failure_while_writing_files_together_keeps_none_of_them(settings, monkeypatch):
    """The files validated together are written in one transaction: a failure in it (here the
    quarantine insert, which the clean file alone would not reach) records and loads none of
    them, and leaves all of them in landing for the next run, which loads them as if nothing had
    happened. (With a transaction per file the clean file was kept and moved.)"""
    import ingest.load

    names = _three_providers(settings)
    write_quarantine = ingest.load._quarantine_rows

    def broken(con, errors, *args):  # fails once there are rows to quarantine
        if errors.is_empty():
            return write_quarantine(con, errors, *args)
        raise RuntimeError("disk gone")

    monkeypatch.setattr(ingest.load, "_quarantine_rows", broken)
    with pytest.raises(RuntimeError, match="disk gone"):
        run(settings)
    assert query(settings, "SELECT count(*) FROM raw.deliveries")[0][0] == 0
    assert query(settings, "SELECT count(*) FROM raw.personen")[0][0] == 0
    assert sorted(p.name for p in settings.landing.iterdir()) == sorted(names.values())

    monkeypatch.undo()
    result = run(settings)
    assert sorted((v.file_name, v.verdict, v.rows_loaded) for v in result.verdicts) == [
        (names["clean"], ACCEPTED, 3),
        (names["some_bad"], ACCEPTED, 24),
        (names["too_bad"], REJECTED, 0),
    ]
    assert query(settings, "SELECT count(*) FROM raw.quarantined_rows")[0][0] == 3  # 1 + 2


def test_delivery_records_are_built_with_exactly_the_tables_columns(tmp_path):
    """The loader builds `raw.deliveries` records in polars (`DELIVERY_SCHEMA`) and inserts them
    by name: a column the table gained or lost must not go unnoticed (NULL or an error)."""
    from ingest import raw
    from ingest.load import DELIVERY_SCHEMA

    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        raw.ensure_schema(con)
        columns = con.execute(
            "SELECT column_name FROM duckdb_columns() "
            "WHERE schema_name = 'raw' AND table_name = 'deliveries' ORDER BY column_index"
        ).fetchall()
    assert [c for (c,) in columns] == list(DELIVERY_SCHEMA)


def test_a_reference_is_found_only_in_its_own_providers_snapshot(settings):
    """The referenced extract's current snapshot is read for the providers of the chunk only
    (`ingest.load._references`): an id another provider holds does not resolve."""
    other = "08115004"
    person = HEADER.replace("08115003", other)  # the header has no AGS; only the rows do
    # provider A holds P-1; provider B holds P-9 only
    write(settings.landing, f"personen_{PROVIDER}_2026-03-31.csv", HEADER, PERSON_1)
    write(settings.landing, f"personen_{other}_2026-03-31.csv", person,
          f"P-9;1990;m;SYR;2016-01-10;2017-03-01;;{other}")  # fmt: skip
    aufenthalt = "person_id;status_code;gueltig_ab;gueltig_bis"
    # A's rows, validated together with B's file below: line 2 names its own person (found);
    # line 3 (deliberately bad) names P-9, which only provider B holds: no such person at A
    write(settings.landing, f"aufenthalt_{PROVIDER}_2026-03-31.csv", aufenthalt,
          "P-1;AE_25_1;2017-03-01;", "P-9;AE_25_1;2017-03-01;")  # fmt: skip
    # B's one row names its own P-9 (found)
    write(settings.landing, f"aufenthalt_{other}_2026-03-31.csv", aufenthalt,
          "P-9;AE_25_1;2017-03-01;")  # fmt: skip
    result = run(settings)

    quarantined = query(
        settings,
        "SELECT provider, extract, line, column_name, rule FROM raw.quarantined_rows "
        "ORDER BY provider, line",
    )
    # exactly A's line 3, on its reference to personen (A's line 2 and B's line 2 resolve)
    assert quarantined == [
        (PROVIDER, "aufenthalt", 3, "person_id", "ref:personen.person_id"),
    ]
    verdicts = {v.file_name: v.verdict for v in result.verdicts if v.extract == "aufenthalt"}
    # A's file: 1 of its 2 rows bad, over the five-per-cent rule, so rejected whole; B's loaded
    assert verdicts == {
        f"aufenthalt_{PROVIDER}_2026-03-31.csv": REJECTED,
        f"aufenthalt_{other}_2026-03-31.csv": ACCEPTED,
    }
    loaded = query(settings, "SELECT person_id FROM raw.aufenthalt_current")
    # B's P-9, as B's own warehouse id
    assert [r[0] for r in loaded] == [warehouse_id(KEY, other, "P-9")]


def _landing_of_five_providers(landing) -> None:
    """Five person files, each of its own provider, 25 rows each; the second is rejected whole
    when read and the fourth has one bad row."""
    for n, provider in enumerate(("08115003", "08115004", "08115005", "08115006", "08115007")):
        name = f"personen_{provider}_2026-03-31.csv"
        rows = [f"P-{i};1990;m;SYR;;2017-03-01;;{provider}" for i in range(1, 26)]
        if n == 1:  # required column au_beginn missing: read, rejected whole, its 25 rows counted
            write(landing, name, HEADER.replace(";au_beginn", ""),
                  *(row.replace(";2017-03-01;", ";") for row in rows))  # fmt: skip
            continue
        if n == 3:  # line 26: sex 'q' is no code; 1 bad row of 25 = 4 %, the file is loaded
            rows[-1] = f"P-25;1990;q;SYR;;2017-03-01;;{provider}"
        write(landing, name, HEADER, *rows)


@pytest.mark.parametrize("read_bytes", [1, 2_000])
@pytest.mark.parametrize("chunk_rows", [1, 30, 60])
def test_files_validated_in_chunks_load_as_in_one_chunk(settings, tmp_path, monkeypatch,
                                                        chunk_rows, read_bytes):  # fmt: skip
    """The files of an extract are read and typed a chunk ahead on another thread
    (`ingest.load._read_chunks`, `core.read_ahead`). Cut into chunks of one file (1 row), of
    two files (30 rows: 25 + 25 ≥ 30) or of three (60 rows), every file has the verdict, rows
    and quarantined rows it has in one chunk, and the raw layer holds the same rows. The files
    are read together in groups (`READ_TOGETHER_BYTES`): of one file (1 byte), of about two
    (2,000 bytes: a file is ≈ 1,000), against all five in one group in the build it is
    compared with."""

    def load_five(s):
        _landing_of_five_providers(s.landing)
        return run(s)

    whole = load_five(settings)  # 4 files × 25 rows: one chunk
    other = Settings.from_env(home=tmp_path / "chunked", environ={})
    other.ensure_dirs()
    monkeypatch.setattr("ingest.load.GATE_CHUNK_ROWS", chunk_rows)
    monkeypatch.setattr("ingest.load.READ_TOGETHER_BYTES", read_bytes)
    chunked = load_five(other)

    def verdicts(result):
        return [(v.file_name, v.verdict, v.rows_delivered, v.rows_loaded, v.rows_quarantined)
                for v in result.verdicts]  # fmt: skip

    # a file rejected whole is recorded when read, before the files of its chunk (as it was
    # before the read-ahead), so the lists' order follows the chunks: compare by file
    assert sorted(verdicts(chunked)) == sorted(verdicts(whole))
    assert [v[1:] for v in sorted(verdicts(chunked))] == [
        (ACCEPTED, 25, 25, 0),
        (REJECTED, 25, 0, 0),  # a required column missing: rejected whole
        (ACCEPTED, 25, 25, 0),
        (ACCEPTED, 25, 24, 1),  # line 26 quarantined
        (ACCEPTED, 25, 25, 0),
    ]
    sql = ("SELECT _provider, person_id, geburtsjahr, geschlecht FROM raw.personen "
           "ORDER BY ALL")  # fmt: skip
    assert query(other, sql) == query(settings, sql)
    assert len(query(other, sql)) == 99  # 4 files × 25 rows − 1 quarantined
    quarantined = "SELECT line, column_name, rule FROM raw.quarantined_rows ORDER BY ALL"
    assert query(other, quarantined) == query(settings, quarantined) == [(26, "geschlecht", "code")]


def test_a_file_gone_before_it_is_read_gets_its_rejection_in_its_place(settings, tmp_path):
    """The loader groups files by their size before reading them (`_read_groups`): a file that
    can no longer be looked at is grouped all the same, and reading it rejects it, in its
    place among the others (as when each file was read alone)."""
    from contract.spec import EXTRACTS
    from ingest.load import Delivery, _read, _read_groups
    from ingest.readers import parse_file_name
    from ingest.rejections import Problem, RejectReason

    names = [f"personen_0811500{n}_2026-03-31.csv" for n in (3, 4, 5)]
    for name in names:
        write(tmp_path, name, HEADER, PERSON_1)
    (tmp_path / names[1]).unlink()  # gone between the screening and the reading
    deliveries = [
        Delivery(tmp_path / name, parse_file_name(name), "0" * 64, n)
        for n, name in enumerate(names)
    ]
    groups = list(_read_groups(deliveries))
    assert groups == [deliveries]  # 3 small files, far below 8 MB: one group
    first, gone, third = _read(groups[0], EXTRACTS["personen"])
    assert first.table.rows_delivered == third.table.rows_delivered == 1
    assert gone.delivery is deliveries[1]
    assert gone.rejection.reason is RejectReason.UNREADABLE
    assert gone.rejection.detail["problem"] == Problem.READ_FAILED
    assert gone.rows is None  # no rows can be counted of a file that is not there


def test_a_key_that_is_no_text_fails_before_anything_is_touched(settings):
    # a good file waits in the landing folder; the key's bytes are no UTF-8, which the hashing
    # cannot take: the ingest must refuse at once, not after some files are recorded or moved
    write(settings.landing, f"personen_{PROVIDER}_2026-03-31.csv", HEADER, PERSON_1)
    with pytest.raises(ValueError, match="UTF-8"):
        ingest_landing(settings.build_db, Folders.of(settings), b"\xff\xfe-not-text-key")
    assert not settings.build_db.exists()  # no database made
    # the file is still in the landing folder, nowhere else
    assert [p.name for p in settings.landing.iterdir()] == [f"personen_{PROVIDER}_2026-03-31.csv"]
    assert not any(settings.archive_dir.rglob("*.csv"))
