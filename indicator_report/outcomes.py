"""The Wirkung page: the outcome analysis last published by `imw analyse-outcomes` into the
warehouse home (`Settings.published_outcomes_dir`; the files in core/outcome_results.py), with
a forest plot of the hazard ratios, the Kaplan–Meier curves and what the design cannot show.

The report is public, so the page applies the warehouse's cell minimum (`CELL_MINIMUM`, the one
definition in dbt_project.yml) to what the evaluator's analysis wrote:

- a Kaplan–Meier curve is cut before the first time its number at risk falls below the minimum
  (nothing after it is drawn or printed, so no number at risk below the minimum appears);
- a model resting on fewer events than the minimum is not shown, and the page says which.

Nothing here imports the analysis (export/ is a sibling layer): the page reads the files.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from core.outcome_results import (
    AT_RISK_MONTHS,
    CURVES_FILE,
    DESIGN_DE,
    MODELS_FILE,
    PUBLISHED_FILES,
    SUMMARY_FILE,
)
from disclosure import CELL_MINIMUM
from indicator_report import charts
from indicator_report import formatting as fmt
from indicator_report.content import FINDINGS_DE, REQUESTS_DE, Counter

COMMAND = "imw analyse-outcomes --export ORDNER"
"""How an operator produces what this page shows (named on the page when nothing is published)."""

MODEL_COLUMNS = (
    "outcome", "term", "exposure", "hazard_ratio", "ci_low", "ci_high", "p_value", "n_cases",
    "n_events", "n_case_months", "n_clusters", "model",
)  # fmt: skip
CURVE_COLUMNS = ("outcome", "group", "month", "at_risk", "survival", "ci_low", "ci_high")

EXPOSURES_DE = {
    "has_signed_plan": "unterschriebener Integrationsplan liegt vor",
    "share_goal_linked": "Anteil zielbezogener Kontakte (0 → 1)",
    "contacts_per_month": "Kontakte je Monat (+1)",
}
GROUPS_DE = {
    "plan within 8 weeks": "Plan binnen 8 Wochen",
    "no plan within 8 weeks": "kein Plan binnen 8 Wochen",
}
# The export's quasi-identifiers and areas at the level it kept them (export/anonymity.py).
ADJUSTED_DE = {
    "age_band": "Altersgruppe", "age_band_wide": "Altersgruppe (grob)",
    "age_group": "minderjährig/volljährig", "sex": "Geschlecht",
    "nationality_group": "Staatsangehörigkeitsgruppe", "nationality_region": "Weltregion",
    "prospect_at_start": "Bleibeperspektive bei Fallbeginn", "arrival_year": "Einreisejahr",
    "arrival_period": "Einreisezeitraum (2 Jahre)",
    "arrival_period_4": "Einreisezeitraum (4 Jahre)",
    "start_year": "Jahr des Fallbeginns", "start_quarter": "Quartal des Fallbeginns",
    "start_month": "Monat des Fallbeginns", "kreis": "Kreis", "rb": "Regierungsbezirk",
}  # fmt: skip


class PublishedOutcomesError(ValueError):
    """The published outcome analysis lacks a file or column the page needs."""


@dataclass(frozen=True)
class Outcomes:
    """The published analysis as read, before disclosure control."""

    models: pl.DataFrame
    curves: pl.DataFrame
    summary: dict


def load(outcomes_dir: Path | None) -> Outcomes | None:
    """The analysis published at `outcomes_dir`, or None when none is published there."""
    if outcomes_dir is None or not any((outcomes_dir / f).exists() for f in PUBLISHED_FILES):
        return None
    try:
        models = pl.read_parquet(outcomes_dir / MODELS_FILE)
        curves = pl.read_parquet(outcomes_dir / CURVES_FILE)
        summary = json.loads((outcomes_dir / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise PublishedOutcomesError(
            f"the outcome analysis published at {outcomes_dir} cannot be read: {err}"
        ) from err
    missing = [f"{MODELS_FILE}:{c}" for c in MODEL_COLUMNS if c not in models.columns] + [
        f"{CURVES_FILE}:{c}" for c in CURVE_COLUMNS if c not in curves.columns
    ]
    if missing or not isinstance(summary, dict):
        raise PublishedOutcomesError(
            f"the outcome analysis published at {outcomes_dir} lacks {', '.join(missing)}; "
            "publish it again with `imw analyse-outcomes`"
        )
    return Outcomes(models, curves, summary)


# --- disclosure control ------------------------------------------------------------------------
def shown_curves(curves: pl.DataFrame, minimum: int = CELL_MINIMUM) -> pl.DataFrame:
    """Each curve up to (not including) the first row whose number at risk is below `minimum`."""
    # an empty number at risk: the publication cut the curve there (export/outcome_publish.py)
    small = pl.col("at_risk").is_null() | (pl.col("at_risk") < minimum)
    below = small.cast(pl.Int32).cum_sum().over("outcome", "group")
    return curves.sort("outcome", "group", "month").filter(below == 0)


def shown_models(models: pl.DataFrame, minimum: int = CELL_MINIMUM) -> pl.DataFrame:
    """The rows of models that rest on at least `minimum` events (an empty count: withheld by
    the publication)."""
    return models.filter(pl.col("n_events").is_not_null() & (pl.col("n_events") >= minimum))


# --- the page ----------------------------------------------------------------------------------
def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _ratio(x: float | None) -> str:
    return fmt.decimal(x, "#,##0.00") if _finite(x) else fmt.NOT_MEANINGFUL


def _p_value(p: float | None) -> str:
    if not _finite(p):
        return fmt.NOT_MEANINGFUL
    return "< 0,001" if p < 0.001 else fmt.decimal(p, "0.000")


def _percent(x: float) -> str:
    return fmt.value(x, "share")


def _day(iso: str | None) -> str | None:
    if not iso:
        return None
    try:
        return fmt.day(datetime.fromisoformat(iso).date())
    except ValueError:
        return None


def window_de(summary: dict) -> str:
    """The data window in German, from the analysis's parameters (its own text as a fallback)."""
    if "window_from" not in summary and "window_to" not in summary:
        return str(summary.get("window", "unbekannt"))
    start = _day(summary.get("window_from"))
    end = _day(summary.get("window_to"))
    stand = _day(summary.get("data_latest_load_at_utc"))
    first = f"vom {start}" if start else "seit Beginn der Daten"
    last = f"bis {end}" if end else "bis zum Stand der Daten"
    text = f"Fälle mit Beginn {first} {last}"
    return text + (f" (Datenstand {stand})" if stand else "")


