"""Extract gate: suites generated from the contract, one defect fixture per rule kind, broken
gates, and Data Docs free of clear ids.

Fixtures are tiny frames written here as the cells of a delivered file and typed by
`ingest.readers.parse_columns`, exactly as the loader does. Lines start at 2 (line 1 is the
header); every deliberately bad row carries a comment saying why it is bad.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import socket
import weakref

import polars as pl
import pytest

from contract import spec as contract
from contract.spec import EXTRACTS, ColumnType, RuleKind
from expectations import extract_gate, extract_suites, gx_runtime
from expectations.extract_gate import GateResult, validate_extract
from expectations.extract_suites import FILE, LINE, STAND, STAND_YEAR, build_suite
from expectations.gx_runtime import BrokenGateError
from ingest.readers import RawTable, parse_columns

STAND_DATE = dt.date(2026, 3, 31)
SECRET_ID = "GEHEIM-4711"
"""A clear id that must never reach an error value, a GX result or the Data Docs."""
FREE_TEXT = "Frau Mustermann will bis Juni B1 schaffen"
"""Free text that must never be stored anywhere."""


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def parsed(extract: str, rows: list[dict[str, str]], *, file: int = 0) -> pl.DataFrame:
    """Typed frame of a delivered file whose data rows are `rows` (cells as delivered)."""
    ex = EXTRACTS[extract]
    cells = pl.DataFrame(
        {
            LINE: list(range(2, len(rows) + 2)),
            **{c.name: [row.get(c.name) or None for row in rows] for c in ex.columns},
        },
        schema={LINE: pl.Int64, **{c.name: pl.String for c in ex.columns}},
    )
    table = parse_columns(RawTable(cells, "utf-8", ";", [], cells.height), ex, STAND_DATE)
    assert table.errors.is_empty(), table.errors
    return table.frame.with_columns(pl.lit(file, pl.Int32).alias(FILE))


def files(*frames: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(frames, how="vertical")


def all_found(frame: pl.DataFrame, extract: str) -> dict[str, pl.Series]:
    """Reference results saying every referenced row exists."""
    return {
        c.name: pl.Series(c.name, [True] * frame.height)
        for c in extract_suites.reference_columns(extract)
    }


def run(
    frame: pl.DataFrame,
    extract: str,
    *,
    stands: dict[int, dt.date] | None = None,
    references: dict[str, pl.Series] | None = None,
) -> GateResult:
    stands = stands or {f: STAND_DATE for f in frame.get_column(FILE).unique()}
    return validate_extract(
        frame,
        extract,
        stand_by_file=stands,
        references=all_found(frame, extract) if references is None else references,
    )


def reported(result: GateResult) -> set[tuple[int, int, str, str]]:
    """(file, line, column, rule) of every error; asserts there are no duplicate rows."""
    rows = result.errors.select(FILE, LINE, "column", "rule").rows()
    assert len(rows) == len(set(rows))
    return set(rows)


def value_of(result: GateResult, line: int, rule: str, file: int = 0) -> str | None:
    hit = result.errors.filter(
        (pl.col(FILE) == file) & (pl.col(LINE) == line) & (pl.col("rule") == rule)
    )
    assert hit.height == 1, hit
    return hit.item(0, "value")


def stelle(**cells: str) -> dict[str, str]:
    return {
        "stellen_id": "S1",
        "vzae": "0,5",
        "qualifikation": "BACHELOR",
        "beginn": "2025-01-01",
        **cells,
    }


def person(**cells: str) -> dict[str, str]:
    return {
        "person_id": "P1",
        "geburtsjahr": "1990",
        "geschlecht": "w",
        "staatsangehoerigkeit": "SYR",
        "einreisedatum": "2016-05-01",
        "au_beginn": "2017-01-01",
        "wohngemeinde_ags": "08115003",
        **cells,
    }


def fall(**cells: str) -> dict[str, str]:
    return {
        "fall_id": "F1",
        "person_id": "P1",
        "stellen_id": "S1",
        "fallart": "CM",
        "erstkontakt_datum": "2024-02-01",
        **cells,
    }


def ziel(**cells: str) -> dict[str, str]:
    return {
        "ziel_id": "Z1",
        "plan_id": "PL1",
        "handlungsfeld": "SPRACHE",
        "vereinbart_am": "2025-01-10",
        "status": "OFFEN",
        **cells,
    }


def plan(plan_id: str, version: str, fall_id: str, **cells: str) -> dict[str, str]:
    return {
        "plan_id": plan_id,
        "version": version,
        "fall_id": fall_id,
        "erstellt_am": "2025-01-10",
        **cells,
    }


def periode(person_id: str, ab: str, bis: str = "", status: str = "NE") -> dict[str, str]:
    return {"person_id": person_id, "status_code": status, "gueltig_ab": ab, "gueltig_bis": bis}


def ergebnis(fall_id: str, am: str, bereich: str, wert: str) -> dict[str, str]:
    return {"fall_id": fall_id, "erhoben_am": am, "bereich": bereich, "wert": wert}


def kontakt(**cells: str) -> dict[str, str]:
    return {
        "kontakt_id": "K1",
        "fall_id": "F1",
        "datum": "2025-03-03",
        "dauer_min": "45",
        "kontaktart": "PERSOENLICH",
        "thema": "SPRACHE",
        **cells,
    }


# --------------------------------------------------------------------------------------------
# Suite generation: derived from the contract, nothing else
# --------------------------------------------------------------------------------------------
DEFAULTS = {"strict_min": False, "or_equal": False}
"""GX leaves keyword arguments at their default out of an expectation's configuration."""


