"""`imw analyse-outcomes` publishes its tables into the warehouse home and renders the home's
report again, so that the Wirkung page shows them (export/outcome_publish.py, cli/export.py).

The export is a small hand-made one (no warehouse build): 300 CM cases with the columns the
analysis reads, written as Parquet with a manifest; the report's published database is the
report tests' fixture with two indicators (tests/report_fixture.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from cli.main import main as imw_main
from core.outcome_results import PUBLISHED_FILES
from core.settings import Settings
from disclosure import CELL_MINIMUM
from export.outcome_publish import (
    VERSIONS_DIR_NAME,
    PublishOutcomesError,
    disclosed,
    publish_outcomes,
)
from indicator_report.render import build_report, report_dir
from tests.report_fixture import make_published

QUICK = ("CM01", "FI04")  # two indicators: the report renders in a few seconds


def write_export(folder: Path, n_cases: int = 300, seed: int = 7) -> Path:
    """An evaluator export as `imw export` writes it, reduced to what the analysis reads."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    cases, months = [], []
    for i in range(n_cases):
        case_id = f"c{i:04d}"
        length = int(rng.integers(8, 30))  # months 0 … length-1 observed
        plan_day = int(rng.integers(10, 200))  # a plan within 8 weeks (56 days) for about a quarter
        plan_month = plan_day // 30
        closed = int(rng.random() < 0.7)
        work, b1, flat = "KEINE", "A1", "AU"
        for m in range(length):
            if m > 0:  # monthly hazards of 5-8 %: 170-200 events per outcome
                work = (
                    "SVB"
                    if work == "SVB" or rng.random() < 0.05 + 0.03 * (m > plan_month)
                    else work
                )
                b1 = "B1" if b1 == "B1" or rng.random() < 0.06 else b1
                flat = "EIGENE_WOHNUNG" if flat != "AU" or rng.random() < 0.05 else "AU"
            contacts = int(rng.integers(0, 5))
            months.append(
                (case_id, m, contacts, int(rng.integers(0, contacts + 1)), m >= plan_month,
                 work, b1, flat)
            )  # fmt: skip
        cases.append((case_id, "CM", closed, "KEINE", "A1", "AU", plan_day,
                      f"08{1 + i % 4}"))  # fmt: skip
    pl.DataFrame(
        cases,
        schema=["case_id", "case_type", "is_closed", "outcome_arbeit_first",
                "outcome_sprache_first", "outcome_wohnen_first", "days_to_first_signature", "rb"],
        orient="row",
    ).write_parquet(folder / "cases.parquet")  # fmt: skip
    pl.DataFrame(
        months,
        schema=["case_id", "month_index", "contacts", "goal_linked_contacts", "has_signed_plan",
                "outcome_arbeit", "outcome_sprache", "outcome_wohnen"],
        orient="row",
    ).write_parquet(folder / "case_months.parquet")  # fmt: skip
    manifest = {
        "study": "wirkung-test",
        "parameters": {"from": "2023-01-01", "to": None, "k": 5},
        "build": {"latest_load_at_utc": "2026-01-15T02:00:00+00:00"},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.fixture
def home_with_report(tmp_path) -> Settings:
    settings = Settings.from_env(home=tmp_path / "home")
    make_published(settings.published_db, QUICK)
    build_report(settings.published_db, report_dir(settings.published_db))
    return settings


def _wirkung(settings: Settings) -> str:
    return (report_dir(settings.published_db) / "wirkung.html").read_text(encoding="utf-8")


def test_analyse_outcomes_publishes_into_the_home_and_renders_the_report(
    home_with_report, tmp_path, capsys
):
    settings = home_with_report
    assert "noch keine Ereignisanalyse veröffentlicht" in _wirkung(settings)
    export = write_export(tmp_path / "export")
    argv = ["analyse-outcomes", "--export", str(export), "--home", str(settings.home)]
    assert imw_main(argv) == 0
    out = capsys.readouterr().out
    target = settings.published_outcomes_dir
    # One line says what was published and where the page is.
    assert (
        f"published the outcome analysis of {export} to {target}; report rendered again: "
        f"{report_dir(settings.published_db) / 'wirkung.html'}"
    ) in out
    # published/outcomes is a link to a complete version holding the three files: the
    # summary byte for byte, the tables as the cell minimum lets them out.
    assert target == settings.home / "published" / "outcomes" and target.is_symlink()
    assert sorted(p.name for p in target.iterdir()) == sorted(PUBLISHED_FILES)
    summary = "outcome_analysis.json"
    assert (target / summary).read_bytes() == (export / summary).read_bytes()
    # wirkung.md names the standard errors the fits used (it once always said "clustered by
    # Kreis", also where too few areas made the fit fall back to robust, unclustered ones)
    fitted = pl.read_parquet(export / "outcome_models.parquet")["model"][0].split("; SE ", 1)[1]
    assert f"Standardfehler: {fitted}" in (export / "wirkung.md").read_text(encoding="utf-8")
    html = _wirkung(settings)
    assert html.count("<figure") == 2  # the forest plot and the curves
    # The curves' tails have fewer than 5 at risk (300 cases): not in the published file (each
    # cut curve keeps its cut month, numbers empty), and the page prints none of them.
    written = pl.read_parquet(export / "outcome_curves.parquet")
    assert written.filter(pl.col("at_risk") < CELL_MINIMUM).height > 0
    curves = pl.read_parquet(target / "outcome_curves.parquet")
    assert curves.filter(pl.col("at_risk") < CELL_MINIMUM).height == 0
    assert curves.filter(pl.col("at_risk").is_null()).height > 0
    table = re.findall(r"<table>.*?</table>", html, flags=re.S)[-1]  # numbers at risk
    for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", table, flags=re.S):
        cells = re.findall(r"<td class=\"num\">(.*?)</td>", row)
        assert len(cells) == 6, row
        for at_risk in cells[1::2]:
            assert at_risk in (".", "–") or int(at_risk.replace(".", "")) >= CELL_MINIMUM, row
    assert "Evaluationsexport der Studie „wirkung-test“" in html
    assert "Fälle mit Beginn vom 01.01.2023 bis zum Stand der Daten" in html

    # Again: the new version replaces the old one atomically; the previous one stays for readers
    # still in it, older ones go, no temp folder is left.
    first = target.resolve()
    assert imw_main(argv) == 0
    second = target.resolve()
    versions = settings.published_dir / VERSIONS_DIR_NAME
    assert second != first and {p.resolve() for p in versions.iterdir()} == {first, second}
    assert imw_main(argv) == 0
    assert first not in {p.resolve() for p in versions.iterdir()}
    assert len(list(versions.iterdir())) == 2


def test_no_publish_leaves_the_home_alone(home_with_report, tmp_path, capsys):
    settings = home_with_report
    export = write_export(tmp_path / "export")
    before = report_dir(settings.published_db).resolve()
    argv = ["analyse-outcomes", "--export", str(export), "--home", str(settings.home)]
    assert imw_main([*argv, "--no-publish"]) == 0
    assert "published" not in capsys.readouterr().out
    assert not settings.published_outcomes_dir.exists()
    assert report_dir(settings.published_db).resolve() == before  # not rendered again
    assert (export / "outcome_analysis.json").is_file()  # the export folder has the tables


def test_publish_without_a_report_in_the_home(tmp_path, capsys):
    settings = Settings.from_env(home=tmp_path / "home")
    export = write_export(tmp_path / "export")
    assert (
        imw_main(["analyse-outcomes", "--export", str(export), "--home", str(settings.home)]) == 0
    )
    assert "no report in" in capsys.readouterr().out
    assert (settings.published_outcomes_dir / "outcome_models.parquet").is_file()
    # The next report (here: `imw report`, as at the end of every build) shows it.
    make_published(settings.published_db, QUICK)
    assert imw_main(["report", "--home", str(settings.home)]) == 0
    assert _wirkung(settings).count("<figure") == 2


def test_publish_refuses_an_incomplete_analysis_and_someones_folder(tmp_path):
    export = write_export(tmp_path / "export")  # an export, not analysed yet
    with pytest.raises(PublishOutcomesError, match=r"missing: outcome_models\.parquet"):
        publish_outcomes(export, tmp_path / "published" / "outcomes")
    for name in PUBLISHED_FILES:
        (export / name).write_text("x")
    target = tmp_path / "published" / "outcomes"
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("someone's file")
    with pytest.raises(PublishOutcomesError, match="a folder with files in it"):
        publish_outcomes(export, target)
    assert (target / "notes.txt").read_text() == "someone's file"


def test_publication_withholds_small_numbers_at_risk_and_models_with_few_events():
    curves = pl.DataFrame(
        {
            "outcome": ["job"] * 5 + ["b1"] * 2,
            "group": ["plan"] * 5 + ["plan"] * 2,
            "month": [2, 4, 6, 9, 12, 3, 5],
            # job: 20, 9, 5 at risk are shown; 4 at month 9 cuts the curve there (kept as an
            # empty row); 6 at month 12 comes after the cut and goes, although it is >= 5
            # b1: never below 5, both rows stay whole
            "at_risk": [20, 9, 5, 4, 6, 30, 25],
            "events": [2, 1, 1, 1, 1, 3, 2],
            "survival": [0.9, 0.8, 0.64, 0.48, 0.4, 0.9, 0.83],
        }
    )
    models = pl.DataFrame(
        {
            "outcome": ["job", "b1"],
            "term": ["has_signed_plan", "has_signed_plan"],
            "hazard_ratio": [1.8, 1.2],
            "n_events": [4, 12],  # job rests on 4 events (< 5): withheld; b1 on 12: shown
        }
    )
    shown_curves, shown_models = disclosed(curves, models, minimum=5)
    job = shown_curves.filter(pl.col("outcome") == "job").sort("month")
    assert job["month"].to_list() == [2, 4, 6, 9]  # month 12 dropped
    assert job["at_risk"].to_list() == [20, 9, 5, None]  # the cut month, its number empty
    assert job["events"].to_list() == [2, 1, 1, None]
    assert job["survival"].to_list() == [0.9, 0.8, 0.64, None]
    b1 = shown_curves.filter(pl.col("outcome") == "b1").sort("month")
    assert b1["at_risk"].to_list() == [30, 25]
    assert shown_models.rows() == [
        ("job", "has_signed_plan", None, None),  # outcome and term stay, numbers go
        ("b1", "has_signed_plan", 1.2, 12),
    ]
