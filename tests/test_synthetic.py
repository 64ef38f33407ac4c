"""The synthetic generator: complete, deterministic, varied in format, clean per the contract,
and its ground truth recoverable from the data.

The files are read back here with a small independent reader (not `ingest.readers`), so the
generator is checked against the contract text rather than against our own ingest code.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from contract.spec import (
    AUTHORITY_EXTRACTS,
    AUTHORITY_PROVIDER,
    EXTRACTS,
    FILE_NAME_PATTERN,
    MIN_BIRTH_YEAR,
    OUTCOME_VALUES,
    PROVIDER_EXTRACTS,
    STATUS_CODES,
    ColumnType,
    Extract,
    RuleKind,
    code_values,
)
from synthetic import generate

STAND = date(2026, 6, 30)
SHARED_REFERENCE = Path(__file__).resolve().parents[1].parent / "shared/reference/kreise_bw.csv"
PLANNED_DATES = {
    "zieldatum",
    "naechste_pruefung_am",
    "zeitraum_von",
    "zeitraum_bis",
    "gueltig_ab",
    "gueltig_bis",
}
"""Dates that may lie after the stand (targets, review dates, funding periods and the delivery
obligations that follow them)."""


def _reference() -> dict:
    seed_copy = Path(__file__).resolve().parents[1] / "dbt_project/seeds/kreise_bw.csv"
    return {"reference": seed_copy if seed_copy.exists() else SHARED_REFERENCE}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return generate("tiny", root / "landing", seed=7, stand=STAND, **_reference())


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    return generate("demo", root / "landing", seed=3, stand=STAND, **_reference())


# --- an independent reader -------------------------------------------------------------------
def _decode(raw: bytes) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252"), "cp1252"


def read_delivery(path: Path) -> pl.DataFrame:
    """All columns as strings, headers lower-case; dates and decimals still as delivered."""
    if path.suffix == ".xlsx":
        df = pl.read_excel(path, infer_schema_length=0)
        df = df.with_columns(pl.all().str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1"))
    else:
        text, _ = _decode(path.read_bytes())
        header = text.split("\n", 1)[0]
        sep = ";" if ";" in header else ","
        df = pl.read_csv(text.encode(), separator=sep, infer_schema=False)
    return df.rename({c: c.strip().lower() for c in df.columns})


def _date(col: str) -> pl.Expr:
    c = pl.col(col)
    return pl.coalesce(
        c.str.to_date("%Y-%m-%d", strict=False), c.str.to_date("%d.%m.%Y", strict=False)
    )


def _decimal(col: str) -> pl.Expr:
    c = pl.col(col)
    german = c.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    return pl.when(c.str.contains(",")).then(german).otherwise(c).cast(pl.Float64, strict=False)


def parse(df: pl.DataFrame, extract: Extract) -> tuple[pl.DataFrame, list[str]]:
    """Typed frame plus the values that did not parse."""
    errors: list[str] = []
    exprs = []
    for col in extract.columns:
        c = pl.col(col.name)
        if col.type is ColumnType.DATE:
            e = _date(col.name)
        elif col.type is ColumnType.INT:
            e = c.cast(pl.Int64, strict=False)
        elif col.type is ColumnType.DECIMAL:
            e = _decimal(col.name)
        else:
            e = c
        exprs.append(e.alias(col.name))
    typed = df.select(exprs)
    for col in extract.columns:
        bad = df.filter(pl.col(col.name).is_not_null() & typed[col.name].is_null())
        if bad.height:
            errors.append(f"{col.name}: unparseable {bad[col.name].head(3).to_list()}")
    return typed, errors


# --- contract rules ---------------------------------------------------------------------------
def check_extract(extract: Extract, df: pl.DataFrame, stand: date) -> list[str]:
    errors: list[str] = []
    for col in extract.columns:
        v = pl.col(col.name)
        present = df.filter(v.is_not_null())
        if col.required and present.height != df.height:
            errors.append(f"{col.name}: {df.height - present.height} missing")
        if col.unique and present[col.name].n_unique() != present.height:
            errors.append(f"{col.name}: duplicates")
        if (
            col.type is ColumnType.ID
            and present.filter(~v.str.len_chars().is_between(1, 64)).height
        ):
            errors.append(f"{col.name}: id length")
        if col.codes and col.codes != "wert":
            bad = present.filter(~v.is_in(code_values(col.codes)))
            if bad.height:
                errors.append(f"{col.name}: bad codes {bad[col.name].unique().head(5).to_list()}")
        if col.type is ColumnType.AGS8 and present.filter(~v.str.contains(r"^08\d{6}$")).height:
            errors.append(f"{col.name}: not an 8-digit AGS")
        if (
            col.type is ColumnType.AGS
            and present.filter(~v.str.contains(r"^08\d{3}(\d{3})?$")).height
        ):
            errors.append(f"{col.name}: not an AGS")
        if col.min_value is not None:
            low = v <= col.min_value if col.min_exclusive else v < col.min_value
            if present.filter(low).height:
                errors.append(f"{col.name}: below {col.min_value}")
        if col.max_value is not None and present.filter(v > col.max_value).height:
            errors.append(f"{col.name}: above {col.max_value}")
        if col.max_is_stand_year and present.filter(v > stand.year).height:
            errors.append(f"{col.name}: after the stand year")
        if col.name == "geburtsjahr" and present.filter(v < MIN_BIRTH_YEAR).height:
            errors.append("geburtsjahr: before 1900")
        # the contract requires this for some dates; clean synthetic data has no future events
        planned = col.name in PLANNED_DATES
        if col.type is ColumnType.DATE and not planned and present.filter(v > stand).height:
            errors.append(f"{col.name}: after stand")
    for rule in extract.rules:
        a, b = rule.columns[0], rule.columns[1]
        if rule.kind is RuleKind.DATE_ORDER:
            bad = df.filter(pl.col(a) < pl.col(b))
        elif rule.kind is RuleKind.REQUIRED_IFF:
            bad = df.filter(pl.col(a).is_null() != pl.col(b).is_null())
        elif rule.kind is RuleKind.REQUIRED_UNLESS:
            bad = df.filter(pl.col(a).is_null() & (pl.col(b) != rule.value))
        elif rule.kind is RuleKind.UNIQUE_KEY:
            bad = df.filter(pl.struct(list(rule.columns)).is_duplicated())
        elif rule.kind is RuleKind.SAME_WITHIN:
            bad = df.filter(pl.col(a).n_unique().over(b) > 1)
        elif rule.kind is RuleKind.NO_OVERLAP:
            key, start, stop = rule.columns
            ordered = df.sort(key, start)
            prev_stop = pl.col(stop).shift(1).over(key)
            bad = ordered.filter(
                pl.col(start).shift(1).over(key).is_not_null()
                & (prev_stop.is_null() | (prev_stop >= pl.col(start)))
            )
        elif rule.kind is RuleKind.CODE_BY:
            allowed = pl.DataFrame(
                [(d, c.code) for d, codes in OUTCOME_VALUES.items() for c in codes],
                schema=[b, a],
                orient="row",
            )
            bad = df.join(allowed, on=[b, a], how="anti")
        else:  # pragma: no cover - a new rule kind must get a check here
            raise AssertionError(f"no check for {rule.kind}")
        if bad.height:
            errors.append(f"rule {rule.kind} {rule.columns}: {bad.height} rows")
    return errors


_LOADED: dict[Path, dict[str, dict[str, pl.DataFrame]]] = {}


def load_all(result) -> dict[str, dict[str, pl.DataFrame]]:
    """extract -> provider -> typed frame; fails on unreadable files or wrong columns."""
    if result.truth_path in _LOADED:
        return _LOADED[result.truth_path]
    out: dict[str, dict[str, pl.DataFrame]] = {name: {} for name in EXTRACTS}
    for path in result.files:
        m = FILE_NAME_PATTERN.match(path.name)
        assert m, path.name
        extract = EXTRACTS[m["extract"]]
        raw = read_delivery(path)
        assert sorted(raw.columns) == sorted(c.name for c in extract.columns), path.name
        typed, errors = parse(raw, extract)
        assert not errors, (path.name, errors)
        out[extract.name][m["provider"]] = typed
    _LOADED[result.truth_path] = out
    return out


def check_references(data: dict[str, dict[str, pl.DataFrame]]) -> list[str]:
    errors = []
    for extract in (*PROVIDER_EXTRACTS, *AUTHORITY_EXTRACTS):
        for provider, df in data[extract.name].items():
            for col in extract.columns:
                if col.ref is None:
                    continue
                target = data[col.ref.extract][provider][col.ref.column]
                bad = df.filter(
                    pl.col(col.name).is_not_null() & ~pl.col(col.name).is_in(target.implode())
                )
                if bad.height:
                    errors.append(f"{extract.name}_{provider}.{col.name}: {bad.height} dangling")
    return errors


def check_semantics(data: dict[str, dict[str, pl.DataFrame]]) -> list[str]:
    """Clean-data facts beyond the contract's row rules."""
    errors = []
    for provider, faelle in data["faelle"].items():
        contacts = data["kontakte"][provider].join(faelle, on="fall_id")
        outside = contacts.filter(
            (pl.col("datum") < pl.col("erstkontakt_datum"))
            | (pl.col("datum") > pl.col("abschluss_datum"))
        )
        if outside.height:
            errors.append(f"{provider}: {outside.height} contacts outside their case")
        goals = data["ziele"][provider].join(
            data["plaene"][provider].filter(pl.col("version") == 1), on="plan_id"
        )
        linked = contacts.join(goals, left_on="ziel_id", right_on="ziel_id", suffix="_z")
        bad = linked.filter(
            (pl.col("fall_id") != pl.col("fall_id_z")) | (pl.col("vereinbart_am") > pl.col("datum"))
        )
        if bad.height:
            errors.append(f"{provider}: {bad.height} contacts linked to a goal not yet agreed")
        homes = data["personen"][provider]["wohngemeinde_ags"]
        if (~homes.str.starts_with(provider[:5])).any():
            errors.append(f"{provider}: residents outside the provider's Kreis")
        status = data["aufenthalt"][provider]
        with_status = contacts.join(status, on="person_id")
        covered = with_status.filter(
            (pl.col("gueltig_ab") <= pl.col("datum"))
            & (pl.col("gueltig_bis").is_null() | (pl.col("gueltig_bis") >= pl.col("datum")))
        )
        if covered["kontakt_id"].n_unique() != contacts.height:
            errors.append(f"{provider}: contacts without a residence status")
    return errors