def _domain(kwargs: dict) -> list[str]:
    if "column_list" in kwargs:
        return list(kwargs["column_list"])
    return [kwargs[k] for k in ("column_A", "column_B", "column") if k in kwargs]


@pytest.mark.parametrize("name", sorted(EXTRACTS))
def test_suite_covers_every_contract_rule_and_nothing_else(name):
    ex = EXTRACTS[name]
    configs = [e.configuration for e in build_suite(ex).expectations]
    found = [(c.type, _domain(c.kwargs), c.kwargs, c.meta) for c in configs]

    def has(kind: str, domain: list[str], rule: str, **kwargs: object) -> int:
        hits = [
            f
            for f in found
            if f[0] == kind
            and f[1] == domain
            and f[3]["rule"] == rule
            and all(f[2].get(k, DEFAULTS.get(k)) == v for k, v in kwargs.items())
        ]
        assert hits, (name, kind, domain, rule, kwargs)
        return len(hits)

    explained = 0
    for c in ex.columns:
        if c.required and c.type is ColumnType.TEXT:
            explained += has("expect_column_values_to_be_in_set", [c.raw_name], "required")
        elif c.required:
            explained += has("expect_column_values_to_not_be_null", [c.raw_name], "required")
        if c.codes:
            codes = list(contract.code_values(c.codes))
            explained += has(
                "expect_column_values_to_be_in_set", [c.raw_name], "code", value_set=codes
            )
        if c.min_value is not None or c.max_value is not None:
            explained += has(
                "expect_column_values_to_be_between",
                [c.raw_name],
                "range",
                min_value=c.min_value,
                max_value=c.max_value,
                strict_min=c.min_exclusive,
            )
        if c.max_is_stand_year:
            pair = "expect_column_pair_values_a_to_be_greater_than_b"
            explained += has(pair, [STAND_YEAR, c.raw_name], "max_stand_year", or_equal=True)
        if c.not_after_stand:
            pair = "expect_column_pair_values_a_to_be_greater_than_b"
            explained += has(pair, [STAND, c.raw_name], "not_after_stand", or_equal=True)
        if c.unique:
            explained += has("expect_compound_columns_to_be_unique", [FILE, c.raw_name], "unique")
        if c.ref:
            rule = f"ref:{c.ref.extract}.{c.ref.column}"
            explained += has(
                "expect_column_values_to_be_in_set",
                [extract_suites.ref_column(c.name)],
                rule,
                value_set=[True],
            )
    for rule in ex.rules:
        hits = [f for f in found if f[3]["rule"].startswith(f"{rule.kind.value}:")]
        assert hits, (name, rule)
        if rule.kind is RuleKind.CODE_BY:
            assert len(hits) == len(extract_suites.conditional_code_values(ex, rule))
        elif rule.kind is RuleKind.REQUIRED_IFF:
            assert len(hits) == 2
        else:
            assert len(hits) == 1
        explained += len(hits)
    assert explained == len(found), "the suite holds expectations the contract does not explain"

    names = {c.name for c in ex.columns}
    for _, _, _, meta in found:
        assert meta["column"] in names
        assert meta["rule"] and meta["text_de"] and meta["text_en"]


def test_every_rule_kind_of_the_contract_is_exercised_by_some_extract():
    kinds = {rule.kind for ex in EXTRACTS.values() for rule in ex.rules}
    assert kinds == set(RuleKind)


