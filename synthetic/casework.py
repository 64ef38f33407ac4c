"""Cases, persons and residence-status histories of the synthetic world (vectorised)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic import params as P
from synthetic.providers import Positions, Providers


@dataclass
class Cases:
    """Sorted by (provider, first contact); index = case number."""

    provider: np.ndarray
    person: np.ndarray
    segment: np.ndarray
    is_cm: np.ndarray
    ek: np.ndarray
    end: np.ndarray
    """Closure day, or P.OPEN when the case is still open at the horizon."""
    covered: np.ndarray
    """The case gets a signed plan (drawn with the provider's plan_coverage)."""
    sig_delay: np.ndarray
    programme_end: np.ndarray
    hit_max: np.ndarray
    has_successor: np.ndarray
    reason: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.ek)


@dataclass
class Persons:
    """Sorted by (provider, first contact); index = person number."""

    provider: np.ndarray
    first_ek: np.ndarray
    last_end: np.ndarray
    obliged: np.ndarray
    nationality: np.ndarray
    status: np.ndarray
    """Status code valid throughout the person's counselling."""
    birth_year: np.ndarray
    sex: np.ndarray
    arrival: np.ndarray
    arrival_known: np.ndarray
    au_start: np.ndarray
    home_ags: np.ndarray
    au_end: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.first_ek)


@dataclass
class StatusRows:
    person: np.ndarray
    code: np.ndarray
    valid_from: np.ndarray
    valid_to: np.ndarray  # P.OPEN = open


def _inflow_factor(days: np.ndarray) -> np.ndarray:
    years = P.years_of(days)
    table = np.array([P.INFLOW_BY_YEAR.get(y, 0.9) for y in range(2017, 2101)])
    return table[np.clip(years - 2017, 0, len(table) - 1)]


def _case_core(
    rng: np.random.Generator,
    prov: np.ndarray,
    ek: np.ndarray,
    is_cm: np.ndarray,
    pv: Providers,
    horizon: int,
) -> dict[str, np.ndarray]:
    """Duration, plan coverage and signature delay of new cases."""
    n = len(ek)
    dur_kb = np.where(rng.random(n) < 0.4, 0, rng.integers(1, 91, n))
    short = rng.random(n) < P.CM_SHORT_SHARE
    tail = rng.random(n) < 0.12
    g = np.where(tail, rng.gamma(2.0, 400.0, n), rng.gamma(1.5, 170.0, n)).astype(np.int64)
    dur = np.where(is_cm, np.where(short, rng.integers(7, 56, n), 56 + g), dur_kb)

    covered = is_cm & (dur >= 56) & (rng.random(n) < pv.plan_coverage[prov])
    fast = rng.random(n) < pv.within_8_weeks[prov]
    delay = np.where(fast, rng.integers(5, 57, n), rng.integers(57, 151, n))
    # a case that gets a plan lasts beyond the signature (otherwise coverage would not show)
    dur = np.where(covered, np.maximum(dur, delay + rng.integers(30, 121, n)), dur)

    cap = np.where(rng.random(n) < P.EXTENDED_CASE_SHARE, P.EXTENDED_MAX_CASE_DAYS, P.MAX_CASE_DAYS)
    hit_max = is_cm & (dur > cap)
    end = ek + np.minimum(dur, cap)
    prov_end = pv.end_day[prov]
    programme_end = (end > prov_end) & (prov_end < horizon)
    end = np.where(programme_end, prov_end, end)
    still_open = end > horizon
    end = np.where(still_open, P.OPEN, end)
    hit_max &= ~programme_end & ~still_open
    delay = np.where(covered & ~still_open, np.minimum(delay, end - ek), delay)
    return {
        "end": end,
        "covered": covered,
        "sig_delay": np.where(covered, delay, -1),
        "programme_end": programme_end,
        "hit_max": hit_max,
    }