# --- tests ------------------------------------------------------------------------------------
def test_every_extract_for_every_provider_with_valid_names(tiny):
    names = [p.name for p in tiny.files]
    assert all(FILE_NAME_PATTERN.match(n) for n in names)
    assert len(set(names)) == len(names)
    providers = tiny.providers
    assert any(len(p) == 5 for p in providers) and any(len(p) == 8 for p in providers)
    kreis_rb = {p[:3] for p in providers if len(p) == 5}
    assert any(p[:3] not in kreis_rb for p in providers if len(p) == 8)
    expected = {(e.name, p) for e in PROVIDER_EXTRACTS for p in providers}
    expected |= {(e.name, AUTHORITY_PROVIDER) for e in AUTHORITY_EXTRACTS}
    got = {(m["extract"], m["provider"]) for m in map(FILE_NAME_PATTERN.match, names)}
    assert got == expected
    assert all(m["stand"] == STAND.isoformat() for m in map(FILE_NAME_PATTERN.match, names))
    assert tiny.truth_path.parent != tiny.files[0].parent
    assert all(30 <= n <= 80 for n in _cases_per_provider(tiny).values())


def _cases_per_provider(result) -> dict[str, int]:
    data = load_all(result)
    return {p: df.height for p, df in data["faelle"].items()}