# --------------------------------------------------------------------------------------------
# Column rules: required, code, range, date order
# --------------------------------------------------------------------------------------------
def test_required_code_range_and_date_order():
    frame = parsed(
        "stellen",
        [
            stelle(),  # 2: clean
            stelle(stellen_id="S2", vzae="0,2"),  # 3: below 0,25
            stelle(stellen_id="S3", vzae="1,5"),  # 4: above 1,0
            stelle(stellen_id="S4", qualifikation="MASTER"),  # 5: not a code
            stelle(stellen_id="S5", beginn=""),  # 6: required beginn missing
            stelle(stellen_id="S6", ende="2024-12-31"),  # 7: ende before beginn
            stelle(stellen_id="", vzae="1,0"),  # 8: required id missing (vzae at the edge)
            stelle(stellen_id="S7", vzae="0,25", ende="2025-01-01"),  # 9: clean, both edges
        ],
    )
    result = run(frame, "stellen")
    assert reported(result) == {
        (0, 3, "vzae", "range"),
        (0, 4, "vzae", "range"),
        (0, 5, "qualifikation", "code"),
        (0, 6, "beginn", "required"),
        (0, 7, "ende", "date_order:ende>=beginn"),
        (0, 8, "stellen_id", "required"),
    }
    assert value_of(result, 3, "range") == "0.20"
    assert value_of(result, 5, "code") == "MASTER"
    assert value_of(result, 6, "required") is None
    assert value_of(result, 7, "date_order:ende>=beginn") == "2024-12-31"
    assert not result.passed
    assert result.failed_rows().height == 6


def test_an_expectations_configuration_is_built_once_inside_a_validation_only():
    import threading

    gx_runtime.context()
    expectation = build_suite(EXTRACTS["stellen"]).expectations[0]
    # GX's own property: a new configuration at every look-up, equal each time
    assert expectation.configuration is not expectation.configuration
    assert expectation.configuration == expectation.configuration
    elsewhere = []
    with gx_runtime.kept_within_validation():
        kept = expectation.configuration
        assert expectation.configuration is kept
        assert kept == build_suite(EXTRACTS["stellen"]).expectations[0].configuration
        # another thread meanwhile gets GX's own: the kept ones belong to this thread
        thread = threading.Thread(target=lambda: elsewhere.append(expectation.configuration))
        thread.start()
        thread.join()
        with gx_runtime.kept_within_validation():  # nested: the same ones
            assert expectation.configuration is kept
        assert expectation.configuration is kept
    assert elsewhere[0] is not kept and elsewhere[0] == kept
    assert expectation.configuration is not kept  # GX's own again


def test_a_row_condition_filters_a_frame_once_inside_a_validation_only():
    import threading

    import pandas as pd
    from great_expectations.execution_engine.pandas_execution_engine import (
        PandasExecutionEngine,
    )
    from great_expectations.expectations.row_conditions import Column as Where

    gx_runtime.context()
    engine = PandasExecutionEngine()
    # "a" holds the number 1 in row 0 and the text "1" in row 1: conditions whose `repr` is the
    # same (`a == 1`) but whose rows differ
    data = pd.DataFrame({"a": [1, "1", 2], "b": [None, 5, 6]})
    number, text = Where("a") == 1, Where("a") == "1"
    assert repr(number) == repr(text)

    def rows(frame: pd.DataFrame) -> list[int]:
        return frame.index.to_list()

    def apply(condition, frame=data):
        # as GX's pandas engine calls it, once for every metric of an expectation
        return engine._apply_row_condition_filter(frame, condition, {})

    assert apply(number) is not apply(number)  # GX's own: filtered anew each time
    elsewhere = []
    with gx_runtime.kept_within_validation():
        kept = apply(number)
        assert rows(kept) == [0]
        assert apply(Where("a") == 1) is kept  # an equal condition: the same filtered frame
        assert apply(number.dict()) is kept  # the serialised form GX also passes
        assert rows(apply(text)) == [1]  # not the number's rows
        assert rows(apply(Where("b").is_null())) == [0]
        # another frame with the same condition is filtered on its own
        assert rows(apply(number, data.iloc[1:])) == []
        # another thread meanwhile gets GX's own
        thread = threading.Thread(target=lambda: elsewhere.append(apply(number)))
        thread.start()
        thread.join()
        with gx_runtime.kept_within_validation():  # nested: the same ones
            assert apply(number) is kept
    assert elsewhere[0] is not kept and rows(elsewhere[0]) == [0]
    assert apply(number) is not kept  # GX's own again


