"""The needs forecast: simulated open cases per Kreis, RB and Land, month and scenario, and the
FTE and funding they imply.

Method (README "Bedarfsprognose"): per case type,
- inflow: the Land's monthly new cases → an ETS model (`forecast.inflow`) → simulated paths;
  a Kreis gets its share of the Land's inflow of the last 12 months (top-down pooling: every
  Kreis follows the Land's level, trend and seasonality; small and broken Kreis series need no
  model of their own);
- duration: Kaplan–Meier curves (`forecast.survival`) per RB where the RB has enough closures,
  else the Land's; each simulation path gets its own bootstrap replicate;
- open cases at the end of month h = cases open at the origin still open (conditional survival
  by age) + Σ new cases × probability still open (`forecast.caseload`);
- a scenario multiplies the future inflow (so the new-case part of every path).
The p10/p50/p90 are quantiles over the paths. Levels sum Kreis paths, so RB and Land intervals
are those of the sums, not sums of intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from contract.spec import code_values
from forecast import inflow as inflow_model
from forecast.caseload import carried_stock, cohort_weights, new_case_stock
from forecast.scenarios import Scenario
from forecast.survival import bootstrap_curves, km_curve

CASE_TYPES = code_values("fallart")
ALL_TYPES = "ALLE"
LAND = "08"
CHUNK = 50
"""Bootstrap replicates per batch in the carried-stock product (memory: CHUNK × ages × H)."""

CASES_SCHEMA = {
    "kreis": pl.String,
    "case_type": pl.String,
    "first_contact": pl.Date,
    "closure": pl.Date,
}


def month_end(d: date, months_ahead: int = 0) -> date:
    m = d.year * 12 + d.month - 1 + months_ahead
    y, mo = divmod(m, 12)
    nxt = date(y + (mo + 1) // 12, (mo + 1) % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def forecast_origin(reference_date: date) -> date:
    """The last month end on or before R: the forecast works in whole months."""
    end = month_end(reference_date)
    return end if end == reference_date else month_end(reference_date, -1)


def cut_at(cases: pl.DataFrame, origin: date) -> pl.DataFrame:
    """The cases as known at `origin`: started by then; a later closure is not yet known."""
    return cases.filter(pl.col("first_contact") <= origin).with_columns(
        pl.when(pl.col("closure") <= origin).then(pl.col("closure")).alias("closure")
    )


def open_at(cases: pl.DataFrame, dates: list[date], by: list[str]) -> pl.DataFrame:
    """Open cases (first contact <= d, no closure or closure > d) per `by` and date d.

    A running count (+1 at each first contact, −1 at each closure) read at each date, so memory
    stays proportional to the cases, not cases × dates."""
    events = (
        pl.concat(
            [
                cases.select(*by, pl.col("first_contact").alias("day"), pl.lit(1).alias("step")),
                cases.filter(pl.col("closure").is_not_null()).select(
                    *by, pl.col("closure").alias("day"), pl.lit(-1).alias("step")
                ),
            ]
        )
        .group_by(*by, "day")
        .agg(pl.col("step").sum())
        .sort(*by, "day")
        .with_columns(pl.col("step").cum_sum().over(by).alias("open_cases"))
    )
    grid = (
        events.select(by)
        .unique()
        .join(pl.DataFrame({"month": dates}, schema={"month": pl.Date}), how="cross")
        .sort("month")
    )
    return (
        grid.join_asof(
            events.select(*by, "day", "open_cases").sort("day"),
            left_on="month",
            right_on="day",
            by=by,
            strategy="backward",
            check_sortedness=False,  # sorted by day overall, hence within every group
        )
        .filter(pl.col("open_cases").fill_null(0) > 0)
        .select(*by, "month", pl.col("open_cases").cast(pl.UInt32))
    )


@dataclass
class TypeSimulation:
    model: str
    survival: str
    inflow: np.ndarray
    """(B, K, H): new cases per Kreis and month at multiplier 1."""
    carried: np.ndarray
    """(B, K, H): cases open at the origin still open."""
    new: np.ndarray
    """(B, K, H): open cases that started after the origin, at multiplier 1."""
    open_at_origin: np.ndarray
    """(K,)"""


@dataclass
class Simulation:
    origin: date
    months: list[date]
    kreise: list[str]
    types: dict[str, TypeSimulation] = field(default_factory=dict)
    models: dict[str, inflow_model.InflowModel] = field(default_factory=dict)

    def open_paths(self, case_type: str, multiplier: float) -> np.ndarray:
        parts = CASE_TYPES if case_type == ALL_TYPES else (case_type,)
        return sum(self.types[t].carried + multiplier * self.types[t].new for t in parts)

    def inflow_paths(self, case_type: str, multiplier: float) -> np.ndarray:
        parts = CASE_TYPES if case_type == ALL_TYPES else (case_type,)
        return multiplier * sum(self.types[t].inflow for t in parts)

    def open_now(self, case_type: str) -> np.ndarray:
        parts = CASE_TYPES if case_type == ALL_TYPES else (case_type,)
        return sum(self.types[t].open_at_origin for t in parts)

    def model_label(self, case_type: str) -> str:
        parts = CASE_TYPES if case_type == ALL_TYPES else (case_type,)
        return "; ".join(
            f"{t}: {self.types[t].model} inflow, Kaplan-Meier {self.types[t].survival}"
            for t in parts
        )


def _month_index(col: str) -> pl.Expr:
    return pl.col(col).dt.year().cast(pl.Int64) * 12 + pl.col(col).dt.month().cast(pl.Int64) - 1


def simulate(
    cases: pl.DataFrame,
    origin: date,
    *,
    horizon: int,
    replicates: int,
    history_months: int,
    min_events_per_region: int,
    rng: np.random.Generator,
    kreise: list[str] | None = None,
    models: dict[str, inflow_model.InflowModel] | None = None,
    chosen: dict[str, inflow_model.InflowModel] | None = None,
) -> Simulation:
    """Simulate every Kreis's open cases for the `horizon` month ends after `origin`.

    `cases` (CASES_SCHEMA) may hold rows after `origin`; they are cut off. `models`: ETS forms
    to re-estimate (backtest) instead of choosing anew. `chosen`: the models `choose_models`
    chose on the same cases, origin and history, taken as they are (the same simulation as
    choosing them here: choosing draws no random numbers)."""
    known = cut_at(cases, origin)
    if known.is_empty():
        raise ValueError(f"no cases with a first contact on or before {origin}")
    kreise = kreise or _kreise(known)
    k_index = {k: i for i, k in enumerate(kreise)}
    months = [month_end(origin, h) for h in range(1, horizon + 1)]
    offsets = np.array([(m - origin).days for m in months])
    sim = Simulation(origin, months, kreise)
    o_idx = origin.year * 12 + origin.month - 1
    for ct in CASE_TYPES:
        sub = known.filter(pl.col("case_type") == ct).with_columns(
            _month_index("first_contact").alias("m"),
            (pl.coalesce("closure", pl.lit(origin)) - pl.col("first_contact"))
            .dt.total_days()
            .alias("duration"),
            pl.col("closure").is_not_null().alias("closed"),
            pl.col("kreis").replace_strict(k_index, default=None).alias("k"),
        )
        if sub.filter(pl.col("k").is_null()).height:
            raise ValueError("cases of a Kreis not in the list of Kreise")
        sim.types[ct], sim.models[ct] = _simulate_type(
            sub,
            o_idx,
            offsets,
            len(kreise),
            kreise,
            horizon=horizon,
            replicates=replicates,
            history_months=history_months,
            min_events=min_events_per_region,
            rng=rng,
            model=(models or {}).get(ct),
            chosen=(chosen or {}).get(ct),
        )
    return sim


def kreise_at(cases: pl.DataFrame, origin: date) -> list[str]:
    """The Kreise with a case known at `origin`, in order: a simulation's Kreise."""
    return _kreise(cut_at(cases, origin))


