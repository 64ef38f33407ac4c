"""Integration plans, goals and contacts (vectorised; outcome observations: `outcomes.py`).

Large tables keep codes as small integer indices into the code tuples defined here; the snapshot
maps them to the contract's strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from contract.spec import OUTCOME_VALUES, code_values
from synthetic import params as P
from synthetic.casework import Cases, Persons
from synthetic.providers import Providers

FIELDS = tuple(c for c, _ in P.HANDLUNGSFELD)
TOPICS = tuple(c for c, _ in P.THEMA)
REFERRALS = tuple(
    sorted(
        {c for table in (*P.VERWEISUNG_BY_THEMA.values(), P.VERWEISUNG_DEFAULT) for c, _ in table}
    )
)
GOAL_STATUS = code_values("ziel_status")
DOMAINS = code_values("bereich")
OUTCOME_CODES = tuple(dict.fromkeys(c.code for d in DOMAINS for c in OUTCOME_VALUES[d]))
TEMPLATES = tuple(t for f in FIELDS for t in P.MESSKRITERIUM[f])
_TEMPLATE_OFF = np.cumsum([0] + [len(P.MESSKRITERIUM[f]) for f in FIELDS])
_BIG = 1 << 16  # > any day number used here (days since 1970 until 2149)


@dataclass
class PlanVersions:
    """One row per plan version, sorted by plan then version; plans sorted by provider, start."""

    plan: np.ndarray
    version: np.ndarray
    created: np.ndarray
    signed: np.ndarray  # P.OPEN = never signed
    review: np.ndarray  # P.OPEN = none
    plan_case: np.ndarray
    """Case of each plan (indexed by plan)."""


@dataclass
class Goals:
    """Sorted by provider, agreement date, plan."""

    plan: np.ndarray
    case: np.ndarray
    field: np.ndarray
    agreed: np.ndarray
    target: np.ndarray  # P.OPEN = none
    template: np.ndarray  # index into TEMPLATES, -1 = no criterion
    status: np.ndarray  # index into GOAL_STATUS (outcome once assessed)
    assessed: np.ndarray  # P.OPEN = never assessed (OFFEN)


@dataclass
class Contacts:
    """Sorted by provider, date, case."""

    case: np.ndarray
    day: np.ndarray
    mode: np.ndarray  # index into P.KONTAKTART
    minutes: np.ndarray
    topic: np.ndarray  # index into TOPICS
    goal: np.ndarray  # goal index, -1 = none
    referral: np.ndarray  # index into REFERRALS, -1 = none


@dataclass
class Outcomes:
    case: np.ndarray
    day: np.ndarray
    domain: np.ndarray  # index into DOMAINS
    value: np.ndarray  # index into OUTCOME_CODES


def _index_draw(rng: np.random.Generator, table, codes: tuple[str, ...], n: int) -> np.ndarray:
    """Indices into `codes` drawn with the weights of `table`."""
    names, probs = P.codes_and_probs(table)
    lookup = np.array([codes.index(c) for c in names])
    return lookup[rng.choice(len(names), size=n, p=probs)]


def build_plans(
    rng: np.random.Generator, pv: Providers, cases: Cases, horizon: int
) -> PlanVersions:
    span = np.minimum(cases.end, horizon) - cases.ek
    cov = np.flatnonzero(cases.covered)
    sig = cases.ek[cov] + cases.sig_delay[cov]
    created = np.maximum(cases.ek[cov], sig - rng.integers(0, 15, cov.size))
    review = sig + rng.integers(90, 184, cov.size)

    # plans that never got past an unsigned draft
    cand = cases.is_cm & ~cases.covered & (span >= 56)
    drafts = np.flatnonzero(cand & (rng.random(cases.n) < P.PLAN_DRAFT_ONLY_SHARE))
    d_created = cases.ek[drafts] + rng.integers(14, np.minimum(120, span[drafts] - 1) + 1)

    plan_case = np.concatenate([cov, drafts])
    first_created = np.concatenate([created, d_created])
    order = np.lexsort((plan_case, first_created, cases.provider[plan_case]))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    plan_case = plan_case[order]

    parts = [
        (rank[: cov.size], np.ones(cov.size, np.int64), created, sig, review),
        (rank[cov.size :], np.ones(drafts.size, np.int64), d_created,
         np.full(drafts.size, P.OPEN), np.full(drafts.size, P.OPEN)),
    ]  # fmt: skip
    # follow-up versions around each review date, on time with the provider's probability
    cur = np.arange(cov.size)
    cur_review = review
    case_end = cases.end[cov]
    on_time = pv.review_on_time[cases.provider[cov]]
    version = 1
    while cur.size:
        lag = np.where(
            rng.random(cur.size) < on_time[cur],
            rng.integers(-14, 15, cur.size),
            rng.integers(15, 121, cur.size),
        )
        nc = cur_review + lag
        ok = (nc < case_end[cur]) & (nc <= horizon)
        cur, nc = cur[ok], nc[ok]
        stop = rng.random(cur.size) < P.FOLLOW_UP_DRAFT_STOP_SHARE
        s = np.minimum(nc + rng.integers(0, 22, cur.size), case_end[cur])
        s = np.where(stop, P.OPEN, s)
        r = np.where(stop, P.OPEN, s + rng.integers(90, 184, cur.size))
        version += 1
        parts.append((rank[cur], np.full(cur.size, version), nc, s, r))
        cur, cur_review = cur[~stop], r[~stop]
    plan, ver, cr, sg, rv = (np.concatenate(x) for x in zip(*parts, strict=True))
    o = np.lexsort((ver, plan))
    return PlanVersions(plan[o], ver[o], cr[o], sg[o], rv[o], plan_case)


def build_goals(
    rng: np.random.Generator, pv: Providers, cases: Cases, plans: PlanVersions
) -> Goals:
    v1 = (plans.version == 1) & (plans.signed < P.OPEN)
    p1, agreed1 = plans.plan[v1], plans.signed[v1]
    n_goals = rng.choice(np.array([2, 3, 4]), size=p1.size, p=[0.35, 0.40, 0.25])
    # distinct fields per plan: weighted sampling without replacement (Gumbel top-k)
    _, w = P.codes_and_probs(P.HANDLUNGSFELD)
    keys = np.log(w)[None, :] - np.log(-np.log(rng.random((p1.size, len(FIELDS)))))
    ranked = np.argsort(-keys, axis=1)
    take = np.arange(len(FIELDS))[None, :] < n_goals[:, None]
    g_plan = np.repeat(p1, n_goals)
    g_field = ranked[take]
    g_agreed = np.repeat(agreed1, n_goals)
    # now and then a follow-up version adds a goal
    fu = (
        (plans.version > 1)
        & (plans.signed < P.OPEN)
        & (rng.random(plans.plan.size) < P.EXTRA_GOAL_PER_VERSION)
    )
    g_plan = np.concatenate([g_plan, plans.plan[fu]])
    g_field = np.concatenate([g_field, _index_draw(rng, P.HANDLUNGSFELD, FIELDS, int(fu.sum()))])
    g_agreed = np.concatenate([g_agreed, plans.signed[fu]])
    g_case = plans.plan_case[g_plan]
    prov = cases.provider[g_case]
    order = np.lexsort((g_plan, g_agreed, prov))
    g_plan, g_field, g_agreed, g_case, prov = (
        a[order] for a in (g_plan, g_field, g_agreed, g_case, prov)
    )
    n = g_plan.size

    has_target = rng.random(n) < pv.target_date_share[prov]
    target = np.where(has_target, g_agreed + rng.integers(90, 366, n), P.OPEN)
    n_tpl = np.diff(_TEMPLATE_OFF)[g_field]
    template = _TEMPLATE_OFF[g_field] + (rng.random(n) * n_tpl).astype(np.int64)
    template = np.where(rng.random(n) < pv.smart_share[prov], template, -1)

    due = np.where(
        has_target, target + rng.integers(-30, 61, n), g_agreed + rng.integers(120, 366, n)
    )
    due = np.maximum(due, g_agreed + 7)
    assessed = np.minimum(due, cases.end[g_case])  # at the latest when the case closes
    a = pv.goal_attainment[prov]
    u = rng.random(n)
    status = np.where(u < a, 1, np.where(u < a + (1 - a) * 0.55, 2, 3))
    status = np.where(rng.random(n) < P.GOAL_DROPPED_SHARE, 4, status)
    return Goals(g_plan, g_case, g_field, g_agreed, target, template, status, assessed)


def goal_met_share(cases: Cases, goals: Goals) -> np.ndarray:
    met = np.bincount(goals.case, weights=goals.status == 1, minlength=cases.n)
    total = np.bincount(goals.case, minlength=cases.n)
    return np.divide(met, total, out=np.zeros(cases.n), where=total > 0)


def build_contacts(
    rng: np.random.Generator,
    pv: Providers,
    cases: Cases,
    persons: Persons,
    goals: Goals,
    horizon: int,
) -> Contacts:
    span = np.minimum(cases.end, horizon) - cases.ek
    months = span / 30.4375
    lam = P.CM_CONTACTS_PER_MONTH * pv.contact_intensity[cases.provider] * months
    extra_kb = np.where(span > 0, np.minimum(rng.poisson(P.KB_EXTRA_CONTACTS_MEAN, cases.n), 3), 0)
    count = 1 + np.where(cases.is_cm, rng.poisson(lam), extra_kb)
    case = np.repeat(np.arange(cases.n), count)
    n = case.size
    first = np.zeros(n, dtype=bool)
    first[np.cumsum(count) - count] = True
    offset = (rng.random(n) * (span[case] + 1)).astype(np.int64)
    day = cases.ek[case] + np.where(first, 0, offset)
    prov = cases.provider[case]
    key = (prov * _BIG + day) * (cases.n + 1) + case
    order = np.argsort(key, kind="stable")
    case, day, prov = case[order], day[order], prov[order]
    del key, order, offset, first

    # goal links: only contacts on or after the agreement of one of the case's goals qualify
    gorder = np.lexsort((goals.agreed, goals.case))
    gkey = goals.case[gorder] * _BIG + goals.agreed[gorder]
    lo = np.searchsorted(gkey, case * _BIG, side="left")
    k = np.searchsorted(gkey, case * _BIG + day, side="right") - lo
    is_cm = cases.is_cm[case]
    eligible = is_cm & (k > 0)
    # link probability per provider and year so that the share among CM contacts is the truth
    n_years = 2101 - 2017
    cell = prov * n_years + np.clip(P.years_of(day) - 2017, 0, n_years - 1)
    cm_n = np.bincount(cell[is_cm], minlength=pv.n * n_years)
    el_n = np.bincount(cell[eligible], minlength=pv.n * n_years)
    q = np.repeat(pv.goal_linked_share, n_years)
    prob = np.minimum(1.0, np.divide(q * cm_n, el_n, out=np.zeros(q.size), where=el_n > 0))
    linked = eligible & (rng.random(n) < prob[cell])
    goal = np.full(n, -1, dtype=np.int64)
    if gorder.size:
        pick = lo + (rng.random(n) * np.maximum(k, 1)).astype(np.int64)
        goal = np.where(linked, gorder[np.minimum(pick, gorder.size - 1)], -1)
    del lo, k, cell

    obliged = persons.obliged[cases.person[case]]
    topic = np.where(
        obliged,
        _index_draw(rng, P.THEMA_OBLIGED, TOPICS, n),
        _index_draw(rng, P.THEMA, TOPICS, n),
    )
    field_topic = np.array([TOPICS.index(f) for f in FIELDS])
    on_goal = linked & (rng.random(n) < 0.85)
    if goals.field.size:
        topic = np.where(on_goal, field_topic[goals.field[np.maximum(goal, 0)]], topic)

    regime = np.where(day < P.to_day(date(2020, 3, 1)), 0, np.where(day < P.year_start(2022), 1, 2))
    w = np.array(P.KONTAKTART_WEIGHTS)
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0
    u = rng.random(n)
    mode = (u[:, None] > cum[regime]).sum(axis=1).astype(np.int8)
    median = np.array(P.DAUER_MEDIAN_MIN)[mode]
    minutes = np.clip(np.round(median * rng.lognormal(0.0, 0.5, n) / 5) * 5, 5, 480).astype(
        np.int64
    )

    referral = np.full(n, -1, dtype=np.int64)
    refer = np.flatnonzero(rng.random(n) < P.REFERRAL_SHARE)
    for t, name in enumerate(TOPICS):
        idx = refer[topic[refer] == t]
        table = P.VERWEISUNG_BY_THEMA.get(name, P.VERWEISUNG_DEFAULT)
        referral[idx] = _index_draw(rng, table, REFERRALS, idx.size)
    # compact dtypes: this is the largest table of the world
    return Contacts(
        case.astype(np.int32),
        day.astype(np.int32),
        mode,
        minutes.astype(np.int16),
        topic.astype(np.int8),
        goal.astype(np.int32),
        referral.astype(np.int8),
    )