def build_cases(
    rng: np.random.Generator,
    pv: Providers,
    pos: Positions,
    case_factor: float,
    horizon: int,
) -> Cases:
    # first cases: inflow proportional to FTE over time, modulated by year
    slot_stop = np.minimum(pos.slot_end, horizon)
    length = slot_stop - pos.slot_start + 1
    max_m = max(P.INFLOW_BY_YEAR.values())
    lam = P.CASES_PER_FTE_YEAR * case_factor * pos.slot_fte * length / 365.25 * max_m
    slot = np.repeat(np.arange(len(lam)), rng.poisson(lam))
    ek = pos.slot_start[slot] + (rng.random(slot.size) * length[slot]).astype(np.int64)
    keep = rng.random(slot.size) < _inflow_factor(ek) / max_m
    slot, ek = slot[keep], ek[keep]
    # when the Kreise take over in 2025, clients of the Gemeinden come over in the first quarter
    takeover = np.flatnonzero(pos.slot_start == P.to_day(P.KREISE_ONLY_FROM))
    lam_t = P.TAKEOVER_CASES_PER_FTE * case_factor * pos.slot_fte[takeover]
    t_slot = np.repeat(takeover, rng.poisson(lam_t))
    t_ek = pos.slot_start[t_slot] + rng.integers(0, 91, t_slot.size)
    t_ok = t_ek <= np.minimum(pos.slot_end[t_slot], horizon)
    slot = np.concatenate([slot, t_slot[t_ok]])
    ek = np.concatenate([ek, t_ek[t_ok]])
    prov = pos.slot_provider[slot]
    order = np.lexsort((ek, prov))
    slot, ek, prov = slot[order], ek[order], prov[order]
    is_cm = rng.random(ek.size) < P.CM_SHARE
    first = _case_core(rng, prov, ek, is_cm, pv, horizon)

    # some persons come back for a second case after the first one closed
    closed = (first["end"] < P.OPEN) & ~first["programme_end"]
    again = closed & (rng.random(ek.size) < P.SECOND_CASE_SHARE)
    idx = np.flatnonzero(again)
    ek2 = first["end"][idx] + rng.integers(30, 541, idx.size)
    ok = ek2 < np.minimum(pv.end_day[prov[idx]], horizon)
    idx, ek2 = idx[ok], ek2[ok]
    is_cm2 = rng.random(idx.size) < 0.6
    second = _case_core(rng, prov[idx], ek2, is_cm2, pv, horizon)
    has_successor = np.zeros(ek.size, dtype=bool)
    has_successor[idx] = True

    person = np.concatenate([np.arange(ek.size), idx])
    all_slot = np.concatenate([slot, slot[idx]])
    all_ek = np.concatenate([ek, ek2])
    all_prov = np.concatenate([prov, prov[idx]])
    order = np.lexsort((person, all_ek, all_prov))
    cat = {k: np.concatenate([first[k], second[k]])[order] for k in first}
    all_slot, all_ek = all_slot[order], all_ek[order]
    return Cases(
        provider=all_prov[order],
        person=person[order],
        segment=pos.segment_at(all_slot, all_ek),
        is_cm=np.concatenate([is_cm, is_cm2])[order],
        ek=all_ek,
        has_successor=np.concatenate([has_successor, np.zeros(idx.size, dtype=bool)])[order],
        **cat,
    )