def _standard_errors(models: pl.DataFrame, area: str | None) -> str:
    area_de = ADJUSTED_DE.get(area or "", "Gebiet")
    row = models.row(0, named=True) if models.height else None
    if row is None:
        return ""
    clusters = int(row["n_clusters"] or 0)
    if "cluster-robust" in str(row["model"]):
        return f"Standardfehler nach {area_de} geclustert ({clusters} Cluster)."
    return (
        f"Standardfehler heteroskedastie-robust, nicht geclustert: Der Export enthält nur "
        f"{clusters} Werte für {area_de}, zu wenige für geclusterte Standardfehler."
    )


def _outcome_label(summary: dict, outcome: str) -> str:
    return str((summary.get("outcomes") or {}).get(outcome, outcome))


def _curve_rows(curves: pl.DataFrame, summary: dict, groups: list[str]) -> pl.DataFrame:
    """Cumulative incidence (1 − survival) with its band, each curve starting at 0 at the entry
    month (the landmark month − 1), for the chart."""
    if curves.height == 0:
        return curves
    landmark = int(summary.get("landmark_month_for_curves") or curves["month"].min())
    shown = curves.select(
        "outcome",
        "group",
        "month",
        (1 - pl.col("survival")).alias("incidence"),
        (1 - pl.col("ci_high")).fill_nan(None).alias("lo"),
        (1 - pl.col("ci_low")).fill_nan(None).alias("hi"),
    ).with_columns(
        pl.col("lo").fill_null(pl.col("incidence")), pl.col("hi").fill_null(pl.col("incidence"))
    )
    starts = (
        shown.select("outcome", "group")
        .unique(maintain_order=True)  # the chart draws its groups in this order: the same always
        .with_columns(
            month=pl.lit(landmark - 1, dtype=shown.schema["month"]),
            incidence=pl.lit(0.0),
            lo=pl.lit(0.0),
            hi=pl.lit(0.0),
        )
    )
    return (
        pl.concat([starts, shown])
        .with_columns(pl.col("group").replace_strict(GROUPS_DE, default=pl.col("group")))
        .filter(pl.col("group").is_in(groups))
    )