def _kreise(known: pl.DataFrame) -> list[str]:
    return sorted(known["kreis"].unique().to_list())


def choose_models(
    cases: pl.DataFrame, origin: date, *, history_months: int
) -> dict[str, inflow_model.InflowModel]:
    """Per case type the inflow model `simulate` chooses at `origin` (`inflow.select` on the
    Land's monthly counts): known before the simulation, so the backtest, which re-estimates
    these forms, can run beside it (`forecast.warehouse.forecast_from`)."""
    known = cut_at(cases, origin)
    o_idx = origin.year * 12 + origin.month - 1
    return {
        ct: inflow_model.select(
            _inflow_counts(
                known.filter(pl.col("case_type") == ct).select(
                    _month_index("first_contact").alias("m")
                ),
                o_idx,
                history_months,
            )
        )
        for ct in CASE_TYPES
    }


def _inflow_counts(sub: pl.DataFrame, o_idx: int, history_months: int) -> np.ndarray:
    """The Land's monthly new cases up to the origin's month (`m`: month index; zeros included),
    at most `history_months` of them."""
    first = max(int(sub["m"].min()), o_idx - history_months + 1) if sub.height else o_idx
    return np.bincount(
        sub.filter(pl.col("m") >= first)["m"].to_numpy() - first, minlength=o_idx - first + 1
    ).astype(float)