def test_rerun_is_byte_identical(tiny, tmp_path):
    again = generate("tiny", tmp_path / "landing", seed=7, stand=STAND, **_reference())
    assert [p.name for p in again.files] == [p.name for p in tiny.files]
    for a, b in zip(tiny.files, again.files, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert tiny.truth_path.read_bytes() == again.truth_path.read_bytes()
    assert again.rows == tiny.rows


def test_other_seed_differs(tiny, tmp_path):
    other = generate("tiny", tmp_path / "landing", seed=8, stand=STAND, **_reference())
    assert other.rows != tiny.rows


def test_format_variety(tiny):
    seen = set()
    for path in tiny.files:
        if path.suffix == ".xlsx":
            seen.add("xlsx")
            columns = pl.read_excel(path, infer_schema_length=0).columns
            if any(c != c.lower() for c in columns):
                seen.add("upper")
            continue
        raw = path.read_bytes()
        text, encoding = _decode(raw)
        seen.add(encoding)
        header = text.split("\n", 1)[0]
        seen.add("comma" if ";" not in header else "semicolon")
        if header != header.lower():
            seen.add("upper")
        if re.search(r"\b\d{2}\.\d{2}\.\d{4}\b", text):
            seen.add("german_dates")
        if "\r\n" in text:
            seen.add("crlf")
        if re.search(r";\d+,\d{2}(;|\r?$)", text, re.MULTILINE):
            seen.add("decimal_comma")
    required = {"xlsx", "cp1252", "utf-8", "utf-8-sig", "comma", "semicolon", "upper",
                "german_dates", "decimal_comma"}  # fmt: skip
    assert required <= seen, required - seen
    cp1252 = [
        p for p in tiny.files if p.suffix == ".csv" and _decode(p.read_bytes())[1] == "cp1252"
    ]
    assert any(not p.read_bytes().isascii() for p in cp1252), "cp1252 without non-ASCII text"


@pytest.mark.parametrize("result_name", ["tiny", "demo"])
def test_all_contract_rules_hold(result_name, request):
    result = request.getfixturevalue(result_name)
    data = load_all(result)
    errors = []
    for name, by_provider in data.items():
        for provider, df in by_provider.items():
            errors += [f"{name}_{provider}: {e}" for e in check_extract(EXTRACTS[name], df, STAND)]
    errors += check_references(data)
    errors += check_semantics(data)
    assert not errors, errors[:20]
    rows = {name: sum(df.height for df in by.values()) for name, by in data.items()}
    assert rows == result.rows
    assert all(n > 0 for n in rows.values())


def test_grants_only_for_kreise_from_2025(demo):
    grants = load_all(demo)["bewilligungen"][AUTHORITY_PROVIDER]
    late = grants.filter(pl.col("zeitraum_von") >= date(2025, 1, 1))
    assert late.height and late["antragsteller_ags"].str.len_chars().eq(5).all()
    assert (
        grants.filter(pl.col("zeitraum_von") < date(2025, 1, 1))["antragsteller_ags"]
        .str.len_chars()
        .eq(8)
        .any()
    )


def test_ground_truth_is_well_formed(tiny):
    truth = json.loads(tiny.truth_path.read_text(encoding="utf-8"))
    assert truth["scale"] == "tiny" and truth["seed"] == 7 and truth["stand"] == "2026-06-30"
    assert truth["land_period"] == "2025"
    assert sorted(truth["providers"]) == sorted(tiny.providers)
    rates = ("plan_coverage", "goal_attainment", "goal_linked_share", "obliged_to_leave_share")
    for values in truth["providers"].values():
        assert all(0 < values[r] < 1 for r in rates)
        assert values["n_cm_cases"] > 0
    assert set(truth["land"]) == {"CM01", "CM05", "CM08", "EL02"}
    assert all(v is None or 0 < v < 1 for v in truth["land"].values())
    assert set(truth["notes"]) >= {*rates, "land"}


def test_later_snapshot_extends_the_earlier_one(tiny, tmp_path):
    early = generate("tiny", tmp_path / "landing", seed=7, stand=date(2025, 12, 31), **_reference())
    a, b = load_all(early), load_all(tiny)
    for provider, cases in a["faelle"].items():
        later = b["faelle"][provider]
        joined = cases.join(later, on="fall_id", how="left", suffix="_later")
        assert joined["person_id"].to_list() == joined["person_id_later"].to_list()
        assert (joined["erstkontakt_datum"] == joined["erstkontakt_datum_later"]).all()
        closed = joined.filter(pl.col("abschluss_datum").is_not_null())
        assert (closed["abschluss_datum"] == closed["abschluss_datum_later"]).all()


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="scale"):
        generate("huge", tmp_path / "landing", seed=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="landing"):
        generate("tiny", tmp_path / "landing", seed=1, truth_path=tmp_path / "landing" / "t.json")


