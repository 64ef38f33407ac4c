"""The outcome analysis recovers the generator's known effects from the evaluator export alone.

Two `demo` worlds (seed 1), each generated, built and exported once per session: the world with
the known effects and the same world with no effect, each built as far as the export reads
(ingest and the models upstream of `exports`: tests/partial_build.py). The truth is
in ground_truth.json (`outcome_effects`, from synthetic/effects.py); the warehouse, the
export and the analysis never see it.

Power: on demo (whole history, k = 5 → RB and start quarter kept) about 1,700 CM cases start
without employment and give about 440 first-employment events; the standard error of the log
odds ratio of a signed plan is ≈ 0.13, so for the true 2.0 the interval excludes 1 unless the
estimate falls 5 standard errors short (power > 99 %). About 1,500 cases start below B1 and give
about 270 B1 events; the standard error of the log odds ratio per unit share of goal-linked
contacts is ≈ 0.38, so for the true 4.0 (log 1.39, z ≈ 3.7) the power is ≈ 0.95. The seed is
fixed; the no-effect world checks that the intervals do cover 1 where nothing was planted.
Cost per world (2026-12-03, idle): generate 1 s, the partial build 77-79 s (ingest of 133 files and
25 dbt models), export 6 s, analysis 3 s; 1.7 GB peak. Signed plan on first employment in the
effect world: HR 2.02 [1.57, 2.58] for a true 2.0.
"""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from export.evaluator import ExportParams, run_export
from export.outcome_analysis import analyse_export

# Demo scale (three minutes for the two worlds): run by `make test-long`, outside `make test`.
pytestmark = [pytest.mark.slow, pytest.mark.long]

KEY = b"outcome-truth-study-key-0123456789"


def _analyse(world, tmp_path_factory, name: str):
    settings, truth = world
    root = tmp_path_factory.mktemp(name)
    (root / "study.key").write_bytes(KEY)
    params = ExportParams(
        study=name,
        key_file=root / "study.key",
        date_from=None,
        date_to=None,
        formats=("parquet",),
        k=5,
        out=root / "export",
    )
    exported = run_export(settings, params)
    return truth, exported, analyse_export(exported.out)


@pytest.fixture(scope="module")
def effect(outcome_world, tmp_path_factory):
    return _analyse(outcome_world, tmp_path_factory, "truth_effect")


@pytest.fixture(scope="module")
def no_effect(outcome_world_no_effect, tmp_path_factory):
    return _analyse(outcome_world_no_effect, tmp_path_factory, "truth_no_effect")


def _row(result, outcome: str, term: str) -> dict:
    rows = result.models.filter((pl.col("outcome") == outcome) & (pl.col("term") == term))
    assert rows.height == 1, f"{outcome}/{term} missing"
    return rows.row(0, named=True)


CHECKS = (
    ("first_employment", "has_signed_plan", "plan_on_employment"),
    ("first_b1", "share_goal_linked", "goal_links_on_language"),
)


@pytest.mark.parametrize(("outcome", "term", "truth_key"), CHECKS)
def test_interval_covers_the_true_effect_and_excludes_one(effect, outcome, term, truth_key):
    truth, _, result = effect
    true_or = truth["outcome_effects"][truth_key]
    assert true_or > 1
    row = _row(result, outcome, term)
    assert row["ci_low"] <= true_or <= row["ci_high"], (outcome, row)
    assert row["ci_low"] > 1, f"{outcome}: the interval must exclude 1: {row}"


@pytest.mark.parametrize(("outcome", "term", "truth_key"), CHECKS)
def test_no_effect_world_interval_covers_one(no_effect, outcome, term, truth_key):
    truth, _, result = no_effect
    assert truth["outcome_effects"][truth_key] == 1.0
    row = _row(result, outcome, term)
    assert row["ci_low"] <= 1 <= row["ci_high"], (outcome, row)


def test_tables_and_report_are_written_into_the_export(effect):
    _, exported, result = effect
    folder = exported.out
    models = pl.read_parquet(folder / "outcome_models.parquet")
    assert set(models.get_column("outcome")) == {
        "first_employment",
        "first_b1",
        "moved_out_of_au",
    }
    assert models.filter("exposure").height == 9  # 3 outcomes × 3 exposure terms
    for col in ("estimate", "hazard_ratio", "ci_low", "ci_high", "p_value", "n_cases"):
        assert models.get_column(col).null_count() == 0, col
    curves = pl.read_csv(folder / "outcome_curves.csv")
    assert set(curves.get_column("group")) == {"plan within 8 weeks", "no plan within 8 weeks"}
    # Kaplan-Meier: survival never rises, numbers at risk never rise, within each curve
    for (_, _), g in curves.group_by(["outcome", "group"]):
        g = g.sort("month")
        assert (g.get_column("survival").diff().drop_nulls() <= 1e-12).all()
        assert (g.get_column("at_risk").diff().drop_nulls() <= 0).all()
    wirkung = (folder / "wirkung.md").read_text(encoding="utf-8")
    assert "keine Wirkungen" in wirkung and "natürliches Experiment" in wirkung
    info = json.loads((folder / "outcome_analysis.json").read_text(encoding="utf-8"))
    assert info["landmark_month_for_curves"] == 2
    # the export folder with the analysis in it can be exported again (the files are known)
    assert result.folder == folder


def test_readme_example_keeps_at_least_95_percent_of_demo_cases(outcome_world, tmp_path):
    # README, evaluators: --from 2023-01-01 --to 2025-12-31 --k 5, default limit 1 %. The old
    # fixed ladder kept 417 of 952 cases here; the search must keep >= 95 % and its promise.
    settings, _ = outcome_world
    (tmp_path / "study.key").write_bytes(KEY)
    result = run_export(
        settings,
        ExportParams(
            study="integration-2026",
            key_file=tmp_path / "study.key",
            date_from=date(2023, 1, 1),
            date_to=date(2025, 12, 31),
            formats=("parquet",),
            k=5,
            out=tmp_path / "export",
        ),
    )
    n = result.cases_in_window
    kept = result.row_counts["cases"]
    assert n > 900, "the window holds the demo's 2023-2025 cases"
    assert kept >= 0.95 * n, f"kept {kept} of {n}"
    assert result.suppressed_rows <= 0.01 * n
    manifest = json.loads((result.out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["k_anonymity"]["suppressed_cases"] == n - kept
    assert manifest["k_anonymity"]["loss_measure"].startswith("non-uniform entropy")