@pytest.mark.parametrize(
    ("extract", "rows", "found"),
    [
        (
            "stellen",
            [
                stelle(),  # 2: clean
                stelle(stellen_id="S2", vzae="0,2"),  # 3: deliberately bad: below 0,25
                stelle(stellen_id="S4", qualifikation="MASTER"),  # 4: deliberately bad: no code
                stelle(stellen_id="S6", ende="2024-12-31"),  # 5: deliberately bad: ende < beginn
                stelle(stellen_id="S6"),  # 6: deliberately bad: S6 twice
            ],
            5,  # lines 3, 4, 5 and both S6 lines
        ),
        (
            # two expectations with row conditions: abschluss_grund given exactly when
            # abschluss_datum is (is_not_null / is_null)
            "faelle",
            [
                fall(),  # 2: clean, open case
                fall(fall_id="F2", abschluss_datum="2025-06-01", abschluss_grund="WEGZUG"),  # 3
                fall(fall_id="F3", abschluss_datum="2025-06-01"),  # 4: bad: closed, no reason
                fall(fall_id="F4", abschluss_grund="WEGZUG"),  # 5: bad: a reason, not closed
            ],
            2,  # lines 4 and 5
        ),
        (
            # one expectation per bereich, each with the row condition bereich == key
            "ergebnisse",
            [
                ergebnis("F1", "2025-01-01", "WOHNEN", "A1"),  # 2: bad: A1 is a language level
                ergebnis("F1", "2025-01-01", "SPRACHE", "B1"),  # 3: clean
                ergebnis("F2", "2025-02-01", "BILDUNG", "SCHULE"),  # 4: clean
                ergebnis("F3", "2025-02-01", "SPRACHE", "SCHULE"),  # 5: bad: not a level
            ],
            2,  # lines 2 and 5
        ),
    ],
)
def test_keeping_configurations_and_filters_changes_no_verdict(monkeypatch, extract, rows, found):
    import contextlib

    frame = parsed(extract, rows)
    kept = run(frame, extract)
    monkeypatch.setattr(gx_runtime, "kept_within_validation", contextlib.nullcontext)
    built = run(frame, extract)
    assert kept.errors.equals(built.errors) and kept.summary.equals(built.summary)
    assert len(reported(kept)) == found  # the run found them

    def results(r: GateResult) -> list[dict]:
        return [x.to_json_dict() for x in r.validation.results]

    assert results(kept) == results(built)


def test_strict_minimum():
    frame = parsed(
        "bewilligungen",
        [
            {
                "bescheid_nr": "B1",
                "antragsteller_ags": "08115",
                "bewilligt_am": "2024-12-01",
                "zeitraum_von": "2025-01-01",
                "zeitraum_bis": "2025-12-31",
                "foerdersumme_eur": "0",  # 2: clean, >= 0 includes 0
                "vzae_bewilligt": "0,01",
            },
            {
                "bescheid_nr": "B2",
                "antragsteller_ags": "08115",
                "bewilligt_am": "2024-12-01",
                "zeitraum_von": "2025-01-01",
                "zeitraum_bis": "2024-12-31",  # 3: period ends before it starts
                "foerdersumme_eur": "-1",  # 3: negative amount
                "vzae_bewilligt": "0",  # 3: must be > 0
            },
        ],
    )
    assert reported(run(frame, "bewilligungen")) == {
        (0, 3, "zeitraum_bis", "date_order:zeitraum_bis>=zeitraum_von"),
        (0, 3, "foerdersumme_eur", "range"),
        (0, 3, "vzae_bewilligt", "range"),
    }


# --------------------------------------------------------------------------------------------
# Stand per file, uniqueness per file
# --------------------------------------------------------------------------------------------
def test_stand_rules_use_each_files_own_stand_and_uniqueness_is_per_file():
    early = parsed(
        "personen",
        [
            person(),  # 2: clean
            person(person_id="P2", geburtsjahr="2026"),  # 3: born after the stand year 2025
            person(person_id="P3", einreisedatum="2026-01-15"),  # 4: arrived after the stand
            person(person_id="P4", geburtsjahr="1899"),  # 5: before 1900
            person(),  # 6: P1 again in the same file
            person(person_id="P5", au_ende="2016-12-31"),  # 7: AU ends before it begins
            person(person_id="P6", geschlecht="x"),  # 8: not a code
        ],
        file=0,
    )
    later = parsed(
        "personen",
        [
            person(),  # 2: P1 again, but in another file: fine
            person(person_id="P2", geburtsjahr="2026"),  # 3: fine, stand year is 2026
            person(person_id="P3", einreisedatum="2026-01-15"),  # 4: fine, before this stand
            person(person_id="P4", einreisedatum="2026-06-30"),  # 5: fine, on the stand itself
            person(person_id="P5", einreisedatum="2026-07-01"),  # 6: after this stand
        ],
        file=1,
    )
    stands = {0: dt.date(2025, 12, 31), 1: dt.date(2026, 6, 30)}
    result = run(files(early, later), "personen", stands=stands)
    assert reported(result) == {
        (0, 2, "person_id", "unique"),
        (0, 3, "geburtsjahr", "max_stand_year"),
        (0, 4, "einreisedatum", "not_after_stand"),
        (0, 5, "geburtsjahr", "range"),
        (0, 6, "person_id", "unique"),
        (0, 7, "au_ende", "date_order:au_ende>=au_beginn"),
        (0, 8, "geschlecht", "code"),
        (1, 6, "einreisedatum", "not_after_stand"),
    }
    assert value_of(result, 3, "max_stand_year") == "2026"
    assert value_of(result, 2, "unique") is None  # an id is never echoed