# --- the ground truth is recoverable ----------------------------------------------------------
def _stacked(demo) -> dict[str, pl.DataFrame]:
    """Each provider extract over all providers, with a `provider` column."""
    return {
        e.name: pl.concat(
            [
                df.with_columns(pl.lit(p).alias("provider"))
                for p, df in load_all(demo)[e.name].items()
            ]
        )
        for e in PROVIDER_EXTRACTS
    }


def test_demo_recovers_the_ground_truth(demo):
    truth = json.loads(demo.truth_path.read_text(encoding="utf-8"))
    params = truth["providers"]
    data = _stacked(demo)
    faelle, plaene, ziele = data["faelle"], data["plaene"], data["ziele"]
    kontakte, aufenthalt = data["kontakte"], data["aufenthalt"]
    first_sig = plaene.group_by("provider", "fall_id").agg(
        pl.col("unterzeichnet_am").min().alias("sig")
    )
    cm = faelle.filter(pl.col("fallart") == "CM").join(
        first_sig, on=["provider", "fall_id"], how="left"
    )

    def weighted(rate: str, weights: pl.DataFrame) -> float:
        w = dict(zip(weights["provider"], weights["len"], strict=True))
        return sum(params[p][rate] * n for p, n in w.items()) / sum(w.values())

    # CM01 pooled over the years 2018..2025 (per docs/indicators.md, per year)
    num = den = 0
    dens = []
    for year in range(2018, 2026):
        start, end = date(year, 1, 1), date(year, 12, 31)
        stop = pl.min_horizontal(pl.col("abschluss_datum").fill_null(end), pl.lit(end))
        d = cm.filter(
            (pl.col("erstkontakt_datum") <= end)
            & (pl.col("abschluss_datum").is_null() | (pl.col("abschluss_datum") >= start))
            & ((stop - pl.col("erstkontakt_datum")).dt.total_days() >= 56)
        )
        den += d.height
        num += d.filter(pl.col("sig") <= stop).height
        dens.append(d.group_by("provider").len())
    expected = weighted(
        "plan_coverage", pl.concat(dens).group_by("provider").agg(pl.col("len").sum())
    )
    assert abs(num / den - expected) < 0.05, (num / den, expected)

    # CM05: goals met among assessed goals
    assessed = ziele.filter(pl.col("status").is_in(["ERREICHT", "TEILWEISE", "NICHT_ERREICHT"]))
    met = assessed.filter(pl.col("status") == "ERREICHT").height / assessed.height
    assert abs(met - weighted("goal_attainment", assessed.group_by("provider").len())) < 0.05

    # CM08: goal-linked contacts of CM cases, 2019 onwards
    cm_contacts = kontakte.filter(pl.col("datum") >= date(2019, 1, 1)).join(
        cm.select("provider", "fall_id"), on=["provider", "fall_id"]
    )
    linked = cm_contacts["ziel_id"].is_not_null().mean()
    expected = weighted("goal_linked_share", cm_contacts.group_by("provider").len())
    assert abs(linked - expected) < 0.03, (linked, expected)

    # EL02: contacts with people obliged to leave, status at the contact date
    obliged = [s.code for s in STATUS_CODES if s.category == "AUSREISEPFLICHTIG"]
    with_person = kontakte.join(
        faelle.select("provider", "fall_id", "person_id"), on=["provider", "fall_id"]
    )
    status = with_person.join(aufenthalt, on=["provider", "person_id"]).filter(
        (pl.col("gueltig_ab") <= pl.col("datum"))
        & (pl.col("gueltig_bis").is_null() | (pl.col("gueltig_bis") >= pl.col("datum")))
    )
    share = status["status_code"].is_in(obliged).mean()
    expected = weighted("obliged_to_leave_share", kontakte.group_by("provider").len())
    assert abs(share - expected) < 0.02, (share, expected)

    # the Land truth is the weighted mean for its year and close to the pooled values
    assert truth["land_period"] == "2025"
    assert all(0 < v < 1 for v in truth["land"].values())