def _at_risk_rows(
    curves: pl.DataFrame, shown: pl.DataFrame, summary: dict, outcomes: list[str]
) -> list[dict]:
    """Per outcome and group: the share with the outcome and the number at risk at each of
    AT_RISK_MONTHS — "." where the curve is cut (fewer than the minimum at risk), "–" where no
    event follows that month (the number at risk is not known from the curve)."""
    out = []
    for outcome in outcomes:
        for group in GROUPS_DE:
            full = curves.filter((pl.col("outcome") == outcome) & (pl.col("group") == group))
            if full.height == 0:
                continue
            full = full.sort("month")
            kept = shown.filter((pl.col("outcome") == outcome) & (pl.col("group") == group))
            # the curve is cut at its first row with fewer than the minimum at risk
            cut = full.filter(pl.col("at_risk").is_null() | (pl.col("at_risk") < CELL_MINIMUM))
            cut_month = cut["month"].min() if cut.height else None
            cells = []
            for month in AT_RISK_MONTHS:
                later = full.filter(pl.col("month") >= month)
                nxt = later.row(0, named=True) if later.height else None
                if cut_month is not None and (nxt is None or nxt["month"] >= cut_month):
                    cells.append({"share": fmt.SUPPRESSED, "at_risk": fmt.SUPPRESSED})
                    continue
                if nxt is None:
                    cells.append({"share": fmt.NOTHING, "at_risk": fmt.NOTHING})
                    continue
                upto = kept.filter(pl.col("month") <= month)
                share = 1 - upto.row(-1, named=True)["survival"] if upto.height else 0.0
                cells.append(
                    {"share": _percent(share), "at_risk": fmt.decimal(nxt["at_risk"], "#,##0")}
                )
            out.append(
                {
                    "outcome": _outcome_label(summary, outcome),
                    "group": GROUPS_DE[group],
                    "cells": cells,
                }
            )
    return out