def test_stand_from_a_column_of_the_frame():
    frame = parsed("personen", [person(einreisedatum="2026-04-01")])  # 2: after the stand
    frame = frame.with_columns(pl.lit(STAND_DATE).alias("stand"))
    result = validate_extract(frame, "personen", stand_by_file="stand")
    assert reported(result) == {(0, 2, "einreisedatum", "not_after_stand")}


# --------------------------------------------------------------------------------------------
# Row rules
# --------------------------------------------------------------------------------------------
def test_required_iff():
    frame = parsed(
        "faelle",
        [
            fall(),  # 2: clean, open case
            fall(fall_id="F2", abschluss_datum="2025-06-01", abschluss_grund="WEGZUG"),  # 3: clean
            fall(fall_id="F3", abschluss_datum="2025-06-01"),  # 4: closed without a reason
            fall(fall_id="F4", abschluss_grund="WEGZUG"),  # 5: a reason but not closed
            # 6: closed before the first contact
            fall(fall_id="F5", abschluss_datum="2024-01-01", abschluss_grund="SONSTIGES"),
            fall(fall_id="F6", erstkontakt_datum="2026-04-01"),  # 7: first contact after stand
            fall(fall_id="F7", fallart="XY"),  # 8: not a code
        ],
    )
    result = run(frame, "faelle")
    iff = "required_iff:abschluss_grund<=>abschluss_datum"
    assert reported(result) == {
        (0, 4, "abschluss_grund", iff),
        (0, 5, "abschluss_grund", iff),
        (0, 6, "abschluss_datum", "date_order:abschluss_datum>=erstkontakt_datum"),
        (0, 7, "erstkontakt_datum", "not_after_stand"),
        (0, 8, "fallart", "code"),
    }
    assert value_of(result, 4, iff) is None
    assert value_of(result, 5, iff) == "WEGZUG"


def test_required_unless():
    frame = parsed(
        "ziele",
        [
            ziel(),  # 2: clean, open goal without assessment
            ziel(ziel_id="Z2", status="ERREICHT", bewertet_am="2025-06-01"),  # 3: clean
            ziel(ziel_id="Z3", status="ERREICHT"),  # 4: assessed status without a date
            ziel(ziel_id="Z4", bewertet_am="2025-06-01"),  # 5: clean, open may carry a date
            ziel(ziel_id="Z5", status=""),  # 6: status missing: only the status is reported
            ziel(ziel_id="Z6", messkriterium=FREE_TEXT),  # 7: clean; the text is not kept
            ziel(ziel_id="Z7", handlungsfeld="SPORT"),  # 8: not a code
        ],
    )
    result = run(frame, "ziele")
    assert reported(result) == {
        (0, 4, "bewertet_am", "required_unless:bewertet_am|status=OFFEN"),
        (0, 6, "status", "required"),
        (0, 8, "handlungsfeld", "code"),
    }


def test_unique_key_and_same_within():
    first = parsed(
        "plaene",
        [
            plan("PL1", "1", "F1"),  # 2: clean
            plan("PL1", "2", "F1"),  # 3: (PL1, 2) twice in this file
            plan("PL1", "2", "F1"),  # 4: (PL1, 2) twice in this file
            plan("PL2", "1", "F2"),  # 5: PL2 belongs to two cases in this file
            plan("PL2", "2", "F3"),  # 6: PL2 belongs to two cases in this file
            plan("PL3", "0", "F4"),  # 7: version must be >= 1
            plan("PL3", "1", "F4", unterzeichnet_am="2025-01-09"),  # 8: signed before drawn up
        ],
        file=0,
    )
    second = parsed(
        "plaene",
        [
            plan("PL1", "1", "F1"),  # 2: same key as in file 0: fine
            plan("PL2", "1", "F9"),  # 3: PL2 with another case, but in another file: fine
        ],
        file=1,
    )
    result = run(files(first, second), "plaene")
    key, same = "unique_key:plan_id+version", "same_within:fall_id/plan_id"
    assert reported(result) == {
        (0, 3, "plan_id", key),
        (0, 4, "plan_id", key),
        (0, 5, "fall_id", same),
        (0, 6, "fall_id", same),
        (0, 7, "version", "range"),
        (0, 8, "unterzeichnet_am", "date_order:unterzeichnet_am>=erstellt_am"),
    }