def test_meldepflichten_follow_the_grants_and_vary_dq01(demo):
    """Contract 1.1: until 2024 each grant obliges its applicant alone; from 2025 a Kreis grant
    obliges the Kreis and the Gemeinde providers in it, every fourth such grant also a Gemeinde
    that never delivers, and every fourth obliged Gemeinde delivers `stellen` a quarter late."""
    result = demo
    landing = demo.files[0].parent
    (ob_file,) = landing.glob("meldepflichten_08_*.csv")
    ob = pl.read_csv(ob_file, separator=";", infer_schema=False)
    grants = pl.read_csv(
        next(landing.glob("bewilligungen_08_*")), separator=";", infer_schema=False
    ).select("bescheid_nr", "antragsteller_ags")
    joined = ob.join(grants, on="bescheid_nr", how="left")
    assert joined.get_column("antragsteller_ags").null_count() == 0, "every obligation's grant"
    before = joined.filter(pl.col("gueltig_ab") < "2025-01-01")
    assert (before["traeger_ags"] == before["antragsteller_ags"]).all()
    after = joined.filter(pl.col("gueltig_ab") >= "2025-01-01")
    assert (after["antragsteller_ags"].str.len_chars() == 5).all()  # only Kreise apply
    assert (after["traeger_ags"].str.slice(0, 5) == after["antragsteller_ags"]).all()
    never = set(after["traeger_ags"]) - set(result.providers)
    assert never, "some obliged Gemeinden never deliver"
    late = [p for p in landing.glob("stellen_*") if STAND.isoformat() not in p.name]
    # the late ones carry the previous quarter's end
    assert late and all("2026-03-31" in p.name for p in late)
