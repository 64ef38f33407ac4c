"""The funding authority's records: grants, payout requests, proofs of use, budget."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic import params as P
from synthetic.providers import Positions, Providers

LOWER_RATE_FROM_2025 = 0.92
"""Parliament asked for lower rates (request 4): grants from 2025 pay 8 % less per FTE."""


@dataclass
class Funding:
    g_provider: np.ndarray
    g_from: np.ndarray
    g_to: np.ndarray
    g_granted_on: np.ndarray
    g_amount: np.ndarray
    g_fte: np.ndarray
    r_grant: np.ndarray
    r_year: np.ndarray
    r_received: np.ndarray
    r_requested: np.ndarray
    r_queries: np.ndarray
    r_paid_on: np.ndarray
    r_paid: np.ndarray
    v_grant: np.ndarray
    v_year: np.ndarray
    v_staff: np.ndarray
    v_material: np.ndarray
    v_fte: np.ndarray
    v_received: np.ndarray
    v_checked: np.ndarray
    v_recovery: np.ndarray
    b_year: np.ndarray
    b_appropriation: np.ndarray
    b_carryover: np.ndarray


def _fte_matrix(pos: Positions, n_prov: int, starts: np.ndarray, ends: np.ndarray):
    """Per provider and period: FTE at the period's end and the time-weighted mean FTE."""
    at_end = np.zeros((n_prov, starts.size))
    mean = np.zeros((n_prov, starts.size))
    overlap = np.maximum(
        0,
        np.minimum(pos.slot_end[:, None], ends[None, :])
        - np.maximum(pos.slot_start[:, None], starts[None, :])
        + 1,
    )
    active_end = (pos.slot_start[:, None] <= ends[None, :]) & (
        pos.slot_end[:, None] >= ends[None, :]
    )
    np.add.at(at_end, pos.slot_provider, active_end * pos.slot_fte[:, None])
    np.add.at(
        mean, pos.slot_provider, overlap * pos.slot_fte[:, None] / (ends - starts + 1)[None, :]
    )
    return at_end, mean