def build_persons(rng: np.random.Generator, pv: Providers, cases: Cases) -> Persons:
    n = int(cases.person.max()) + 1 if cases.n else 0
    first_ek = np.full(n, P.OPEN, dtype=np.int64)
    np.minimum.at(first_ek, cases.person, cases.ek)
    last_end = np.zeros(n, dtype=np.int64)
    np.maximum.at(last_end, cases.person, cases.end)
    prov = np.zeros(n, dtype=np.int64)
    prov[cases.person] = cases.provider

    obliged = rng.random(n) < pv.obliged_share[prov]
    ukraine_ok = first_ek >= P.to_day(P.UKRAINE_FROM) + 31
    ukraine = ~obliged & ukraine_ok & (rng.random(n) < P.UKRAINE_SHARE_FROM_2022)
    nationality = np.where(
        obliged, P.draw(rng, P.NATIONALITY_OBLIGED, n), P.draw(rng, P.NATIONALITY_PROTECTED, n)
    )
    nationality = np.where(ukraine, "UKR", nationality)
    status = np.where(obliged, P.draw(rng, P.STATUS_OBLIGED, n), P.draw(rng, P.STATUS_PROTECTED, n))
    status = np.where(ukraine, "AE_24", status)

    age = np.where(
        rng.random(n) < 0.04,
        rng.integers(16, 18, n),
        18 + np.minimum(rng.gamma(2.2, 7.5, n), 57).astype(np.int64),
    )
    birth_year = P.years_of(first_ek) - age

    pre_au = rng.random(n) < P.PRE_AU_SHARE
    gap = np.where(rng.random(n) < 0.75, rng.integers(0, 366, n), rng.integers(366, 1201, n))
    au_start = np.where(pre_au, first_ek + rng.integers(5, 91, n), first_ek - gap)
    arrival = np.minimum(au_start, first_ek) - rng.integers(30, 901, n)
    # Ukrainians: arrival from March 2022, moved into AU before or soon after the first contact
    ua_from = P.to_day(P.UKRAINE_FROM)
    ua_arrival = ua_from + (rng.random(n) * np.maximum(1, first_ek - 14 - ua_from)).astype(np.int64)
    ua_au = ua_arrival + (rng.random(n) * (first_ek - ua_arrival + 1)).astype(np.int64)
    arrival = np.where(ukraine, ua_arrival, arrival)
    au_start = np.where(ukraine & ~pre_au, ua_au, au_start)

    after_2025 = first_ek >= P.to_day(P.KREISE_ONLY_FROM)
    pool = pv.home_pool[prov]
    off = np.where(after_2025, pool[:, 2], pool[:, 0])
    cnt = np.where(after_2025, pool[:, 3], pool[:, 1])
    home = pv.home_codes[off + (rng.random(n) * cnt).astype(np.int64)]

    return Persons(
        provider=prov,
        first_ek=first_ek,
        last_end=last_end,
        obliged=obliged,
        nationality=nationality,
        status=status,
        birth_year=birth_year,
        sex=P.draw(rng, P.SEX, n),
        arrival=arrival,
        arrival_known=rng.random(n) < 0.95,
        au_start=au_start,
        home_ags=home,
    )


_GEST = ("GEST_GUT", "GEST_SONST")
_NO_ASYLUM_PROCEDURE = ("AE_22_23", "AE_24", "UNBEKANNT")


def build_status(rng: np.random.Generator, persons: Persons) -> StatusRows:
    """Up to three periods per person: asylum procedure, status during counselling, later change.

    The middle period covers every day from the first contact to the end of the last case, so
    the status category at any contact date is the one drawn for the person (EL02 truth).
    """
    n = persons.n
    s = persons.status
    arrival, first_ek, last_end = persons.arrival, persons.first_ek, persons.last_end
    procedure = ~np.isin(s, _GEST + _NO_ASYLUM_PROCEDURE)
    decision = arrival + 30 + (rng.random(n) * (first_ek - arrival - 29)).astype(np.int64)
    s_from = np.where(procedure, decision, arrival)
    p1_code = np.where(persons.obliged | (rng.random(n) < 0.5), "GEST_SONST", "GEST_GUT")

    closed = last_end < P.OPEN
    later = last_end + rng.integers(30, 701, n)
    p3_code = np.full(n, "", dtype=object)
    u = rng.random(n)
    gest_gut, gest_sonst = s == "GEST_GUT", s == "GEST_SONST"
    p3_code[gest_gut & (u < 0.8)] = np.where(rng.random(n) < 0.6, "AE_25_2_FL", "AE_25_2_SUB")[
        gest_gut & (u < 0.8)
    ]
    m = gest_sonst & (u < 0.7)
    p3_code[m] = np.where(rng.random(n) < 0.6, "DUL_60A", "AE_25_3")[m]
    m = persons.obliged & (u < 0.35)
    p3_code[m] = np.where(
        later >= P.year_start(2023),
        "AE_104C",
        np.where(rng.random(n) < 0.5, "AE_25A_25B", "DUL_60A"),
    )[m]
    protected = np.char.startswith(s.astype(str), "AE_") & (s != "AE_24")
    m = protected & (u < 0.25)
    nz_from = np.maximum(later, s_from + 5 * 365 + rng.integers(0, 366, n))
    later = np.where(m, nz_from, later)
    p3_code[m] = np.where(rng.random(n) < 0.85, "NE", "EINGEBUERGERT")[m]
    m = (s == "AE_24") & (u < 0.1)
    p3_code[m] = "AE_SONST"
    # a Duldung that only changes to another Duldung would be no change
    p3_code[p3_code == s] = ""
    has_p3 = closed & (p3_code != "")

    idx = np.arange(n)
    person = np.concatenate([idx[procedure], idx, idx[has_p3]])
    code = np.concatenate([p1_code[procedure], s, p3_code[has_p3]]).astype(str)
    valid_from = np.concatenate([arrival[procedure], s_from, later[has_p3]])
    valid_to = np.concatenate(
        [
            decision[procedure] - 1,
            np.where(has_p3, later - 1, P.OPEN),
            np.full(has_p3.sum(), P.OPEN),
        ]
    )
    order = np.lexsort((valid_from, person))
    return StatusRows(person[order], code[order], valid_from[order], valid_to[order])


