"""Ground truth: the generator's true per-provider rates and their Land-level averages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from synthetic.providers import Providers
from synthetic.snapshot import PROVIDER

ASSESSED = ("ERREICHT", "TEILWEISE", "NICHT_ERREICHT")

NOTES = {
    "providers": "Per provider the generator's parameters (true rates), not values recomputed "
    "from the data.",
    "plan_coverage": "Probability that a CM case lasting at least 56 days gets a signed plan "
    "(signed before the case closes). Recovered by CM01.",
    "goal_attainment": "Probability that an assessed goal (ERREICHT/TEILWEISE/NICHT_ERREICHT) is "
    "ERREICHT. Recovered by CM05.",
    "goal_linked_share": "Share of contacts of CM cases carrying a ziel_id. Only contacts on or "
    "after the agreement of one of the case's goals can be linked; their link probability is set "
    "per provider and year to min(1, share / eligible share), so the share holds wherever enough "
    "contacts qualify (not in the programme's first months). Recovered by CM08.",
    "obliged_to_leave_share": "Probability that a person's residence status during counselling "
    "is in category AUSREISEPFLICHTIG; the status is stable from the first contact to the end of "
    "the person's last case. Recovered by EL02 (share of contacts).",
    "n_cm_cases": "CM cases of the provider in the delivered snapshot.",
    "land": "Weighted means of the provider parameters for land_period, the latest complete "
    "calendar year before stand, weights counted in the delivered data of that year: CM01 by CM "
    "cases in CM01's denominator, CM05 by goals assessed (ERREICHT/TEILWEISE/NICHT_ERREICHT) in "
    "the year, CM08 by contacts of CM cases, EL02 by contacts. Indicators computed as in "
    "docs/indicators.md recover them up to sampling noise; CM01 runs about 1 % low because a late "
    "first signature (more than 8 weeks) can fall after the end of the period.",
    "land_basis": "The summed weights (denominator sizes) behind each Land value.",
}


def land_year(stand: date) -> int:
    return stand.year if (stand.month, stand.day) == (12, 31) else stand.year - 1


def truth_input(extract: str, frame: pl.DataFrame, year: int) -> pl.DataFrame | None:
    """The slice of a delivered extract the Land weights need (None: not needed)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    if extract == "faelle":
        return frame.select(PROVIDER, "fall_id", "fallart", "erstkontakt_datum", "abschluss_datum")
    if extract == "ziele":
        return frame.filter(
            pl.col("status").is_in(ASSESSED) & pl.col("bewertet_am").is_between(start, end)
        ).select(PROVIDER)
    if extract == "kontakte":
        return frame.filter(pl.col("datum").is_between(start, end)).select(PROVIDER, "fall_id")
    return None


def _weights(inputs: dict[str, pl.DataFrame], year: int) -> dict[str, dict[str, int]]:
    start, end = date(year, 1, 1), date(year, 12, 31)
    cm = inputs["faelle"].filter(pl.col("fallart") == "CM")
    stop = pl.min_horizontal(pl.col("abschluss_datum").fill_null(end), pl.lit(end))
    cm01 = cm.filter(
        (pl.col("erstkontakt_datum") <= end)
        & (pl.col("abschluss_datum").is_null() | (pl.col("abschluss_datum") >= start))
        & ((stop - pl.col("erstkontakt_datum")).dt.total_days() >= 56)
    )
    contacts = inputs["kontakte"]
    cm08 = contacts.join(cm.select(PROVIDER, "fall_id"), on=[PROVIDER, "fall_id"], how="semi")
    return {
        "CM01": _count(cm01),
        "CM05": _count(inputs["ziele"]),
        "CM08": _count(cm08),
        "EL02": _count(contacts),
    }


def _count(df: pl.DataFrame) -> dict[str, int]:
    rows = df.group_by(PROVIDER).len().with_columns(pl.col(PROVIDER).cast(pl.String))
    return dict(zip(rows[PROVIDER].to_list(), rows["len"].to_list(), strict=True))


def truth_counts(inputs: dict[str, pl.DataFrame], year: int) -> dict[str, dict[str, int]]:
    """Per indicator the weight of each provider (`_weights`), and its CM cases (`n_cm`): all the
    truth needs of the delivered data, small enough to keep while the next part is generated."""
    counts = _weights(inputs, year)
    counts["n_cm"] = _count(inputs["faelle"].filter(pl.col("fallart") == "CM"))
    return counts


def merge_counts(
    into: dict[str, dict[str, int]], counts: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    """`truth_counts` of two parts (disjoint providers) as one."""
    return {key: {**into.get(key, {}), **counts[key]} for key in counts}


TRUE_RATES = {
    "CM01": "plan_coverage",
    "CM05": "goal_attainment",
    "CM08": "goal_linked_share",
    "EL02": "obliged_share",
}
"""The indicator that recovers each per-provider parameter."""


def ground_truth(
    parts: Sequence[Providers],
    counts: dict[str, dict[str, int]],
    scale: str,
    seed: int,
    stand: date,
) -> dict:
    """Truth JSON from the provider parameters (of one or more parts of the world, disjoint
    providers) and the `truth_counts` of the delivery."""
    rows = [(ags, pv, i) for pv in parts for i, ags in enumerate(pv.ags)]
    n_cm = counts["n_cm"]
    providers = {
        ags: {
            "level": "KREIS" if len(ags) == 5 else "GEMEINDE",
            "plan_coverage": round(float(pv.plan_coverage[i]), 6),
            "goal_attainment": round(float(pv.goal_attainment[i]), 6),
            "goal_linked_share": round(float(pv.goal_linked_share[i]), 6),
            "obliged_to_leave_share": round(float(pv.obliged_share[i]), 6),
            "n_cm_cases": int(n_cm.get(ags, 0)),
        }
        for ags, pv, i in rows
    }
    year = land_year(stand)
    land, basis = {}, {}
    for indicator, attribute in TRUE_RATES.items():
        w = counts[indicator]
        total = sum(w.values())
        basis[indicator] = total
        land[indicator] = (
            round(
                sum(float(getattr(pv, attribute)[i]) * w.get(a, 0) for a, pv, i in rows) / total,
                6,
            )
            if total
            else None
        )
    return {
        "scale": scale,
        "seed": seed,
        "stand": stand.isoformat(),
        "land_period": str(year),
        "providers": providers,
        "land": land,
        "land_basis": basis,
        "notes": NOTES,
    }
