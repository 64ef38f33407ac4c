"""Injected defects: deterministic, confined to the defective providers, every kind present, and
the manifest says exactly which lines break which rule.

The contract checks come from `test_synthetic` (an independent reader of the contract text):
rows the manifest does not name must pass them, rows it names must fail them.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from test_synthetic import STAND, _reference, check_extract, check_references, parse

from contract.spec import (
    EXTRACTS,
    FILE_NAME_PATTERN,
    MAX_BAD_ROW_SHARE,
    code_values,
)
from ingest.load import ACCEPTED, REJECTED, Folders, ingest_landing
from ingest.readers import LINE, ROW_COLUMN, parse_columns, read_table
from synthetic import defects, generate
from synthetic.defects import (
    BAD_CODES,
    DEFECTIVE_AUTHORITY_EXTRACTS,
    KINDS,
    OUT_OF_RANGE,
    defective_providers,
    manifest_text,
    rule_of,
)

RATE_TINY = 0.05
RATE_DEMO = 0.02


@pytest.fixture(scope="module")
def tiny_clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("clean")
    return generate("tiny", root / "landing", seed=7, stand=STAND, **_reference())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("defects")
    return generate(
        "tiny", root / "landing", seed=7, stand=STAND, defects=RATE_TINY, **_reference()
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo_defects")
    return generate(
        "demo", root / "landing", seed=3, stand=STAND, defects=RATE_DEMO, **_reference()
    )


def manifest_of(result) -> dict:
    assert result.defects_path is not None
    return json.loads(result.defects_path.read_text(encoding="utf-8"))


def name_parts(path: Path) -> tuple[str, str]:
    m = FILE_NAME_PATTERN.match(path.name)
    assert m, path.name
    return m["extract"], m["provider"]


def entries(report: dict, *roles: str) -> list[dict]:
    listed = report["defects"] + report["collateral"]
    return [e for e in listed if e["role"] in roles]


# --- reading back with the project's reader, checking with the independent one ---------------
def typed(path: Path) -> pl.DataFrame:
    """The file's rows typed by `test_synthetic.parse`, with `_line`; unparseable cells null."""
    extract, _ = name_parts(path)
    raw = read_table(path, extract).frame
    frame, _ = parse(raw.drop(LINE), EXTRACTS[extract])
    return frame.with_columns(raw[LINE])


def type_errors(path: Path) -> set[tuple[int, str, str]]:
    extract, _ = name_parts(path)
    parsed = parse_columns(read_table(path, extract), extract, STAND)
    return {(r[LINE], r["column"], r["rule"]) for r in parsed.errors.iter_rows(named=True)}


_TYPED: dict[Path, dict[str, pl.DataFrame]] = {}


def typed_all(result) -> dict[str, pl.DataFrame]:
    if result.truth_path not in _TYPED:
        _TYPED[result.truth_path] = {p.name: typed(p) for p in result.files}
    return _TYPED[result.truth_path]


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