def _simulate_type(
    sub: pl.DataFrame,
    o_idx: int,
    offsets: np.ndarray,
    n_kreise: int,
    kreise: list[str],
    *,
    horizon: int,
    replicates: int,
    history_months: int,
    min_events: int,
    rng: np.random.Generator,
    model: inflow_model.InflowModel | None,
    chosen: inflow_model.InflowModel | None = None,
) -> tuple[TypeSimulation, inflow_model.InflowModel]:
    b, k, h = replicates, n_kreise, horizon
    # --- inflow: the Land's monthly series (zeros included) and the Kreise's shares
    if chosen is not None:
        fitted = chosen
    else:
        counts = _inflow_counts(sub, o_idx, history_months)
        fitted = (
            inflow_model.refit(model, counts) if model is not None else inflow_model.select(counts)
        )
    land_paths = fitted.paths(h, b, rng)  # (B, H)
    recent = sub.filter(pl.col("m") > o_idx - 12)
    kreis_recent = np.bincount(recent["k"].to_numpy(), minlength=k).astype(float)
    share = kreis_recent / kreis_recent.sum() if kreis_recent.sum() > 0 else np.zeros(k)

    # --- duration: Land curve and RB curves where enough closures
    durations = sub["duration"].to_numpy()
    closed = sub["closed"].to_numpy()
    open_now = sub.filter(~pl.col("closed"))
    max_age = int(open_now["duration"].max()) if open_now.height else 0
    days = max(max_age + int(offsets.max()) + 2, int(np.ceil(h * 30.4375)) + 32)
    regions = np.array([c[:3] for c in kreise])
    case_region = regions[sub["k"].to_numpy()] if sub.height else np.array([], dtype=str)
    point_land = km_curve(durations, closed, days) if sub.height else np.ones(days)
    boot_land = (
        bootstrap_curves(durations, closed, days, b, rng) if sub.height else np.ones((b, days))
    )
    own = [r for r in sorted(set(regions)) if int(closed[case_region == r].sum()) >= min_events]
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for r in sorted(set(regions)):
        if r in own:
            mask = case_region == r
            curves[r] = (
                km_curve(durations[mask], closed[mask], days),
                bootstrap_curves(durations[mask], closed[mask], days, b, rng),
            )
        else:
            curves[r] = (point_land, boot_land)

    # --- open cases at the origin by Kreis and age (days)
    ages = np.zeros((k, max_age + 1))
    if open_now.height:
        np.add.at(ages, (open_now["k"].to_numpy(), open_now["duration"].to_numpy()), 1.0)
    carried = np.zeros((b, k, h))
    new = np.zeros((b, k, h))
    for r, (point, boot) in curves.items():
        rows = np.flatnonzero(regions == r)
        for start in range(0, b, CHUNK):
            stop = min(start + CHUNK, b)
            carried[start:stop][:, rows, :] = carried_stock(
                ages[rows], boot[start:stop], offsets, fallback=point
            )
        land_new = new_case_stock(land_paths, cohort_weights(boot, h))  # (B, H)
        new[:, rows, :] = share[rows][None, :, None] * land_new[:, None, :]
    survival = (
        "per RB " + ",".join(own) + (" (others: Land)" if len(own) < len(curves) else "")
        if own
        else "Land"
    )
    return (
        TypeSimulation(
            model=fitted.name,
            survival=survival,
            inflow=share[None, :, None] * land_paths[:, None, :],
            carried=carried,
            new=new,
            open_at_origin=ages.sum(axis=1),
        ),
        fitted,
    )


# ------------------------------------------------------------------------------------------
# Summaries
# ------------------------------------------------------------------------------------------
def unit_matrix(kreise: list[str]) -> tuple[list[tuple[str, str]], np.ndarray]:
    """(level, unit_code) of every Kreis, RB and the Land, and the (units × Kreise) 0/1 matrix
    that sums Kreise into them."""
    regions = sorted({k[:3] for k in kreise})
    units = [("LAND", LAND)] + [("RB", r) for r in regions] + [("KREIS", k) for k in kreise]
    m = np.array(
        [
            [float(lvl == "LAND" or (lvl == "RB" and k[:3] == u) or k == u) for k in kreise]
            for lvl, u in units
        ]
    )
    return units, m