def assign_closures(
    rng: np.random.Generator, cases: Cases, persons: Persons, met_share: np.ndarray
) -> None:
    """Closure reasons (given the goals' outcome) and the end of follow-up accommodation."""
    n = cases.n
    closed = cases.end < P.OPEN
    short = cases.is_cm & (cases.end - cases.ek < 56)
    obliged = persons.obliged[cases.person]

    def pick(table: tuple[tuple[str, float], ...]) -> np.ndarray:
        return P.draw(rng, table, n)

    reason = pick(
        (("ZIELE_ERREICHT", 0.25), ("AUSZUG_AU", 0.30), ("WEGZUG", 0.17),
         ("KONTAKTABBRUCH", 0.15), ("SONSTIGES", 0.13))
    )  # fmt: skip
    boost = cases.covered & (rng.random(n) < 0.5 * met_share)
    reason = np.where(boost, "ZIELE_ERREICHT", reason)
    reason = np.where(obliged & (rng.random(n) < 0.25), "AUSREISE", reason)
    reason = np.where(
        short,
        pick((("KONTAKTABBRUCH", 0.45), ("WEGZUG", 0.3), ("SONSTIGES", 0.15), ("AUSZUG_AU", 0.1))),
        reason,
    )
    reason = np.where(
        ~cases.is_cm,
        pick((("ZIELE_ERREICHT", 0.6), ("SONSTIGES", 0.2), ("KONTAKTABBRUCH", 0.1),
              ("WEGZUG", 0.05), ("AUSZUG_AU", 0.05))),
        reason,
    )  # fmt: skip
    reason = np.where(
        cases.has_successor,
        pick((("ZIELE_ERREICHT", 0.6), ("KONTAKTABBRUCH", 0.25), ("SONSTIGES", 0.15))),
        reason,
    )
    reason = np.where(cases.hit_max, "HOECHSTDAUER", reason)
    reason = np.where(cases.programme_end, "SONSTIGES", reason)
    cases.reason = np.where(closed, reason, "")

    # AU ends with the move that closed the last case, or some time after it
    last = np.zeros(persons.n, dtype=np.int64)
    last[cases.person] = np.arange(n)  # cases are sorted by first contact: the last one wins
    r, end = cases.reason[last], cases.end[last]
    moved = np.isin(r, ("AUSZUG_AU", "WEGZUG"))
    au_end = np.full(persons.n, P.OPEN, dtype=np.int64)
    au_end = np.where(moved, end - rng.integers(0, 46, persons.n), au_end)
    au_end = np.where(r == "AUSREISE", end, au_end)
    later = (end < P.OPEN) & ~moved & (r != "AUSREISE") & (rng.random(persons.n) < 0.25)
    au_end = np.where(later, end + rng.integers(1, 501, persons.n), au_end)
    persons.au_end = np.where(au_end < P.OPEN, np.maximum(au_end, persons.au_start), P.OPEN)