# --- determinism and confinement --------------------------------------------------------------
def test_rate_zero_is_exactly_the_clean_output(tiny_clean, tmp_path):
    stale = tmp_path / "defects.json"
    stale.write_text("{}")
    zero = generate("tiny", tmp_path / "landing", seed=7, stand=STAND, defects=0, **_reference())
    assert zero.defects_path is None and not stale.exists()
    assert [p.name for p in zero.files] == [p.name for p in tiny_clean.files]
    for a, b in zip(zero.files, tiny_clean.files, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert zero.truth_path.read_bytes() == tiny_clean.truth_path.read_bytes()


def test_rerun_with_defects_is_byte_identical(tiny, tmp_path):
    again = generate(
        "tiny", tmp_path / "landing", seed=7, stand=STAND, defects=RATE_TINY, **_reference()
    )
    assert [p.name for p in again.files] == [p.name for p in tiny.files]
    for a, b in zip(tiny.files, again.files, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert again.defects_path.read_bytes() == tiny.defects_path.read_bytes()


def test_manifest_is_json_with_one_entry_per_line(tiny):
    text = tiny.defects_path.read_text(encoding="utf-8")
    m = json.loads(text)
    assert manifest_text(m) == text
    n_entries = sum(len(entries(r, "defect", "partner", "collateral")) for r in m["files"].values())
    assert sum(line.startswith('    {"line"') for line in text.splitlines()) == n_entries


def test_rejects_a_rate_outside_zero_to_one(tmp_path):
    for rate in (-0.01, 1.5):
        with pytest.raises(ValueError, match="defects"):
            generate("tiny", tmp_path / "landing", seed=1, defects=rate)


def test_defective_providers_are_some_but_never_all(tiny, demo):
    assert defective_providers(["08115"]) == []
    assert defective_providers(["08212", "08115"]) == ["08212"]
    for result in (tiny, demo):
        m = manifest_of(result)
        assert m["defective_providers"] and m["clean_providers"]
        assert sorted(m["defective_providers"] + m["clean_providers"]) == sorted(result.providers)
        assert m["defective_providers"] == defective_providers(result.providers)
    assert manifest_of(tiny)["rate"] == RATE_TINY


def test_clean_providers_and_truth_are_untouched(tiny, tiny_clean):
    m = manifest_of(tiny)
    clean = {p.name: p for p in tiny_clean.files}
    assert sorted(clean) == sorted(p.name for p in tiny.files)
    assert sorted(m["files"]) == sorted(clean)
    touched = set()
    for path in tiny.files:
        extract, provider = name_parts(path)
        report = m["files"][path.name]
        if provider in m["clean_providers"] or (
            provider == "08" and extract not in DEFECTIVE_AUTHORITY_EXTRACTS
        ):
            assert path.read_bytes() == clean[path.name].read_bytes(), path.name
            assert not report["defects"] and not report["collateral"], path.name
        elif path.read_bytes() != clean[path.name].read_bytes():
            touched.add(path.name)
    assert tiny.truth_path.read_bytes() == tiny_clean.truth_path.read_bytes()
    assert tiny.defects_path.parent == tiny.truth_path.parent != tiny.files[0].parent
    assert touched == {name for name, r in m["files"].items() if r["defects"]}
    assert any(name.startswith(DEFECTIVE_AUTHORITY_EXTRACTS) for name in touched)


def test_only_the_defect_lines_changed(tiny, tiny_clean):
    """Partner and collateral lines are unchanged rows; every other line keeps its bytes."""
    m = manifest_of(tiny)
    clean = {p.name: p for p in tiny_clean.files}
    for path in tiny.files:
        report = m["files"][path.name]
        changed = {e["line"] for e in entries(report, "defect")}
        if path.suffix == ".csv":
            ours = path.read_bytes().split(b"\n")
            theirs = clean[path.name].read_bytes().split(b"\n")
            assert len(ours) == len(theirs), path.name
            diff = {i + 1 for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b}
        else:
            extract, _ = name_parts(path)
            a = read_table(path, extract).frame
            b = read_table(clean[path.name], extract).frame
            assert a.height == b.height
            diff = {ra[0] for ra, rb in zip(a.iter_rows(), b.iter_rows(), strict=True) if ra != rb}
        assert diff == changed, path.name


# --- the manifest is right --------------------------------------------------------------------
@pytest.mark.parametrize("result_name", ["tiny", "demo"])
def test_type_errors_appear_exactly_at_the_manifest_lines(result_name, request):
    result = request.getfixturevalue(result_name)
    m = manifest_of(result)
    for path in result.files:
        expected = {
            (e["line"], e["rule_column"], e["rule"])
            for e in entries(m["files"][path.name], "defect")
            if KINDS[e["kind"]].found_by == "readers"
        }
        assert type_errors(path) == expected, path.name


@pytest.mark.parametrize("result_name", ["tiny", "demo"])
def test_rows_not_in_the_manifest_keep_the_contract(result_name, request):
    """Without the defect and partner lines every file passes the contract's row checks; without
    the collateral lines too, every reference resolves."""
    result = request.getfixturevalue(result_name)
    m = manifest_of(result)
    frames = typed_all(result)
    remaining: dict[str, dict[str, pl.DataFrame]] = defaultdict(dict)
    for name, frame in frames.items():
        report = m["files"][name]
        bad = [e["line"] for e in entries(report, "defect", "partner")]
        collateral = [e["line"] for e in entries(report, "collateral")]
        extract, provider = report["extract"], report["provider"]
        good = frame.filter(~pl.col(LINE).is_in(bad))
        assert not check_extract(EXTRACTS[extract], good.drop(LINE), STAND), name
        if report["expected_verdict_with_collateral"] == "REJECTED":
            good = good.clear()  # a rejected first delivery leaves nothing to refer to
        remaining[extract][provider] = good.filter(~pl.col(LINE).is_in(collateral)).drop(LINE)
    assert not check_references(remaining)
    # and each collateral row really points at a row that is not accepted
    for report in m["files"].values():
        for e in entries(report, "collateral"):
            ref = EXTRACTS[report["extract"]].column(e["column"]).ref
            target = remaining[ref.extract][report["provider"]]
            assert e["value"] not in target[ref.column].to_list(), e


@pytest.mark.parametrize("result_name", ["tiny", "demo"])
def test_every_defect_line_breaks_its_rule(result_name, request):
    result = request.getfixturevalue(result_name)
    m = manifest_of(result)
    frames = typed_all(result)
    for name, report in m["files"].items():
        extract = EXTRACTS[report["extract"]]
        frame = frames[name]
        for e in entries(report, "defect"):
            kind, column = KINDS[e["kind"]], e["column"]
            row = frame.filter(pl.col(LINE) == e["line"])
            assert row.height == 1, (name, e)
            if kind.found_by == "readers":
                continue  # the readers' errors are compared line by line above
            assert _plain(row[column][0]) == e["value"] != e["original"], (name, e)
            if e["kind"] == "dangling_ref":
                ref = extract.column(column).ref
                prefix = f"{ref.extract}_{report['provider']}_"
                target = next(frame for n, frame in frames.items() if n.startswith(prefix))
                assert e["value"] not in target[ref.column].to_list(), (name, e)
                continue
            partners = [
                p["line"] for p in entries(report, "partner") if p["partner_of"] == e["line"]
            ]
            assert (
                e["kind"] in {"duplicate_id", "unique_key", "same_within", "no_overlap"}
            ) == bool(partners), (name, e)
            rows = frame.filter(pl.col(LINE).is_in([e["line"], *partners])).drop(LINE)
            assert check_extract(extract, rows, STAND), (name, e)


def test_every_kind_appears_at_demo_scale(demo):
    m = manifest_of(demo)
    seen = {e["kind"] for r in m["files"].values() for e in entries(r, "defect")}
    assert seen == set(KINDS)
    assert set(m["kinds"]) == set(KINDS)
    for name, report in m["files"].items():
        _, provider = name_parts(Path(name))
        if report["defects"]:
            assert provider in m["defective_providers"] or provider == "08"


def test_rate_is_respected_and_one_file_is_meant_to_be_rejected(demo):
    """About RATE of each defective file's rows are bad, counting the rows that dangle because a
    referenced row is bad; no file but the one meant to be comes near the 5 % limit."""
    m = manifest_of(demo)
    rejected = [n for n, r in m["files"].items() if r["meant_to_be_rejected"]]
    assert rejected == [m["rejected_file"]] and rejected[0].startswith("ergebnisse_")
    bad = rows = 0
    for name, report in m["files"].items():
        if report["meant_to_be_rejected"]:
            assert report["bad_share"] > MAX_BAD_ROW_SHARE
            assert report["expected_verdict"] == "REJECTED"
            continue
        assert report["expected_verdict_with_collateral"] == "ACCEPTED", name
        _, provider = name_parts(Path(name))
        if provider in m["defective_providers"]:
            budget = math.floor(RATE_DEMO * report["rows"])
            lost = report["bad_lines"] + report["collateral_lines"]
            assert report["bad_lines"] <= max(0, budget - report["collateral_lines"]), name
            assert lost >= budget - 1, name
            bad, rows = bad + lost, rows + report["rows"]
    assert RATE_DEMO * 0.85 < bad / rows <= RATE_DEMO * 1.05


def test_the_warehouse_quarantines_exactly_the_manifest_lines(tiny, tmp_path):
    """The real loader: the one file rejected whole, every other file accepted, and quarantine
    entries exactly where the manifest says. A loader that checks types only reports the kinds
    the readers find; once it also runs the contract's row rules (the extract gate), it must
    report every manifest line, with the manifest's rule and column."""
    m = manifest_of(tiny)
    landing = tmp_path / "landing"
    landing.mkdir()
    for path in tiny.files:
        shutil.copy(path, landing / path.name)
    folders = Folders(landing, tmp_path / "archive", tmp_path / "quarantine", tmp_path)
    result = ingest_landing(tmp_path / "build.duckdb", folders, b"test-key")
    with duckdb.connect(str(tmp_path / "build.duckdb"), read_only=True) as con:
        reported = set(
            con.execute(
                "SELECT file_name, line, column_name, rule FROM raw.quarantined_rows"
            ).fetchall()
        )
    gate_active = any(not rule.startswith(("type:", "row:")) for *_, rule in reported)
    for verdict in result.verdicts:
        report = m["files"][verdict.file_name]
        if report["meant_to_be_rejected"]:
            assert verdict.verdict == REJECTED and verdict.reason == "TOO_MANY_BAD_ROWS"
            continue
        expected = report["expected_verdict_with_collateral" if gate_active else "expected_verdict"]
        assert verdict.verdict == expected == ACCEPTED, verdict.file_name
        listed = entries(report, "defect", "partner", "collateral")
        if not gate_active:
            listed = [
                e
                for e in listed
                if e["role"] != "collateral" and KINDS[e["kind"]].found_by == "readers"
            ]
        lines = {e["line"] for e in listed}
        mine = {
            (line, col, rule) for name, line, col, rule in reported if name == verdict.file_name
        }
        assert {line for line, _, _ in mine} == lines, verdict.file_name
        assert {(e["line"], e["rule_column"], e["rule"]) for e in listed} <= mine
        assert verdict.rows_quarantined == len(lines), verdict.file_name
        assert verdict.rows_loaded == report["rows"] - len(lines)


def test_bad_values_are_really_bad():
    for codes, bad in BAD_CODES.items():
        assert bad not in code_values(codes)
    columns = {c.name: c for e in EXTRACTS.values() for c in e.columns}
    for name, values in OUT_OF_RANGE.items():
        col = columns[name]
        for v in values:
            low = col.min_value is not None and (
                v <= col.min_value if col.min_exclusive else v < col.min_value
            )
            high = col.max_value is not None and v > col.max_value
            assert low or high, (name, v)


def test_rule_ids_are_those_of_the_readers_and_the_extract_gate():
    assert defects.ROW_COLUMN == ROW_COLUMN
    ex = EXTRACTS
    assert rule_of(ex["kontakte"], "bad_date", "datum") == ("type:date", "datum")
    assert rule_of(ex["kontakte"], "extra_field", "_row") == ("row:too_many_fields", ROW_COLUMN)
    assert rule_of(ex["kontakte"], "dangling_ref", "ziel_id") == ("ref:ziele.ziel_id", "ziel_id")
    assert rule_of(ex["personen"], "out_of_range", "geburtsjahr", 1850) == (
        "range",
        "geburtsjahr",
    )
    assert rule_of(ex["personen"], "out_of_range", "geburtsjahr", STAND.year + 1) == (
        "max_stand_year",
        "geburtsjahr",
    )
    assert rule_of(ex["plaene"], "unique_key", "version") == (
        "unique_key:plan_id+version",
        "plan_id",
    )
    assert rule_of(ex["aufenthalt"], "no_overlap", "gueltig_ab") == (
        "no_overlap:person_id",
        "gueltig_ab",
    )
    assert rule_of(ex["ziele"], "required_unless", "bewertet_am") == (
        "required_unless:bewertet_am|status=OFFEN",
        "bewertet_am",
    )
    assert rule_of(ex["faelle"], "required_iff", "abschluss_grund") == (
        "required_iff:abschluss_grund<=>abschluss_datum",
        "abschluss_grund",
    )