def build_funding(rng: np.random.Generator, pv: Providers, pos: Positions, horizon: int) -> Funding:
    last_year = int(P.years_of(np.array([horizon]))[0])
    years = np.arange(2019, last_year + 1)
    p_from = np.array([P.year_start(2017), *(P.year_start(y) for y in years)])
    p_to = np.array([P.year_start(2019) - 1, *(P.year_start(y + 1) - 1 for y in years)])
    at_end, mean = _fte_matrix(pos, pv.n, p_from, p_to)
    # the first, two-year grant funds the positions filled during 2017/18: their mean FTE
    planned = at_end.copy()
    planned[:, 0] = mean[:, 0]
    kreise_only = p_from >= P.to_day(P.KREISE_ONLY_FROM)
    eligible = (planned > 0) & (pv.is_kreis[:, None] | ~kreise_only[None, :])
    prov, per = np.nonzero(eligible)  # provider-major, then period
    n = prov.size
    fte = np.round(planned[prov, per], 2)
    n_years = np.where(per == 0, 2, 1)
    rate = pv.rate_eur[prov] * np.where(kreise_only[per], LOWER_RATE_FROM_2025, 1.0)
    amount = np.round(fte * rate * n_years, 2)
    # decided before the first request of the period can arrive
    granted_on = p_from[per] + rng.integers(-50, 6, n)

    # grant-years and their payout requests
    gy_grant = np.repeat(np.arange(n), n_years)
    gy_year = P.years_of(p_from[per])[gy_grant] + (
        np.arange(gy_grant.size) - np.repeat(np.cumsum(n_years) - n_years, n_years)
    )
    # a two-year grant is called off in proportion to the positions filled in each year
    _, fte_17_18 = _fte_matrix(
        pos,
        pv.n,
        np.array([P.year_start(2017), P.year_start(2018)]),
        np.array([P.year_start(2018) - 1, P.year_start(2019) - 1]),
    )
    split = fte_17_18 / np.maximum(fte_17_18.sum(axis=1, keepdims=True), 1e-9)
    first_year = gy_year == 2017
    share_y = np.where(
        per[gy_grant] == 0,
        np.where(first_year, split[prov[gy_grant], 0], split[prov[gy_grant], 1]),
        1.0,
    )
    gy_amount = amount[gy_grant] * share_y
    funded = gy_amount >= 100.0  # no position filled in 2017: nothing to call off that year
    gy_grant, gy_year, gy_amount = gy_grant[funded], gy_year[funded], gy_amount[funded]
    n_req = rng.choice(np.array([2, 3, 4]), size=gy_grant.size, p=[0.30, 0.45, 0.25])
    r_gy = np.repeat(np.arange(gy_grant.size), n_req)
    j = np.arange(r_gy.size) - np.repeat(np.cumsum(n_req) - n_req, n_req)
    w = rng.uniform(0.8, 1.2, r_gy.size)
    share = w / np.bincount(r_gy, weights=w)[r_gy]
    requested = np.round(gy_amount[r_gy] * share * rng.uniform(0.97, 1.0, r_gy.size), 2)
    year_start = np.array([P.year_start(int(y)) for y in gy_year])[r_gy]
    received = year_start + ((j + rng.uniform(0.1, 0.9, r_gy.size)) * 365 / n_req[r_gy]).astype(
        np.int64
    )
    r_prov = prov[gy_grant[r_gy]]
    queries = rng.poisson(pv.queries[r_prov])
    fast = rng.random(r_gy.size) < pv.fast_payout[r_prov]
    delay = np.where(
        fast, rng.integers(4, 31, r_gy.size), 31 + rng.gamma(2.0, 20.0, r_gy.size).astype(np.int64)
    )
    paid_on = received + delay
    paid = np.where(
        rng.random(r_gy.size) < 0.95,
        requested,
        np.round(requested * rng.uniform(0.90, 0.99, r_gy.size), 2),
    )
    order = np.lexsort((j, r_gy, received))
    r_gy, received, requested, queries, paid_on, paid = (
        a[order] for a in (r_gy, received, requested, queries, paid_on, paid)
    )

    # proofs of use: actual costs mostly below what was paid (overfinancing)
    gy_paid = np.bincount(r_gy, weights=paid, minlength=gy_grant.size)
    m = gy_grant.size
    v_received = np.array([P.year_start(int(y) + 1) - 1 for y in gy_year]) + rng.integers(
        60, 301, m
    )
    v_checked = np.where(rng.random(m) < 0.9, v_received + rng.integers(20, 401, m), P.OPEN)
    factor = np.where(rng.random(m) < 0.8, rng.uniform(0.78, 0.99, m), rng.uniform(0.99, 1.03, m))
    cost = gy_paid * factor
    staff = np.round(cost * rng.uniform(0.86, 0.95, m), 2)
    material = np.round(cost - staff, 2)
    y_from = np.array([P.year_start(int(y)) for y in gy_year])
    y_to = np.array([P.year_start(int(y) + 1) - 1 for y in gy_year])
    _, actual = _fte_matrix(pos, pv.n, y_from, y_to)
    v_fte = np.round(actual[prov[gy_grant], np.arange(m)] * rng.uniform(0.88, 1.0, m), 2)
    over = gy_paid - cost
    recover = (v_checked < P.OPEN) & (over > 0) & (rng.random(m) < 0.5)
    recovery = np.where(recover, np.round(over * rng.uniform(0.5, 1.0, m), 2), 0.0)

    # budget: appropriation a little above the grants and not cut when the grants shrink (from
    # 2025), unspent residues carried over at 80 %
    b_year = np.arange(2017, last_year + 1)
    granted_y = np.array([gy_amount[gy_year == y].sum() for y in b_year])
    granted_y[:2] = granted_y[:2].mean()
    granted_y = np.maximum(granted_y, granted_y[:2].mean())
    appropriation = np.round(granted_y * rng.uniform(1.02, 1.08, b_year.size), -3)
    appropriation[1] = appropriation[0]
    cash = np.array([paid[P.years_of(paid_on) == y].sum() for y in b_year])
    carry = np.zeros(b_year.size)
    for i in range(1, b_year.size):
        carry[i] = round(0.8 * max(0.0, appropriation[i - 1] + carry[i - 1] - cash[i - 1]), 2)

    return Funding(
        g_provider=prov,
        g_from=p_from[per],
        g_to=p_to[per],
        g_granted_on=granted_on,
        g_amount=amount,
        g_fte=fte,
        r_grant=gy_grant[r_gy],
        r_year=gy_year[r_gy],
        r_received=received,
        r_requested=requested,
        r_queries=queries,
        r_paid_on=paid_on,
        r_paid=paid,
        v_grant=gy_grant,
        v_year=gy_year,
        v_staff=staff,
        v_material=material,
        v_fte=v_fte,
        v_received=v_received,
        v_checked=v_checked,
        v_recovery=recovery,
        b_year=b_year,
        b_appropriation=appropriation,
        b_carryover=carry,
    )