def test_no_overlap():
    first = parsed(
        "aufenthalt",
        [
            periode("A", "2020-01-01", "2020-12-31"),  # 2: clean
            periode("A", "2021-01-01", "2021-06-30"),  # 3: clean, starts the day after
            periode("A", "2021-07-01"),  # 4: clean, open end
            periode("B", "2020-01-01", "2020-12-31"),  # 5: shares 2020-12-31 with line 6
            periode("B", "2020-12-31", "2021-03-01"),  # 6: shares 2020-12-31 with line 5
            periode("C", "2020-01-01"),  # 7: open, so it overlaps line 8
            periode("C", "2022-01-01", "2022-02-01"),  # 8: inside the open line 7
            periode("D", "2020-01-01", "2025-01-01"),  # 9: contains lines 10 and 11
            periode("D", "2021-01-01", "2021-02-01"),  # 10: inside line 9
            periode("D", "2023-01-01", "2023-02-01"),  # 11: inside line 9, not next to it
            periode("E", "2020-05-01", "2020-04-01"),  # 12: reversed: a date-order error only
            periode("E", "2020-01-01", "2020-12-31"),  # 13: clean (line 12 is no period)
            periode("F", "2020-01-01", status="AE_99"),  # 14: not a status code
        ],
        file=0,
    )
    second = parsed(
        "aufenthalt",
        [periode("A", "2020-06-01", "2020-07-01")],  # 2: overlaps A only in another file: fine
        file=1,
    )
    result = run(files(first, second), "aufenthalt")
    overlap = "no_overlap:person_id"
    assert reported(result) == {
        (0, 5, "gueltig_ab", overlap),
        (0, 6, "gueltig_ab", overlap),
        (0, 7, "gueltig_ab", overlap),
        (0, 8, "gueltig_ab", overlap),
        (0, 9, "gueltig_ab", overlap),
        (0, 10, "gueltig_ab", overlap),
        (0, 11, "gueltig_ab", overlap),
        (0, 12, "gueltig_bis", "date_order:gueltig_bis>=gueltig_ab"),
        (0, 14, "status_code", "code"),
    }
    assert value_of(result, 5, overlap) == "2020-01-01"


def test_no_overlap_matches_pairwise_comparison_on_random_periods():
    rng = random.Random(7)
    day = dt.date(2020, 1, 1)
    rows = []
    for _ in range(400):
        start = day + dt.timedelta(days=rng.randrange(200))
        end = start + dt.timedelta(days=rng.randrange(-5, 40))
        rows.append(
            {
                FILE: rng.randrange(2),
                "person_id": rng.choice(["a", "b", "c", "d", "e", None]),
                "gueltig_ab": None if rng.random() < 0.05 else start,
                "gueltig_bis": None if rng.random() < 0.1 else end,
            }
        )
    frame = pl.DataFrame(rows, schema_overrides={"gueltig_ab": pl.Date, "gueltig_bis": pl.Date})

    def usable(r: dict) -> bool:
        return (
            r["person_id"] is not None
            and r["gueltig_ab"] is not None
            and (r["gueltig_bis"] is None or r["gueltig_bis"] >= r["gueltig_ab"])
        )

    def overlap(r: dict, s: dict) -> bool:
        far = dt.date.max
        return r["gueltig_ab"] <= (s["gueltig_bis"] or far) and s["gueltig_ab"] <= (
            r["gueltig_bis"] or far
        )

    expected = [
        None
        if not usable(r)
        else not any(
            j != i
            and usable(s)
            and s[FILE] == r[FILE]
            and s["person_id"] == r["person_id"]
            and overlap(r, s)
            for j, s in enumerate(rows)
        )
        for i, r in enumerate(rows)
    ]
    got = extract_gate._no_overlap(frame, "person_id", "gueltig_ab", "gueltig_bis")
    assert got.to_list() == expected
    assert expected.count(False) > 20  # the sample does contain overlaps


def test_code_by():
    frame = parsed(
        "ergebnisse",
        [
            ergebnis("F1", "2025-01-01", "SPRACHE", "B1"),  # 2: duplicate key with line 5
            ergebnis("F1", "2025-01-01", "WOHNEN", "A1"),  # 3: A1 is a language level
            ergebnis("F1", "2025-01-01", "ARBEIT", "XX"),  # 4: no code at all
            ergebnis("F1", "2025-01-01", "SPRACHE", "B2"),  # 5: duplicate key with line 2
            ergebnis("F2", "2025-01-01", "GARTEN", "KEINE"),  # 6: not a domain
            ergebnis("F2", "2025-02-01", "BILDUNG", "SCHULE"),  # 7: clean
        ],
    )
    result = run(frame, "ergebnisse")
    key, by = "unique_key:fall_id+erhoben_am+bereich", "code_by:wert/bereich"
    assert reported(result) == {
        (0, 2, "fall_id", key),
        (0, 3, "wert", by),
        (0, 4, "wert", "code"),
        (0, 4, "wert", by),
        (0, 5, "fall_id", key),
        (0, 6, "bereich", "code"),
    }
    assert value_of(result, 3, by) == "A1"


# --------------------------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------------------------
KONTAKTE = [
    kontakt(ziel_id="Z1"),  # 2: clean
    kontakt(kontakt_id="K2", fall_id=SECRET_ID),  # 3: no such case
    kontakt(kontakt_id="K3", ziel_id="Z9"),  # 4: no such goal
    kontakt(kontakt_id="K4", fall_id="F2"),  # 5: clean, no goal (optional)
    kontakt(kontakt_id="K5", dauer_min="0", kontaktart="BRIEF"),  # 6: too short, not a code
    kontakt(kontakt_id="K6", fall_id=""),  # 7: case missing (only `required`)
]


