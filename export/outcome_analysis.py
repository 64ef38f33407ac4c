"""Outcome analysis on an evaluator export (`imw analyse-outcomes`, Dagster job
`outcome_analysis`): time to three integration outcomes against case-management exposure.

It reads only the export's files (`cases.parquet`, `case_months.parquet`, `manifest.json`), so it
sees what an evaluator sees: study pseudonyms, generalised quasi-identifiers, no provider.

Outcomes (CM cases at risk at the first contact; the event month is the first month the outcome
is observed in `case_months`):

    first_employment  ARBEIT becomes SVB or AUSBILDUNG (at risk: first ARBEIT value is neither)
    first_b1          SPRACHE becomes B1 or better     (at risk: first SPRACHE value below B1)
    moved_out_of_au   WOHNEN becomes other than AU     (at risk: first WOHNEN value AU)

Model: a discrete-time hazard model — a logit GLM on case-months (statsmodels) of the event in
the month, on the exposure as time-varying covariates

    has_signed_plan     a signed plan in place by the end of the month
    share_goal_linked   goal-linked contacts / contacts of the case up to the previous month
    contacts_per_month  contacts up to the previous month / months since the first contact
    months_since_start  time since first contact, in bands (the baseline hazard)

adjusted for age, sex, origin, prospect of staying at case start, arrival cohort and the period
of case start (each at the level the export keeps; missing values as a category) and area
fixed effects (Kreis, or RB when the export generalised it), with standard errors clustered by
that area. The export carries no provider (it would name a Gemeinde), so the clusters are the
providers' Kreise — coarser than providers, which keeps cluster-robust errors valid. With fewer
than 10 areas in the export (e.g. only the 4 RB) clustered errors would be too small: the model
then reports heteroskedasticity-robust errors with the area fixed effects and says so. Month 0 (the
month of the first contact, the baseline observation) is not at risk; the last month of a case
still open at the stand is incomplete and left out. exp(estimate) is the odds ratio of the
monthly hazard, within a few per cent of the hazard ratio when monthly hazards are small.

Kaplan–Meier curves (statsmodels `SurvfuncRight`) of the same outcomes by whether the first plan
was signed within 8 weeks, with numbers at risk — from a landmark at month 2: only cases still
observed and without the event at the start of month 2 enter, so the group a case belongs to is
known when it enters (no immortal time).

Outputs, into the export folder: `outcome_models.{csv,parquet}`, `outcome_curves.{csv,parquet}`,
`wirkung.md` (the hazard ratios and, in plain German, what this observational design can and
cannot show) and `outcome_analysis.json` (parameters and data window).
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import statsmodels.api as sm
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning
from threadpoolctl import threadpool_limits

from core.outcome_results import AT_RISK_MONTHS, DESIGN_DE, SUMMARY_FILE
from export.evaluator import ANALYSIS_FILES

OUTCOMES = {
    "first_employment": (
        "outcome_arbeit",
        ("SVB", "AUSBILDUNG"),
        "erste sozialversicherungspflichtige Beschäftigung oder Ausbildung",
    ),
    "first_b1": (
        "outcome_sprache",
        ("B1", "B2", "C1", "C2"),
        "erstmals Sprachniveau B1 oder besser",
    ),
    "moved_out_of_au": ("outcome_wohnen", ("EIGENE_WOHNUNG", "SONSTIGE"), "Auszug aus der AU"),
}
EXPOSURES = ("has_signed_plan", "share_goal_linked", "contacts_per_month")
EXPOSURE_LABELS = {
    "has_signed_plan": "signed plan in place",
    "share_goal_linked": "share of goal-linked contacts (0 → 1)",
    "contacts_per_month": "contacts per month (+1)",
}
TIME_BANDS = ((1, 3, "01-03"), (4, 6, "04-06"), (7, 12, "07-12"), (13, 24, "13-24"))
LANDMARK = 2
"""Kaplan–Meier curves start at month 2: the 8-week plan group is known by then."""
PLAN_WEEKS_DAYS = 56
MIN_CLUSTERS = 10
ADJUST = {
    "age": ("age_band", "age_band_wide", "age_group"),
    "sex": ("sex",),
    "origin": ("nationality_region", "nationality_group"),
    "prospect": ("prospect_at_start",),
    "arrival": ("arrival_year", "arrival_period", "arrival_period_4"),
    "start": ("start_year", "start_quarter", "start_month"),
}
AREAS = ("kreis", "rb")
FILES = ANALYSIS_FILES


class AnalysisError(RuntimeError):
    """The export cannot be analysed (missing files or too little data)."""


@dataclass(frozen=True)
class AnalysisResult:
    folder: Path
    models: pl.DataFrame
    curves: pl.DataFrame
    summary: dict[str, object]

    def lines(self) -> list[str]:
        out = [f"outcome analysis of {self.folder} ({self.summary['window']})"]
        for row in self.models.filter(pl.col("exposure")).iter_rows(named=True):
            out.append(
                f"  {row['outcome']:<17} {row['term']:<19} HR {row['hazard_ratio']:6.3f} "
                f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}]  p = {row['p_value']:.4f}  "
                f"({row['n_events']} events, {row['n_cases']} cases)"
            )
        out.append(f"  tables: {', '.join(FILES)}")
        return out


# --- data --------------------------------------------------------------------------------------
def _read(folder: Path) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    try:
        cases = pl.read_parquet(folder / "cases.parquet")
        panel = pl.read_parquet(folder / "case_months.parquet")
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise AnalysisError(
            f"{folder} is not an evaluator export with Parquet files (cases.parquet, "
            f"case_months.parquet, manifest.json): {err}"
        ) from err
    cat = [c for c, t in cases.schema.items() if isinstance(t, pl.Enum | pl.Categorical)]
    cases = cases.with_columns(pl.col(cat).cast(pl.String))
    cat = [c for c, t in panel.schema.items() if isinstance(t, pl.Enum | pl.Categorical)]
    panel = panel.with_columns(pl.col(cat).cast(pl.String))
    return cases, panel, manifest


def first_present(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in columns), None)


def case_month_panel(cases: pl.DataFrame, panel: pl.DataFrame) -> pl.DataFrame:
    """Case-months of CM cases with the time-varying exposure (lagged where it is a history)."""
    cm = cases.filter(pl.col("case_type") == "CM")
    last = panel.group_by("case_id").agg(pl.col("month_index").max().alias("last_month"))
    return (
        panel.join(cm.select("case_id", "is_closed"), on="case_id", how="inner")
        .join(last, on="case_id")
        .sort("case_id", "month_index")
        .with_columns(
            prev_contacts=(pl.col("contacts").cum_sum() - pl.col("contacts")).over("case_id"),
            prev_linked=(
                pl.col("goal_linked_contacts").cum_sum() - pl.col("goal_linked_contacts")
            ).over("case_id"),
        )
        .with_columns(
            share_goal_linked=pl.when(pl.col("prev_contacts") > 0)
            .then(pl.col("prev_linked") / pl.col("prev_contacts"))
            .otherwise(0.0),
            contacts_per_month=pl.col("prev_contacts") / pl.col("month_index").clip(1),
            has_signed_plan=pl.col("has_signed_plan").cast(pl.Int8),
            months_since_start=pl.col("month_index"),
        )
        # month 0 is the baseline; the stand's month of an open case is incomplete
        .filter(
            (pl.col("month_index") >= 1)
            & ~((pl.col("is_closed") == 0) & (pl.col("month_index") == pl.col("last_month")))
        )
    )


def risk_set(cases: pl.DataFrame, months: pl.DataFrame, outcome: str) -> pl.DataFrame:
    """The case-months at risk of `outcome`, up to and including the event month (event = 1)."""
    column, values, _ = OUTCOMES[outcome]
    first = f"{column}_first"
    at_risk = cases.filter(
        (pl.col("case_type") == "CM")
        & pl.col(first).is_not_null()
        & ~pl.col(first).is_in(list(values))
        & ((pl.col(first) == "AU") if outcome == "moved_out_of_au" else pl.lit(True))
    ).select("case_id")
    rows = months.join(at_risk, on="case_id", how="semi").with_columns(
        event=pl.col(column).is_in(list(values)).fill_null(False).cast(pl.Int8)
    )
    event_month = (
        rows.filter(pl.col("event") == 1)
        .group_by("case_id")
        .agg(pl.col("month_index").min().alias("event_month"))
    )
    return (
        rows.join(event_month, on="case_id", how="left")
        .filter(pl.col("event_month").is_null() | (pl.col("month_index") <= pl.col("event_month")))
        .drop("event_month")
    )


def _time_band(expr: pl.Expr) -> pl.Expr:
    out = pl.lit("25+")
    for lo, hi, label in reversed(TIME_BANDS):
        out = pl.when(expr.is_between(lo, hi)).then(pl.lit(label)).otherwise(out)
    return out


# --- models ------------------------------------------------------------------------------------
def design_matrix(data: pl.DataFrame, categorical: list[str]) -> tuple[np.ndarray, list[str]]:
    """Intercept, exposures and treatment-coded dummies (first level in sorted order left out)."""
    parts = [pl.lit(1.0).alias("intercept"), *(pl.col(e).cast(pl.Float64) for e in EXPOSURES)]
    for col in ["time_band", *categorical]:
        value = pl.col(col).cast(pl.String).fill_null("(missing)")
        levels = sorted(data.select(value.unique()).to_series().to_list())
        parts += [(value == lv).cast(pl.Float64).alias(f"{col}[{lv}]") for lv in levels[1:]]
    frame = data.select(parts)
    return frame.to_numpy(), frame.columns


def fit_hazard(
    cases: pl.DataFrame, months: pl.DataFrame, outcome: str, window: str
) -> pl.DataFrame:
    rows = risk_set(cases, months, outcome)
    adjust = [c for c in (first_present(cases.columns, v) for v in ADJUST.values()) if c]
    area = first_present(cases.columns, AREAS)
    keep = ["case_id", *adjust, *([area] if area else [])]
    data = rows.join(cases.select(keep), on="case_id", how="left").with_columns(
        *(pl.col(c).cast(pl.String).fill_null("(missing)") for c in adjust),
        time_band=_time_band(pl.col("months_since_start")),
    )
    n_events = int(data.get_column("event").sum())
    n_cases = data.get_column("case_id").n_unique()
    if n_events < 10 or data.height < 50:
        raise AnalysisError(
            f"{outcome}: {n_events} events in {data.height} case-months — too few to fit"
        )
    y = data.get_column("event").to_numpy().astype(float)
    x, names = design_matrix(data, [*adjust, *([area] if area else [])])
    clusters = 0
    if area:
        _, groups = np.unique(
            data.get_column(area).cast(pl.String).fill_null("(missing)").to_numpy(),
            return_inverse=True,
        )
        clusters = int(groups.max()) + 1
    # one BLAS thread: on a shared machine OpenBLAS threads spin against each other (10× slower)
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, PerfectSeparationWarning))
        model = sm.GLM(y, x, family=sm.families.Binomial())
        if clusters >= MIN_CLUSTERS:
            fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
            se_kind = f"cluster-robust by {area} ({clusters} clusters)"
        else:
            # cluster-robust errors with a handful of clusters are too small; the area fixed
            # effects absorb what the areas share, and case-months of one case need no
            # clustering in a discrete-time hazard model (the likelihood factorises by month)
            fit = model.fit(cov_type="HC1")
            se_kind = (
                f"heteroskedasticity-robust, not clustered: {clusters} {area or 'area'} value(s) "
                f"in the export, fewer than the {MIN_CLUSTERS} clusters robust errors need"
            )
    ci = fit.conf_int()
    result = pl.DataFrame(
        {
            "term": names,
            "estimate": fit.params,
            "std_error": fit.bse,
            "ci_low_log": ci[:, 0],
            "ci_high_log": ci[:, 1],
            "p_value": fit.pvalues,
        }
    )
    result = result.filter(pl.col("term") != "intercept").with_columns(
        outcome=pl.lit(outcome),
        exposure=pl.col("term").is_in(list(EXPOSURES)),
        hazard_ratio=pl.col("estimate").exp(),
        ci_low=pl.col("ci_low_log").exp(),
        ci_high=pl.col("ci_high_log").exp(),
        n_cases=pl.lit(n_cases),
        n_events=pl.lit(n_events),
        n_case_months=pl.lit(data.height),
        n_clusters=pl.lit(clusters),
        model=pl.lit(f"discrete-time hazard, logit GLM on case-months; SE {se_kind}"),
        data_window=pl.lit(window),
    )
    return result.select(
        "outcome", "term", "exposure", "estimate", "std_error", "hazard_ratio", "ci_low",
        "ci_high", "p_value", "n_cases", "n_events", "n_case_months", "n_clusters", "model",
        "data_window",
    )  # fmt: skip


def km_curves(cases: pl.DataFrame, months: pl.DataFrame, outcome: str) -> pl.DataFrame:
    """Kaplan–Meier by plan signed within 8 weeks, from the landmark month, with numbers at risk."""
    rows = risk_set(cases, months, outcome)
    per_case = (
        rows.group_by("case_id")
        .agg(
            pl.col("month_index").min().alias("entry"),
            pl.col("month_index").max().alias("time"),
            pl.col("event").max().alias("status"),
        )
        .filter((pl.col("entry") <= LANDMARK) & (pl.col("time") >= LANDMARK))
        .join(cases.select("case_id", "days_to_first_signature"), on="case_id")
        .with_columns(
            group=pl.when(pl.col("days_to_first_signature") <= PLAN_WEEKS_DAYS)
            .then(pl.lit("plan within 8 weeks"))
            .otherwise(pl.lit("no plan within 8 weeks"))
        )
    )
    parts = []
    for group in ("plan within 8 weeks", "no plan within 8 weeks"):
        g = per_case.filter(pl.col("group") == group)
        if g.height == 0:
            continue
        # time on the case's month scale; the landmark month is its start
        sf = SurvfuncRight(
            g.get_column("time").to_numpy().astype(float),
            g.get_column("status").to_numpy().astype(float),
            entry=np.full(g.height, LANDMARK - 1, dtype=float),
        )
        lo, hi = _pointwise_ci(sf)
        parts.append(
            pl.DataFrame(
                {
                    "outcome": outcome,
                    "group": group,
                    "month": sf.surv_times.astype(np.int64),
                    "at_risk": sf.n_risk.astype(np.int64),
                    "events": sf.n_events.astype(np.int64),
                    "survival": sf.surv_prob,
                    "ci_low": lo,
                    "ci_high": hi,
                    "cumulative_incidence": 1 - sf.surv_prob,
                    "n_cases": g.height,
                }
            )
        )
    if not parts:
        raise AnalysisError(f"{outcome}: no case at risk at the landmark month {LANDMARK}")
    return pl.concat(parts)


def _pointwise_ci(sf: SurvfuncRight) -> tuple[np.ndarray, np.ndarray]:
    """95 % pointwise interval on the log(−log) scale (bounded in [0, 1])."""
    s = np.clip(sf.surv_prob, 1e-12, 1.0)
    se = sf.surv_prob_se
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = se / (s * np.abs(np.log(s)))
        lo = np.where(s < 1, s ** np.exp(1.96 * sd), np.nan)
        hi = np.where(s < 1, s ** np.exp(-1.96 * sd), np.nan)
    return lo, hi


# --- report ------------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def wirkung_markdown(models: pl.DataFrame, curves: pl.DataFrame, window: str) -> str:
    # how the errors were computed, as the fits say (clustered by area only with enough areas)
    errors = "; ".join(
        m.split("; SE ", 1)[-1] for m in models.get_column("model").unique(maintain_order=True)
    )
    lines = [
        "# Wirkung — Fallarbeit und Integrationsergebnisse",
        "",
        f"Datenfenster: {window}. Modell: zeitdiskretes Hazard-Modell (Logit auf Fallmonaten), "
        f"adjustiert; Standardfehler: {errors} (`outcome_models.csv`).",
        "",
        "| Ergebnis | Einflussgröße | Hazard-Ratio | 95 %-KI | p | Ereignisse | Fälle |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for row in models.filter(pl.col("exposure")).iter_rows(named=True):
        lines.append(
            f"| {OUTCOMES[row['outcome']][2]} | {EXPOSURE_LABELS[row['term']]} | "
            f"{_fmt(row['hazard_ratio'])} | {_fmt(row['ci_low'])}–{_fmt(row['ci_high'])} | "
            f"{row['p_value']:.4f} | {row['n_events']} | {row['n_cases']} |"
        )
    lines += ["", "## Kaplan–Meier (ab Monat 2), Anteil noch ohne Ergebnis, unter Risiko", ""]
    months = " | ".join(f"Monat {m}" for m in AT_RISK_MONTHS)
    lines += [f"| Ergebnis | Gruppe | {months} |", "|---|---|" + "---|" * len(AT_RISK_MONTHS)]
    for (outcome, group), g in curves.group_by(["outcome", "group"], maintain_order=True):
        cells = []
        for month in AT_RISK_MONTHS:
            upto = g.filter(pl.col("month") <= month)
            if upto.height == 0:
                cells.append("1.000 (–)")
                continue
            last = upto.row(-1, named=True)
            later = g.filter(pl.col("month") >= month)
            n = later.row(0, named=True)["at_risk"] if later.height else 0
            cells.append(f"{last['survival']:.3f} (n = {n})")
        lines.append(f"| {OUTCOMES[outcome][2]} | {group} | {' | '.join(cells)} |")
    lines += ["", "## Grenzen des Designs", "", DESIGN_DE, ""]
    return "\n".join(lines)


def analyse_export(folder: Path) -> AnalysisResult:
    """Fit the models and curves on the export in `folder` and write the tables into it."""
    folder = Path(folder)
    cases, panel, manifest = _read(folder)
    p = manifest.get("parameters", {})
    window = f"cases started {p.get('from') or 'from the start'} to {p.get('to') or 'the stand'}"
    months = case_month_panel(cases, panel)
    models = pl.concat([fit_hazard(cases, months, o, window) for o in OUTCOMES])
    curves = pl.concat([km_curves(cases, months, o) for o in OUTCOMES])
    for name, frame in (("outcome_models", models), ("outcome_curves", curves)):
        frame.write_csv(folder / f"{name}.csv", float_precision=6, line_terminator="\n")
        frame.write_parquet(folder / f"{name}.parquet", statistics=False)
    (folder / "wirkung.md").write_text(wirkung_markdown(models, curves, window), encoding="utf-8")
    summary = {
        "export": manifest.get("study"),
        "window": window,
        "window_from": p.get("from"),
        "window_to": p.get("to"),
        "data_latest_load_at_utc": manifest.get("build", {}).get("latest_load_at_utc"),
        "export_k": p.get("k"),
        "outcomes": {o: OUTCOMES[o][2] for o in OUTCOMES},
        "exposures": EXPOSURE_LABELS,
        "adjusted_for": [first_present(cases.columns, v) for v in ADJUST.values()],
        "area_fixed_effects_and_clusters": first_present(cases.columns, AREAS),
        "landmark_month_for_curves": LANDMARK,
        "design": DESIGN_DE,
    }
    (folder / SUMMARY_FILE).write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return AnalysisResult(folder, models, curves, summary)