def caseload_frame(
    sim: Simulation,
    scenarios: tuple[Scenario, ...],
    quantiles: tuple[float, float, float],
    caseload_target: float,
    rate_eur_per_fte: float,
) -> pl.DataFrame:
    """forecast_caseload rows (before disclosure control): the origin (observed) and every
    forecast month × scenario × case type × unit."""
    units, m = unit_matrix(sim.kreise)
    frames = []
    for sc in scenarios:
        for ct in (*CASE_TYPES, ALL_TYPES):
            paths = np.einsum("uk,bkh->buh", m, sim.open_paths(ct, sc.inflow_multiplier))
            inflow = np.einsum("uk,bkh->buh", m, sim.inflow_paths(ct, sc.inflow_multiplier))
            q = np.quantile(paths, quantiles, axis=0)  # (3, U, H)
            new_mid = np.quantile(inflow, 0.5, axis=0)
            observed = m @ sim.open_now(ct)
            n_units, h = len(units), len(sim.months)
            frames.append(
                pl.DataFrame(
                    {
                        "level": np.repeat([u[0] for u in units], h + 1),
                        "unit_code": np.repeat([u[1] for u in units], h + 1),
                        "month": [sim.origin, *sim.months] * n_units,
                        "horizon_months": np.tile(np.arange(h + 1), n_units),
                        "scenario": sc.name,
                        "case_type": ct,
                        "open_p10": np.column_stack([observed, q[0]]).ravel(),
                        "open_p50": np.column_stack([observed, q[1]]).ravel(),
                        "open_p90": np.column_stack([observed, q[2]]).ravel(),
                        "new_cases": np.column_stack([np.full(n_units, np.nan), new_mid]).ravel(),
                        "open_at_origin": np.repeat(observed, h + 1),
                        "model": (["observed"] + [sim.model_label(ct)] * h) * n_units,
                    }
                )
            )
    out = pl.concat(frames).with_columns(
        pl.col("month").cast(pl.Date),
        pl.col("new_cases").fill_nan(None),
        (pl.col("open_p50") / caseload_target).alias("fte_needed"),
    )
    return out.with_columns(
        (pl.col("fte_needed") * rate_eur_per_fte).alias("funding_needed_eur_per_year"),
        pl.lit(caseload_target).alias("caseload_target"),
        pl.lit(rate_eur_per_fte).alias("rate_eur_per_fte"),
    )


def caseload_target_from(cases: pl.DataFrame, positions: pl.DataFrame, origin: date) -> float:
    """The Land's median CM10 (open cases per FTE at month end) over the months of the last
    complete year before `origin`. `positions`: fte, start_date, end_date."""
    year = origin.year if (origin.month, origin.day) == (12, 31) else origin.year - 1
    ends = [month_end(date(year, mo, 1)) for mo in range(1, 13)]
    grid = pl.DataFrame({"month": ends}, schema={"month": pl.Date})
    opened = open_at(cases.with_columns(pl.lit(LAND).alias("land")), ends, ["land"])
    fte = (
        positions.join(grid, how="cross")
        .filter(
            (pl.col("start_date") <= pl.col("month"))
            & (pl.col("end_date").is_null() | (pl.col("end_date") >= pl.col("month")))
        )
        .group_by("month")
        .agg(pl.col("fte").sum())
    )
    ratio = opened.join(fte, on="month").filter(pl.col("fte") > 0)
    if ratio.is_empty():
        raise ValueError(f"no open cases and FTE in {year}: no caseload target (set one)")
    return float((ratio["open_cases"] / ratio["fte"]).median())


def current_rate_from(grants: pl.DataFrame, origin: date) -> float:
    """EUR per FTE and year of the grants whose period covers `origin` (else the grants of the
    latest period start): Σ amount / Σ (FTE granted × period in years)."""
    g = grants.with_columns(
        ((pl.col("period_to") - pl.col("period_from")).dt.total_days() + 1).alias("days")
    )
    covering = g.filter((pl.col("period_from") <= origin) & (pl.col("period_to") >= origin))
    if covering.is_empty():
        covering = g.filter(pl.col("period_from") == g["period_from"].max())
    fte_years = (covering["fte_granted"] * covering["days"] / 365.25).sum()
    if covering.is_empty() or fte_years <= 0:
        raise ValueError("no grants to take a rate per FTE from (set one)")
    return float(covering["amount_eur"].sum() / fte_years)