def kontakte_references(frame: pl.DataFrame) -> dict[str, pl.Series]:
    return {
        "fall_id": frame.get_column("fall_id").is_in(["F1", "F2"]),
        "ziel_id": frame.get_column("ziel_id").is_in(["Z1"]),
    }


KONTAKTE_EXPECTED = {
    (0, 3, "fall_id", "ref:faelle.fall_id"),
    (0, 4, "ziel_id", "ref:ziele.ziel_id"),
    (0, 6, "dauer_min", "range"),
    (0, 6, "kontaktart", "code"),
    (0, 7, "fall_id", "required"),
}


def test_references_passed_as_series():
    frame = parsed("kontakte", KONTAKTE)
    result = run(frame, "kontakte", references=kontakte_references(frame))
    assert reported(result) == KONTAKTE_EXPECTED
    assert value_of(result, 3, "ref:faelle.fall_id") is None
    assert value_of(result, 6, "range") == "0"
    assert SECRET_ID not in str(result.errors.rows())


def test_references_as_columns_of_the_frame_and_false_for_empty_cells_is_ignored():
    frame = parsed("kontakte", KONTAKTE)
    refs = kontakte_references(frame)
    frame = frame.with_columns(
        refs["fall_id"].fill_null(False).alias("_ref_fall_id"),
        refs["ziel_id"].fill_null(False).alias("_ref_ziel_id"),
    )
    assert reported(run(frame, "kontakte", references={})) == KONTAKTE_EXPECTED


def test_summary_counts_per_expectation():
    frame = parsed("kontakte", KONTAKTE)
    summary = run(frame, "kontakte", references=kontakte_references(frame)).summary
    assert summary.columns == list(extract_gate.SUMMARY_SCHEMA)
    assert summary.height == len(build_suite("kontakte").expectations)
    counts = {
        (r["rule"], r["column"]): r["unexpected_count"] for r in summary.iter_rows(named=True)
    }
    assert counts[("ref:faelle.fall_id", "fall_id")] == 1
    assert counts[("code", "kontaktart")] == 1
    assert counts[("unique", "kontakt_id")] == 0
    assert set(summary.get_column("element_count")) == {frame.height}


# --------------------------------------------------------------------------------------------
# A gate that cannot check fails loudly
# --------------------------------------------------------------------------------------------
def test_reference_check_without_input_is_a_broken_gate():
    frame = parsed("kontakte", KONTAKTE)
    with pytest.raises(BrokenGateError, match="fall_id: no reference result"):
        run(frame, "kontakte", references={})


def test_reference_result_with_gaps_is_a_broken_gate():
    frame = parsed("kontakte", KONTAKTE)
    refs = kontakte_references(frame)
    refs["fall_id"] = refs["fall_id"].scatter(0, None)  # line 2 has a case but no answer
    with pytest.raises(BrokenGateError, match="gaps"):
        run(frame, "kontakte", references=refs)


def test_file_without_stand_is_a_broken_gate():
    frame = files(parsed("personen", [person()]), parsed("personen", [person()], file=3))
    with pytest.raises(BrokenGateError, match=r"no stand for file\(s\) \[3\]"):
        run(frame, "personen", stands={0: STAND_DATE})


def test_missing_contract_column_is_a_broken_gate():
    frame = parsed("stellen", [stelle()]).drop("ende")
    with pytest.raises(BrokenGateError, match="lacks column"):
        run(frame, "stellen")


@pytest.fixture
def fresh_gates():
    extract_gate._gate.cache_clear()
    yield
    extract_gate._gate.cache_clear()


@pytest.fixture
def fresh_context(fresh_gates):
    gx_runtime.context.cache_clear()
    yield
    gx_runtime.context.cache_clear()


def test_expectation_that_raises_is_a_broken_gate(monkeypatch, fresh_gates):
    import great_expectations.expectations as gxe

    def suite_with_a_broken_expectation(extract):
        suite = build_suite(extract)
        meta = {"rule": "required", "column": "ende", "text_de": "-", "text_en": "-"}
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column="gibt_es_nicht", meta=meta))
        return suite

    monkeypatch.setattr(extract_suites, "build_suite", suite_with_a_broken_expectation)
    frame = parsed("stellen", [stelle(vzae="7")])  # 2: out of range, must not be reported
    with pytest.raises(BrokenGateError, match=r'gibt_es_nicht.*"gibt_es_nicht".*does not exist'):
        run(frame, "stellen")