def wirkung_page(found: Outcomes | None) -> dict:
    """What the Wirkung page shows: {"published": False, ...} when no analysis is published."""
    page: dict = {
        "published": found is not None,
        "command": COMMAND,
        "design": DESIGN_DE,
        "minimum": CELL_MINIMUM,
        "months": list(AT_RISK_MONTHS),
        "finding": FINDINGS_DE[6],
        "request": REQUESTS_DE[3],
    }
    if found is None:
        return page
    counter = Counter()
    summary = found.summary
    outcome_codes = found.models["outcome"].unique(maintain_order=True).to_list()
    outcome_codes += [
        o for o in found.curves["outcome"].unique(maintain_order=True).to_list()
        if o not in outcome_codes
    ]  # fmt: skip
    exposures = found.models.filter(pl.col("exposure"))
    shown = shown_models(exposures)
    withheld = [
        _outcome_label(summary, o)
        for o in exposures["outcome"].unique(maintain_order=True).to_list()
        if o not in set(shown["outcome"].to_list())
    ]
    labels = [_outcome_label(summary, o) for o in outcome_codes]
    terms = [t for t in EXPOSURES_DE if t in set(shown["term"].to_list())]
    terms += [t for t in shown["term"].unique(maintain_order=True).to_list() if t not in terms]
    term_labels = [EXPOSURES_DE.get(t, t) for t in terms]
    forest = curves_figure = None
    forest_rows = shown.filter(
        pl.col("hazard_ratio").is_finite()
        & pl.col("ci_low").is_finite()
        & pl.col("ci_high").is_finite()
        & (pl.col("ci_low") > 0)
    ).select(
        pl.col("outcome").replace_strict(
            {o: _outcome_label(summary, o) for o in outcome_codes}, default=pl.col("outcome")
        ),
        pl.col("term").replace_strict(EXPOSURES_DE, default=pl.col("term")),
        pl.col("hazard_ratio").alias("hr"),
        pl.col("ci_low").alias("lo"),
        pl.col("ci_high").alias("hi"),
    )
    if forest_rows.height:
        shown_labels = [o for o in labels if o in set(forest_rows["outcome"].to_list())]
        forest = counter.figure(
            charts.Later(charts.forest, forest_rows, shown_labels, term_labels),
            "Hazard-Ratios der Fallarbeit je Ergebnis",
            "Punkt: geschätztes Hazard-Ratio (Verhältnis der monatlichen Chance auf das "
            "Ergebnis), Linie: 95-%-Konfidenzintervall, gestrichelt: 1 = kein Unterschied. "
            "Rechts von 1 wird das Ergebnis in Fallmonaten mit der Einflussgröße häufiger "
            "erreicht – ein Zusammenhang, keine nachgewiesene Wirkung.",
        )
    model_table = counter.table()
    model_rows = [
        {
            "outcome": _outcome_label(summary, r["outcome"]),
            "term": EXPOSURES_DE.get(r["term"], r["term"]),
            "hr": _ratio(r["hazard_ratio"]),
            "ci": f"{_ratio(r['ci_low'])}–{_ratio(r['ci_high'])}",
            "p": _p_value(r["p_value"]),
            "events": fmt.decimal(r["n_events"], "#,##0"),
            "cases": fmt.decimal(r["n_cases"], "#,##0"),
            "case_months": fmt.decimal(r["n_case_months"], "#,##0"),
        }
        for r in shown.iter_rows(named=True)
    ]
    curves = shown_curves(found.curves)
    groups = [GROUPS_DE[g] for g in GROUPS_DE]
    chart_rows = _curve_rows(curves, summary, groups)
    if chart_rows.height:
        curve_labels = {o: _outcome_label(summary, o) for o in outcome_codes}
        chart_rows = chart_rows.with_columns(
            pl.col("outcome").replace_strict(curve_labels, default=pl.col("outcome"))
        )
        curves_figure = counter.figure(
            charts.Later(
                charts.incidence_curves,
                chart_rows,
                [o for o in labels if o in set(chart_rows["outcome"].to_list())],
                groups,
            ),
            "Kaplan–Meier: Anteil mit Ergebnis nach Integrationsplan binnen 8 Wochen",
            f"Kumulierter Anteil der Fälle, die das Ergebnis erreicht haben, ab Monat "
            f"{summary.get('landmark_month_for_curves', 2)} nach dem Erstkontakt, für Fälle "
            "mit und ohne unterschriebenen Plan in den ersten 8 Wochen; Fläche: punktweises "
            "95-%-Konfidenzintervall. Jede Kurve endet, bevor weniger als "
            f"{CELL_MINIMUM} Personen unter Risiko sind.",
        )
    at_risk_table = counter.table()
    area = summary.get("area_fixed_effects_and_clusters")
    adjusted = [ADJUSTED_DE.get(c, c) for c in summary.get("adjusted_for") or [] if c]
    withheld_note = (
        " Nicht gezeigt, weil auf weniger als "
        f"{CELL_MINIMUM} Ereignissen beruhend: {', '.join(withheld)} („.“)."
        if withheld
        else ""
    )
    page.update(
        {
            "window": window_de(summary),
            "study": summary.get("export"),
            "k": summary.get("export_k"),
            "adjusted": adjusted,
            "area": ADJUSTED_DE.get(area, area) if area else None,
            "standard_errors": _standard_errors(exposures, area),
            "landmark": summary.get("landmark_month_for_curves", 2),
            "forest": forest,
            "curves": curves_figure,
            "model_table": model_table,
            "model_rows": model_rows,
            "withheld": withheld,
            "model_note": (
                f"Modelle, die auf weniger als {CELL_MINIMUM} Ereignissen beruhen, werden nicht "
                "gezeigt." + withheld_note + " Hazard-Ratios hier sind Odds-Ratios der monatlichen "
                "Chance (bei monatlichen Raten von wenigen Prozent fast gleich)."
            ),
            "at_risk_table": at_risk_table,
            "at_risk_rows": _at_risk_rows(found.curves, curves, summary, outcome_codes),
            "at_risk_note": (
                f"„.“: nicht dargestellt, weil weniger als {CELL_MINIMUM} Personen unter Risiko "
                "waren (die Kurve endet vorher); „–“: nach diesem Monat wurde kein Ereignis mehr "
                "beobachtet, die Zahl unter Risiko ist daraus nicht bestimmbar. Unter Risiko: "
                "Fälle, die beim nächsten beobachteten Ereignis ab diesem Monat noch ohne "
                "Ergebnis beobachtet wurden."
            ),
        }
    )
    return page
