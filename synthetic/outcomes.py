"""Outcome observations (`ergebnisse`) with the known effects of `synthetic.effects`.

Observations: a baseline at the first contact (SPRACHE and ARBEIT always, WOHNEN and BILDUNG
often; KB cases: half of them, one baseline only), one a year while the case runs, one at
closure, and one on the day of each event — first employment (SVB/AUSBILDUNG), first B1 and the
move out of follow-up accommodation — so the month an event is first observed is the month it
happened. Everything is vectorised over case-months (no loop over cases).
"""

from __future__ import annotations

import numpy as np

from contract.spec import OUTCOME_VALUES
from synthetic import params as P
from synthetic.casework import Cases, Persons
from synthetic.casework_plans import DOMAINS, OUTCOME_CODES, Contacts, Outcomes
from synthetic.effects import EMPLOYMENT_BASE, LANGUAGE_BASE, Effects

B1 = 3  # index of B1 in KEINE, A1, A2, B1, B2, C1, C2
EMPLOYED = (2, 3)  # SVB, AUSBILDUNG in KEINE, MINIJOB, SVB, AUSBILDUNG, SELBSTSTAENDIG, MASSNAHME
NO_EVENT = np.iinfo(np.int64).max


def month_of(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of day numbers."""
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_start(months: np.ndarray) -> np.ndarray:
    return np.asarray(months, dtype="datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def _first_event(
    rng: np.random.Generator, pair_case: np.ndarray, logit: np.ndarray, n_cases: int
) -> np.ndarray:
    """Index of the first case-month with an event, per case (-1 = none)."""
    hit = rng.random(pair_case.size) < 1 / (1 + np.exp(-logit))
    first = np.full(n_cases, NO_EVENT, dtype=np.int64)
    idx = np.flatnonzero(hit)
    np.minimum.at(first, pair_case[idx], idx)
    return np.where(first == NO_EVENT, -1, first)


def build_outcomes(
    rng: np.random.Generator,
    cases: Cases,
    persons: Persons,
    contacts: Contacts,
    horizon: int,
    effects: Effects,
) -> Outcomes:
    nc = cases.n
    stop = np.minimum(cases.end, horizon)
    first_signed = np.where(cases.covered, cases.ek + cases.sig_delay, P.OPEN)

    # --- case-months 0..M of CM cases (M: month of the case's last observed day) -------------
    m0 = month_of(cases.ek)
    n_months = np.where(cases.is_cm, month_of(stop) - m0 + 1, 0)
    pair_case = np.repeat(np.arange(nc), n_months)
    offset = np.cumsum(n_months) - n_months
    pair_m = np.arange(pair_case.size) - np.repeat(offset, n_months)
    cal = m0[pair_case] + pair_m
    p_start = month_start(cal)
    p_end = np.minimum(month_start(cal + 1) - 1, stop[pair_case])

    # contacts and goal-linked contacts per case-month, cumulated up to the previous month
    cm_contact = cases.is_cm[contacts.case] & (contacts.day <= stop[contacts.case])
    c_case = contacts.case[cm_contact].astype(np.int64)
    c_pair = offset[c_case] + month_of(contacts.day[cm_contact]) - m0[c_case]
    n_contacts = np.bincount(c_pair, minlength=pair_case.size)
    n_linked = np.bincount(c_pair, weights=contacts.goal[cm_contact] >= 0, minlength=pair_case.size)

    def before(x: np.ndarray) -> np.ndarray:
        """Sum of x over the case's earlier months."""
        cs = np.concatenate([[0], np.cumsum(x)])
        return cs[:-1] - np.repeat(cs[offset], n_months)

    prev_c, prev_l = before(n_contacts), before(n_linked)
    share_prev = np.divide(prev_l, prev_c, out=np.zeros(pair_case.size), where=prev_c > 0)
    signed = first_signed[pair_case] <= month_start(cal + 1) - 1
    at_risk_month = pair_m >= 1

    # --- baseline states and their later course -----------------------------------------------
    lang0 = rng.choice(7, size=nc, p=[0.30, 0.30, 0.20, 0.12, 0.06, 0.02, 0.0])
    speed = rng.uniform(0.0, 1.2, nc)
    work0 = rng.choice(6, size=nc, p=[0.70, 0.08, 0.05, 0.04, 0.01, 0.12])
    work1 = np.where(rng.random(nc) < 0.73, 2, 3)
    young = (P.years_of(cases.ek) - persons.birth_year[cases.person]) < 25
    edu0 = np.where(
        young,
        rng.choice(6, size=nc, p=[0.10, 0.30, 0.30, 0.30, 0.0, 0.0]),
        rng.choice(6, size=nc, p=[0.35, 0.45, 0.0, 0.07, 0.03, 0.10]),
    )
    edu1 = rng.choice(6, size=nc, p=[0.15, 0.25, 0.05, 0.30, 0.05, 0.20])
    edu_switch = rng.exponential(500.0, nc)
    house0 = np.where(rng.random(nc) < 0.93, 0, 2)

    # --- the two hazards ------------------------------------------------------------------------
    emp_risk = at_risk_month & ~np.isin(work0[pair_case], EMPLOYED)
    emp_logit = np.where(
        emp_risk,
        _logit(EMPLOYMENT_BASE) + np.log(effects.plan_on_employment) * signed,
        -np.inf,
    )
    lang_risk = at_risk_month & (lang0[pair_case] < B1)
    lang_logit = np.where(
        lang_risk,
        _logit(LANGUAGE_BASE) + np.log(effects.goal_links_on_language) * share_prev,
        -np.inf,
    )
    emp_pair = _first_event(rng, pair_case, emp_logit, nc)
    lang_pair = _first_event(rng, pair_case, lang_logit, nc)

    def event_day(pair: np.ndarray) -> np.ndarray:
        has = pair >= 0
        lo, hi = p_start[np.maximum(pair, 0)], p_end[np.maximum(pair, 0)]
        day = lo + (rng.random(nc) * (hi - lo + 1)).astype(np.int64)
        return np.where(has, day, NO_EVENT)

    emp_day = event_day(emp_pair)
    lang_day = event_day(lang_pair)

    # --- observation days ----------------------------------------------------------------------
    closed = cases.end < P.OPEN
    yearly = np.where(stop > cases.ek, (stop - cases.ek - 1) // 365, 0)
    at_close = closed & (cases.end > cases.ek)
    n_obs = np.where(cases.is_cm, 1 + yearly + at_close, (rng.random(nc) < 0.5).astype(np.int64))
    case = np.repeat(np.arange(nc), n_obs)
    k = np.arange(case.size) - np.repeat(np.cumsum(n_obs) - n_obs, n_obs)
    day = np.where(
        k == 0,
        cases.ek[case],
        np.where(k <= yearly[case], cases.ek[case] + 365 * k, cases.end[case]),
    )
    au_end = persons.au_end[cases.person]
    moved = cases.is_cm & (au_end > cases.ek) & (au_end <= stop)

    vals = {d: [c.code for c in OUTCOME_VALUES[d]] for d in DOMAINS}
    code_idx = {d: np.array([OUTCOME_CODES.index(c) for c in vals[d]]) for d in DOMAINS}

    def state(domain: str, oc: np.ndarray, od: np.ndarray) -> np.ndarray:
        t = od - cases.ek[oc]
        if domain == "SPRACHE":
            drift = lang0[oc] + (speed[oc] * t / 365).astype(np.int64)
            after = np.minimum(6, B1 + (speed[oc] * (od - lang_day[oc]).clip(0) / 365).astype(int))
            below = lang0[oc] < B1
            return np.where(
                below, np.where(od >= lang_day[oc], after, np.minimum(drift, B1 - 1)),
                np.minimum(6, drift),
            )  # fmt: skip
        if domain == "ARBEIT":
            return np.where(od >= emp_day[oc], work1[oc], work0[oc])
        if domain == "WOHNEN":
            return np.where(od >= au_end[oc], 1, house0[oc])
        return np.where(t >= edu_switch[oc], edu1[oc], edu0[oc])

    share = {"SPRACHE": 0.9, "ARBEIT": 0.75, "WOHNEN": 0.5, "BILDUNG": 0.35}
    baseline_always = {"SPRACHE", "ARBEIT"}
    events = {
        "SPRACHE": np.flatnonzero(lang_pair >= 0),
        "ARBEIT": np.flatnonzero(emp_pair >= 0),
        "WOHNEN": np.flatnonzero(moved),
    }
    event_days = {"SPRACHE": lang_day, "ARBEIT": emp_day, "WOHNEN": au_end}
    parts = []
    for d_i, d in enumerate(DOMAINS):
        keep = rng.random(case.size) < share[d]
        if d in baseline_always:
            keep |= (k == 0) & cases.is_cm[case]
        oc, od = case[keep], day[keep]
        if d in events:
            ev = events[d]
            oc = np.concatenate([oc, ev])
            od = np.concatenate([od, event_days[d][ev]])
        # one observation per case, day and domain (an event may fall on a yearly day)
        key = np.unique(oc.astype(np.int64) * (1 << 20) + od)
        oc, od = key >> 20, key & ((1 << 20) - 1)
        parts.append((oc, od, np.full(oc.size, d_i), code_idx[d][state(d, oc, od)]))
    oc, od, odom, oval = (np.concatenate(x) for x in zip(*parts, strict=True))
    o = np.lexsort((odom, od, oc))
    return Outcomes(
        oc[o].astype(np.int32),
        od[o].astype(np.int32),
        odom[o].astype(np.int8),
        oval[o].astype(np.int8),
    )