def test_hash_collision_is_a_broken_gate(monkeypatch):
    original = extract_gate._for_gx

    def colliding(frame, column):  # every id gets the same hash
        if column.type is ColumnType.ID:
            same = pl.when(pl.col(column.raw_name).is_not_null()).then(pl.lit(1, pl.UInt64))
            return same.alias(column.raw_name)
        return original(frame, column)

    monkeypatch.setattr(extract_gate, "_for_gx", colliding)
    frame = parsed("stellen", [stelle(), stelle(stellen_id="S2")])
    with pytest.raises(BrokenGateError, match="collision"):
        run(frame, "stellen")


@pytest.mark.parametrize(
    ("info", "raised"),
    [
        (None, None),
        ({"raised_exception": False, "exception_message": None}, None),
        ({"raised_exception": True, "exception_message": "boom"}, "boom"),
        ({"metric-1": {"raised_exception": False}}, None),
        ({"metric-1": {"raised_exception": True, "exception_message": "gone"}}, "gone"),
        ({"metric-1": "garbled"}, "unreadable exception_info for metric-1"),
    ],
)
def test_both_shapes_of_gx_exception_info(info, raised):
    assert gx_runtime.raised_message(info) == raised


# --------------------------------------------------------------------------------------------
# Data Docs
# --------------------------------------------------------------------------------------------
def test_data_docs_are_written_and_hold_no_clear_ids_or_free_text(tmp_path):
    kontakte = parsed("kontakte", KONTAKTE)
    ziele = parsed(
        "ziele",
        [
            ziel(ziel_id=SECRET_ID, messkriterium=FREE_TEXT),  # 2: duplicate of line 3
            ziel(ziel_id=SECRET_ID, status="ERREICHT"),  # 3: duplicate id, no assessment date
        ],
    )
    stellen = parsed("stellen", [stelle(qualifikation="MASTER")])  # 2: not a code
    results = [
        run(kontakte, "kontakte", references=kontakte_references(kontakte)),
        run(ziele, "ziele"),
        run(stellen, "stellen"),
    ]
    folder = tmp_path / "reports" / "data_docs"
    index = extract_gate.write_data_docs(results, folder)
    assert index == folder / "index.html" and index.is_file()

    pages = [p for p in folder.rglob("*") if p.suffix in {".html", ".json"}]
    validations = [p for p in pages if "validations" in p.parts]
    assert len(validations) == 3
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    assert SECRET_ID not in text
    assert "Mustermann" not in text
    assert "darf in einer Datei nur einmal vorkommen" in text  # the rule texts are shown
    assert "MASTER" in text  # offending codes may be shown, they are no ids
    assert "(Vertrag: Pflicht, &lt;= Stand) — datum must not be after" in text  # escaped

    # A second build replaces the site: only its own run is left.
    extract_gate.write_data_docs(results[2:], folder)
    assert len([p for p in folder.rglob("*.html") if "validations" in p.parts]) == 1


def test_gate_and_data_docs_never_touch_the_network(monkeypatch, tmp_path, fresh_context):
    def refuse(*args, **kwargs):
        raise AssertionError("the extract gate opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    result = run(parsed("stellen", [stelle(qualifikation="MASTER")]), "stellen")  # 2: bad code
    assert reported(result) == {(0, 2, "qualifikation", "code")}
    assert extract_gate.write_data_docs([result], tmp_path / "docs").is_file()


def test_data_docs_refuse_to_replace_a_foreign_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="refusing"):
        extract_gate.write_data_docs([], tmp_path)
    assert (tmp_path / "notes.txt").exists()


def test_gx_never_sees_a_clear_id():
    frame = parsed("kontakte", KONTAKTE)
    result = run(frame, "kontakte", references=kontakte_references(frame))
    assert SECRET_ID not in str(result.validation.to_json_dict())


def test_empty_frame_passes():
    frame = parsed("stellen", [stelle()]).clear()
    result = run(frame, "stellen", stands={})
    assert result.passed and result.rows == 0


def test_runs_are_independent_and_release_the_pandas_frame(monkeypatch):
    frames = []

    def keep_a_weak_reference(checked, extract):
        dataframe = to_pandas(checked, extract)
        frames.append(weakref.ref(dataframe))
        return dataframe

    to_pandas = extract_gate._to_pandas
    monkeypatch.setattr(extract_gate, "_to_pandas", keep_a_weak_reference)
    bad = parsed("stellen", [stelle(vzae="9")])  # 2: out of range
    good = parsed("stellen", [stelle()])  # 2: clean, same shape as the bad run
    assert reported(run(bad, "stellen")) == {(0, 2, "vzae", "range")}
    assert run(good, "stellen").passed
    gc.collect()
    assert [ref() for ref in frames] == [None, None]


def test_gate_is_cached_per_extract():
    assert extract_gate._gate("stellen") is extract_gate._gate("stellen")
    assert gx_runtime.context() is gx_runtime.context()
