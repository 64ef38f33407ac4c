"""Evaluator exports (`imw export`, export/evaluator.py) on one tiny build, plus the
k-anonymity ladder on a hand-built adversarial frame."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import polars as pl
import pytest

from cli.export import add_parser
from cli.main import main
from contract.spec import EXTRACTS, ColumnType
from core.settings import KEY_ENV, Settings
from export import codebook as cb
from export.evaluator import (
    FORMATS,
    MANIFEST_NAME,
    ExportParams,
    ExportUsageError,
    k_anonymise,
    run_export,
)
from ingest.readers import parse_file_name, read_table
from orchestration.export_job import build_export_job
from orchestration.resources import WarehouseResource
from synthetic import generate

pytestmark = pytest.mark.slow

WAREHOUSE_KEY = "export-e2e-warehouse-key"
# Tiny data has ~170 cases in 3 Kreise: k = 2 keeps some rows after generalisation and
# suppression (k = 5 suppresses everything there, which is tested as well).
K = 2
DATE = re.compile(rb"\d{4}-\d{2}-\d{2}")
GEMEINDE_AGS = re.compile(rb"(?<!\d)08\d{6}(?!\d)")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Settings, Path, Path]:
    """One tiny build for the module: settings, the delivered files, a folder with study keys."""
    root = tmp_path_factory.mktemp("export")
    settings = Settings.from_env(home=root / "home", environ={})
    delivered = root / "delivered"
    generate("tiny", delivered, seed=7, truth_path=root / "truth.json")
    settings.landing.mkdir(parents=True)
    for f in delivered.iterdir():
        (settings.landing / f.name).write_bytes(f.read_bytes())
    old = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = WAREHOUSE_KEY
    try:
        assert main(["build", "--home", str(settings.home)]) == 0
    finally:
        if old is None:
            os.environ.pop(KEY_ENV)
        else:
            os.environ[KEY_ENV] = old
    keys = root / "keys"
    keys.mkdir()
    (keys / "a.key").write_bytes(b"study-A-secret-key-0123456789abcdef")
    (keys / "b.key").write_bytes(b"study-B-secret-key-fedcba9876543210")
    (keys / "short.key").write_bytes(b"too-short")
    return settings, delivered, keys


def _params(keys: Path, study: str, key: str, out: Path, **kw) -> ExportParams:
    values = dict(date_from=None, date_to=None, formats=FORMATS, k=K)
    values.update(kw)
    return ExportParams(study=study, key_file=keys / key, out=out, **values)


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _reproducible(folder: Path) -> dict[str, object]:
    """Every file's sha256, the manifest's without `build.git`: other engineers commit to this
    checkout while the module runs, and the manifest rightly records the commit of each export."""
    hashes: dict[str, object] = _hashes(folder)
    manifest = _manifest(folder)
    del manifest["build"]["git"]
    hashes[MANIFEST_NAME] = manifest
    return hashes


@pytest.fixture(scope="module")
def exports(built, tmp_path_factory) -> dict[str, Path]:
    """Study A, study B (another key), and study A once more into its own folder."""
    settings, _, keys = built
    root = tmp_path_factory.mktemp("exports")
    a = run_export(settings, _params(keys, "study_a", "a.key", root / "a"))
    first = _reproducible(a.out)
    b = run_export(settings, _params(keys, "study_b", "b.key", root / "b"))
    again = run_export(settings, _params(keys, "study_a", "a.key", root / "a"))
    assert again.out == a.out
    return {"a": a.out, "b": b.out, "a_first_hashes": first}


def _manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))


def _codebook(folder: Path) -> dict:
    return json.loads((folder / "codebook.json").read_text(encoding="utf-8"))


# --- k-anonymity: adversarial hand-built frame -------------------------------------------------
def _rows(n: int, person: str, kreis: str, nat: str, year: int | None, **kw) -> list[dict]:
    """n cases of distinct persons `person0..` (or one person's cases when kw['same_person'])."""
    region = cb.NATIONALITY_REGION[nat]
    band = None if year is None else f"{year // 2 * 2}-{year // 2 * 2 + 1}"
    return [
        {
            "person_id": person if kw.get("same_person") else f"{person}{i}",
            "kreis": kreis,
            "rb": kreis[:3],
            "age_band": kw.get("age", "25_34"),
            "sex": kw.get("sex", "m"),
            "nationality_group": kw.get("group", nat),
            "nationality_region": region,
            "arrival_year": year,
            "arrival_period": band,
        }
        for i in range(n)
    ]


def test_k_anonymity_rare_nationality_in_small_kreis_is_suppressed_after_generalising():
    frame = pl.DataFrame(
        _rows(6, "syr", "08115", "SYR", 2016)  # safe: 6 persons
        + _rows(5, "afg", "08115", "AFG", 2016)  # safe: exactly k = 5 persons
        # RISKY: the only Gambian, in a small Kreis of RB Tübingen; no generalisation step
        # gives it company (its region, RB and arrival band are unique too)
        + _rows(1, "gmb", "08436", "GMB", 2016, group="OTHER")
    )
    # No suppression budget: every step is taken before anything is suppressed.
    result = k_anonymise(frame, k=5, max_suppressed_share=0.0)
    assert result.detail == {"area": 1, "age": 0, "sex": 0, "nationality": 1, "arrival": 1}
    assert len(result.generalisations) == 3
    assert result.suppressed_rows == 1
    assert result.keep.to_list() == [True] * 11 + [False]
    assert result.k_reached == 5
    # A budget of 10 % (1.2 rows) suppresses the one row instead of coarsening everybody.
    result = k_anonymise(frame, k=5, max_suppressed_share=0.1)
    assert result.generalisations == [] and result.suppressed_rows == 1
    assert result.k_reached == 5


def test_k_anonymity_generalisation_rescues_small_classes_and_counts_persons():
    frame = pl.DataFrame(
        # RISKY at the detailed level: 3 Iraqi and 2 Syrian persons, classes of 3 and 2; as
        # NEAR_MIDDLE_EAST they form one class of 5
        _rows(3, "irq", "08115", "IRQ", 2016)
        + _rows(2, "syr", "08115", "SYR", 2016)
        # RISKY: 5 cases but of only 4 persons (one person counselled twice): rows are not people
        + _rows(3, "eri", "08212", "ERI", 2018, sex="w")
        + _rows(2, "eri_twice", "08212", "ERI", 2018, sex="w", same_person=True)
        # RISKY: arrival year missing for 1 person; NULL is a class of its own, not a wildcard
        + _rows(1, "unk", "08212", "ERI", None, sex="w")
    )
    result = k_anonymise(frame, k=5, max_suppressed_share=0.0)
    # nationality → region joins IRQ and SYR (5 persons); ERI (4 persons, 5 rows) and the
    # missing arrival year stay small through all steps and are suppressed
    assert result.detail["nationality"] == 1
    assert result.keep.to_list() == [True] * 5 + [False] * 6
    assert result.suppressed_rows == 6
    assert result.k_reached == 5


def test_k_anonymity_nothing_to_do():
    frame = pl.DataFrame(_rows(5, "syr", "08115", "SYR", 2016))
    result = k_anonymise(frame, k=5, max_suppressed_share=0.0)
    assert result.generalisations == [] and result.suppressed_rows == 0 and result.k_reached == 5


# --- the export on a built warehouse -----------------------------------------------------------
def test_k_anonymity_holds_in_the_export_and_is_reported(exports):
    for folder in (exports["a"], exports["b"]):
        manifest = _manifest(folder)
        k_info = manifest["k_anonymity"]
        cases = pl.read_parquet(folder / "cases.parquet")
        assert cases.height > 0, "k = 2 must keep some tiny cases"
        classes = cases.group_by(k_info["quasi_identifiers"]).agg(pl.col("person_id").n_unique())
        assert classes.get_column("person_id").min() >= K
        assert k_info["k_reached"] == classes.get_column("person_id").min()
        window = manifest["rows_in_window_before_suppression"]
        assert window["cases"] - k_info["suppressed_cases"] == cases.height
        assert manifest["row_counts"]["cases"] == cases.height
        panel = pl.read_parquet(folder / "case_months.parquet")
        assert set(panel.get_column("case_id")) == set(cases.get_column("case_id")), (
            "the panel holds exactly the kept cases"
        )
        assert window["case_months"] - k_info["suppressed_case_months"] == panel.height


def test_k5_on_tiny_data_suppresses_everything_and_still_writes_valid_files(built, tmp_path):
    settings, _, keys = built
    result = run_export(settings, _params(keys, "study_k5", "a.key", tmp_path / "k5", k=5))
    assert result.row_counts == {"cases": 0, "case_months": 0}
    assert result.k_reached is None and result.suppressed_rows > 0
    assert pd.read_stata(tmp_path / "k5" / "cases.dta").empty


def test_two_studies_ids_cannot_be_joined(exports):
    a, b = exports["a"], exports["b"]
    for table, columns in (("cases", ("case_id", "person_id")), ("case_months", ("case_id",))):
        fa = pl.read_parquet(a / f"{table}.parquet")
        fb = pl.read_parquet(b / f"{table}.parquet")
        for col in columns:
            assert not set(fa.get_column(col)) & set(fb.get_column(col)), f"{table}.{col}"
    # And an id never equals a warehouse pseudonym.
    ids = set(pl.read_parquet(a / "cases.parquet").get_column("case_id"))
    assert all(len(i) == 64 for i in ids)


def test_same_study_and_key_reproduce_identical_files(exports):
    assert _reproducible(exports["a"]) == exports["a_first_hashes"]
    manifest = _manifest(exports["a"])
    listed = {name: entry["sha256"] for name, entry in manifest["files"].items()}
    assert listed == {n: h for n, h in _hashes(exports["a"]).items() if n != MANIFEST_NAME}


def test_codebook_covers_every_column_of_every_file(exports):
    folder = exports["a"]
    book = _codebook(folder)
    markdown = (folder / "codebook.md").read_text(encoding="utf-8")
    for table in book["tables"]:
        documented = [v["name"] for v in table["variables"]]
        stem = table["name"]
        columns = {
            "parquet": pl.read_parquet_schema(folder / f"{stem}.parquet").names(),
            "csv": pl.read_csv(folder / f"{stem}.csv", n_rows=0).columns,
            "dta": list(pd.read_stata(folder / f"{stem}.dta").columns),
        }
        for fmt, cols in columns.items():
            assert cols == documented, f"{stem}.{fmt}"
        frame = pl.read_parquet(folder / f"{stem}.parquet")
        for v in table["variables"]:
            assert v["label_de"] and v["label_en"] and v["derivation"] and v["missing"]
            assert f"`{v['name']}`" in markdown
            if v["type"] == "category":
                codes = {c["code"] for c in v["codes"]}
                values = set(frame.get_column(v["name"]).cast(pl.String).drop_nulls())
                assert values <= codes, f"{stem}.{v['name']}: {values - codes}"
    assert {t["name"] for t in book["tables"]} == {"cases", "case_months"}
    assert "CM06" in json.dumps(book), "derivations cite indicator ids"


def _clear_values(delivered: Path) -> tuple[set[str], set[str]]:
    ids: set[str] = set()
    texts: set[str] = set()
    for path in delivered.iterdir():
        extract = EXTRACTS[parse_file_name(path).extract]
        frame = read_table(path, extract).frame
        for col in extract.columns:
            values = set(frame.get_column(col.name).drop_nulls().cast(pl.String).to_list())
            if col.type is ColumnType.ID:
                ids |= values
            elif col.type is ColumnType.TEXT:
                texts |= values
    return ids, texts


def _all_values(folder: Path) -> set[str]:
    """Every cell of every data file, as text."""
    found: set[str] = set()
    for path in folder.iterdir():
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif path.suffix == ".csv":
            frame = pl.read_csv(path, infer_schema=False)
        elif path.suffix == ".dta":
            frame = pl.from_pandas(pd.read_stata(path).astype(str))
        else:
            continue
        for col in frame.columns:
            found |= set(frame.get_column(col).cast(pl.String).drop_nulls().to_list())
    return found


def test_no_clear_id_free_text_exact_date_or_gemeinde_in_any_output(built, exports):
    settings, delivered, _ = built
    ids, texts = _clear_values(delivered)
    assert len(ids) > 100 and texts, "the fixture must contain ids and free text to look for"
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        warehouse_ids = {
            r[0]
            for r in con.execute(
                "SELECT case_id FROM exports.exp_cases "
                "UNION SELECT person_id FROM exports.exp_cases"
            ).fetchall()
        }
    for folder in (exports["a"], exports["b"]):
        values = _all_values(folder)
        assert values, "the export must hold values to check"
        assert not values & ids, "a clear id leaked"
        assert not values & texts, "free text leaked"
        assert not values & warehouse_ids, "a warehouse pseudonym leaked"
        for path in folder.iterdir():
            if path.suffix == ".parquet":
                schema = pl.read_parquet_schema(path)
                assert not [c for c, t in schema.items() if t.is_temporal()], path.name
            data = path.read_bytes()
            if path.name == MANIFEST_NAME:
                # the build's load time and the window parameters are the only dates, by design
                manifest = json.loads(data)
                del manifest["build"], manifest["parameters"]
                data = json.dumps(manifest).encode()
            assert not DATE.search(data), f"{path.name}: {DATE.search(data)}"
            assert not GEMEINDE_AGS.search(data), f"{path.name}: a Gemeinde AGS"
        for text in texts:
            assert all(text.encode() not in p.read_bytes() for p in folder.iterdir())


def test_key_never_appears_in_any_output(built, exports):
    _, _, keys = built
    for name, folder in (("a.key", exports["a"]), ("b.key", exports["b"])):
        key = (keys / name).read_bytes()
        for secret in (key, key.hex().encode(), WAREHOUSE_KEY.encode()):
            for path in folder.iterdir():
                assert secret not in path.read_bytes(), f"{path.name} holds a key"
        assert name not in (folder / MANIFEST_NAME).read_text()


def _texts(column: pd.Series) -> list[str]:
    return column.astype("string").fillna("<missing>").tolist()


def test_stata_labels_round_trip(exports):
    folder = exports["a"]
    book = _codebook(folder)
    for table in book["tables"]:
        stem = table["name"]
        with pd.io.stata.StataReader(folder / f"{stem}.dta") as reader:
            variable_labels = reader.variable_labels()
            value_labels = reader.value_labels()
        stata = pd.read_stata(folder / f"{stem}.dta")
        parquet = pd.read_parquet(folder / f"{stem}.parquet")
        for v in table["variables"]:
            label = variable_labels[v["name"]]
            assert label and (
                label in f"{v['label_de']} / {v['label_en']}" or label == v["label_en"]
            )
            if v["type"] == "category":
                assert value_labels[v["name"]] == {c["stata_value"]: c["code"] for c in v["codes"]}
                assert _texts(stata[v["name"]]) == _texts(parquet[v["name"]]), v["name"]
            elif v["type"] in ("integer", "boolean", "number"):
                assert (
                    stata[v["name"]].fillna(-1) == parquet[v["name"]].astype(float).fillna(-1)
                ).all()
            else:
                assert (stata[v["name"]] == parquet[v["name"]].fillna("")).all(), v["name"]


def test_manifest_names_build_parameters_and_models(exports):
    manifest = _manifest(exports["a"])
    assert manifest["study"] == "study_a"
    assert manifest["parameters"]["k"] == K
    assert manifest["build"]["latest_load_at_utc"]
    models = manifest["build"]["dbt_models"]
    assert models and "model.imw.exp_cases" in models and "model.imw.int_cases" in models
    assert all(models.values())


def test_window_limits_cases_to_start_months(built, tmp_path):
    settings, _, keys = built
    result = run_export(
        settings,
        _params(keys, "study_w", "a.key", tmp_path / "w", formats=("csv",),
                date_from=pd.Timestamp("2022-01-01").date(),
                date_to=pd.Timestamp("2024-12-31").date()),
    )  # fmt: skip
    cases = pl.read_csv(result.out / "cases.csv")
    assert sorted(p.name for p in result.out.iterdir()) == [
        "case_months.csv", "cases.csv", "codebook.json", "codebook.md", MANIFEST_NAME,
    ]  # fmt: skip
    window = _manifest(result.out)["rows_in_window_before_suppression"]["cases"]
    assert 0 < window < 168
    months = cases.get_column("start_month")
    assert months.is_empty() or (months.min() >= "2022-01" and months.max() <= "2024-12")


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="imw")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_usage_errors_and_refusals(built, exports, tmp_path, capsys):
    settings, _, keys = built
    base = ["export", "--home", str(settings.home), "--study", "s"]
    ok_key = ["--key-file", str(keys / "a.key")]
    assert _cli([*base, "--key-file", str(keys / "short.key"), "--out", str(tmp_path / "x")]) == 2
    assert "at least 16 bytes" in capsys.readouterr().err
    assert _cli([*base, "--key-file", str(keys / "none.key"), "--out", str(tmp_path / "x")]) == 2
    assert _cli([*base, *ok_key, "--from", "2025-02-30", "--out", str(tmp_path / "x")]) == 2
    assert _cli([*base, *ok_key, "--from", "2025-02-01", "--to", "2025-01-01",
                 "--out", str(tmp_path / "x")]) == 2  # fmt: skip
    assert _cli([*base, *ok_key, "--format", "xlsx", "--out", str(tmp_path / "x")]) == 2
    assert _cli([*base, *ok_key, "--k", "1", "--out", str(tmp_path / "x")]) == 2
    nohome = ["export", "--home", str(tmp_path / "nohome"), "--study", "s", *ok_key]
    assert _cli([*nohome, "--out", str(tmp_path / "x")]) == 2
    assert "imw build" in capsys.readouterr().err
    # a non-empty folder that is not an earlier export of this study is never overwritten
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    assert _cli([*base, *ok_key, "--out", str(busy)]) == 2
    assert (busy / "notes.txt").read_text() == "mine"
    before = _hashes(exports["b"])
    assert _cli([*base, *ok_key, "--out", str(exports["b"])]) == 2, "another study's export"
    assert _hashes(exports["b"]) == before
    assert not (tmp_path / "x").exists()
    assert _cli([*base, *ok_key, "--k", "2", "--format", "csv", "--out", str(tmp_path / "ok")]) == 0
    assert "k-anonymity: k = 2" in capsys.readouterr().out
    with pytest.raises(ExportUsageError):
        run_export(settings, _params(keys, "bad name!", "a.key", tmp_path / "y"))


def test_dagster_job_writes_the_same_export(built, exports, tmp_path):
    settings, _, keys = built
    job = build_export_job()
    config = {
        "study": "study_a", "key_file": str(keys / "a.key"), "k": K, "out": str(tmp_path / "job"),
    }  # fmt: skip
    result = job.execute_in_process(
        run_config={"ops": {"evaluator_export_op": {"config": config}}},
        resources={"warehouse": WarehouseResource(home=str(settings.home))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    assert _reproducible(tmp_path / "job") == exports["a_first_hashes"]


def test_status_category_and_prospect_labels_cover_the_contracts_status_codes():
    # The codebook labels the categories and prospects that contract/spec.py assigns to each
    # residence-status code; a code added to the contract must get a label here too.
    from contract.spec import STATUS_CODES

    assert {s.category for s in STATUS_CODES} <= {c.code for c in cb.STATUS_CATEGORIES}
    assert {s.prospect for s in STATUS_CODES} <= {c.code for c in cb.PROSPECTS}
