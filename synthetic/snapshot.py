"""Cut the world at `stand` into delivered extracts: one polars frame per extract.

Each frame has the contract's columns in contract order with delivered types (ids and codes as
strings, dates as `pl.Date`, decimals as floats) plus `PROVIDER` (the delivering AGS, `08` for the
funding authority). What the provider could not know at `stand` is left out: later rows are
dropped, later closure/signature/assessment dates are empty. Ids are numbered per provider in the
world's order, so a later snapshot of the same seed keeps every id.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl

from contract.spec import AUTHORITY_PROVIDER, EXTRACTS
from synthetic import casework_plans as CP
from synthetic import params as P
from synthetic.obligations import obligation_rows
from synthetic.world import World

PROVIDER = "_provider"


def _seq(prov: np.ndarray) -> np.ndarray:
    """1-based running number within each provider (arrays sorted by provider)."""
    return np.arange(prov.size) - np.searchsorted(prov, prov, side="left") + 1


def _id(prefix: str, seq, width: int) -> pl.Series:
    s = pl.Series(np.asarray(seq, dtype=np.int64)).cast(pl.String).str.zfill(width)
    return (prefix + s).rename("")


def _date(days: np.ndarray, known: np.ndarray | None = None) -> pl.Series:
    """Day numbers as dates; empty where not `known` or where the value is P.OPEN."""
    days = np.asarray(days, dtype=np.int64)
    show = days < P.OPEN if known is None else known & (days < P.OPEN)
    return (
        pl.Series(np.where(show, days, 0).astype(np.int32))
        .cast(pl.Date)
        .scatter(np.flatnonzero(~show), None)
    )


def _codes(idx: np.ndarray, codes: tuple[str, ...]) -> pl.Series:
    """Code strings from indices (-1 = empty)."""
    idx = np.asarray(idx, dtype=np.int64)
    s = pl.Series(np.where(idx < 0, 0, idx)).replace_strict(
        list(range(len(codes))), list(codes), return_dtype=pl.String
    )
    return s.scatter(np.flatnonzero(idx < 0), None)


def _text(values: np.ndarray) -> pl.Series:
    """Strings with "" as empty."""
    values = values.astype(str)
    return pl.Series(values).scatter(np.flatnonzero(values == ""), None)


def _frame(prov: np.ndarray, ags: list[str], extract: str, cols: dict[str, object]) -> pl.DataFrame:
    names = [c.name for c in EXTRACTS[extract].columns]
    assert list(cols) == names, (extract, list(cols))
    provider = _codes(prov, tuple(ags)).cast(pl.Enum(ags))
    return pl.DataFrame({PROVIDER: provider, **cols})


def build_frames(world: World, stand: int) -> dict[str, pl.DataFrame]:
    return dict(iter_frames(world, stand))


def iter_frames(world: World, stand: int) -> Iterator[tuple[str, pl.DataFrame]]:
    """The extracts one at a time (faelle before kontakte), so only one large frame is alive."""
    w, s = world, stand
    ags = [*w.providers.ags, AUTHORITY_PROVIDER]
    c, pe, st = w.cases, w.persons, w.status

    # personen
    keep = pe.first_ek <= s
    person_seq = _seq(pe.provider)
    idx = np.flatnonzero(keep)
    au_start = np.where(pe.au_start > s, pe.first_ek, pe.au_start)[idx]  # move-in not yet known
    yield "personen", _frame(pe.provider[idx], ags, "personen", {
        "person_id": _id("P-", person_seq[idx], 6),
        "geburtsjahr": pl.Series(pe.birth_year[idx], dtype=pl.Int64),
        "geschlecht": pl.Series(pe.sex[idx].astype(str)),
        "staatsangehoerigkeit": pl.Series(pe.nationality[idx].astype(str)),
        "einreisedatum": _date(pe.arrival[idx], pe.arrival_known[idx] & (pe.arrival[idx] <= s)),
        "au_beginn": _date(au_start),
        "au_ende": _date(pe.au_end[idx], pe.au_end[idx] <= s),
        "wohngemeinde_ags": pl.Series(pe.home_ags[idx].astype(str)),
    })  # fmt: skip

    # aufenthalt: a period still running at stand has no known end
    idx = np.flatnonzero(keep[st.person] & (st.valid_from <= s))
    sp = st.person[idx]
    yield "aufenthalt", _frame(pe.provider[sp], ags, "aufenthalt", {
        "person_id": _id("P-", person_seq[sp], 6),
        "status_code": pl.Series(st.code[idx].astype(str)),
        "gueltig_ab": _date(st.valid_from[idx]),
        "gueltig_bis": _date(st.valid_to[idx], st.valid_to[idx] < s),
    })  # fmt: skip

    # stellen
    pos = w.positions
    seg_prov = pos.slot_provider[pos.seg_slot]
    seg_order = np.lexsort((pos.seg_start, seg_prov))  # number by provider, then start
    seg_seq = np.empty(seg_prov.size, dtype=np.int64)
    seg_seq[seg_order] = _seq(seg_prov[seg_order])
    idx = seg_order[pos.seg_start[seg_order] <= s]
    yield "stellen", _frame(seg_prov[idx], ags, "stellen", {
        "stellen_id": _id("ST-", seg_seq[idx], 3),
        "vzae": pl.Series(pos.slot_fte[pos.seg_slot[idx]], dtype=pl.Float64),
        "qualifikation": pl.Series(pos.seg_qual[idx].astype(str)),
        "beginn": _date(pos.seg_start[idx]),
        "ende": _date(pos.seg_end[idx], pos.seg_end[idx] <= s),
    })  # fmt: skip

    # faelle
    case_seq = _seq(c.provider)
    idx = np.flatnonzero(c.ek <= s)
    closed = c.end[idx] <= s
    yield "faelle", _frame(c.provider[idx], ags, "faelle", {
        "fall_id": _id("F-", case_seq[idx], 6),
        "person_id": _id("P-", person_seq[c.person[idx]], 6),
        "stellen_id": _id("ST-", seg_seq[c.segment[idx]], 3),
        "fallart": pl.Series(np.where(c.is_cm[idx], "CM", "KB")),
        "erstkontakt_datum": _date(c.ek[idx]),
        "abschluss_datum": _date(c.end[idx], closed),
        "abschluss_grund": _text(np.where(closed, c.reason[idx], "")),
    })  # fmt: skip

    # plaene
    pv = w.plans
    plan_prov = c.provider[pv.plan_case]
    plan_seq = _seq(plan_prov)
    idx = np.flatnonzero(pv.created <= s)
    signed = pv.signed[idx] <= s
    yield "plaene", _frame(plan_prov[pv.plan[idx]], ags, "plaene", {
        "plan_id": _id("IP-", plan_seq[pv.plan[idx]], 6),
        "version": pl.Series(pv.version[idx], dtype=pl.Int64),
        "fall_id": _id("F-", case_seq[pv.plan_case[pv.plan[idx]]], 6),
        "erstellt_am": _date(pv.created[idx]),
        "unterzeichnet_am": _date(pv.signed[idx], signed),
        "naechste_pruefung_am": _date(pv.review[idx], signed),
    })  # fmt: skip

    # ziele: assessment after stand -> still OFFEN
    g = w.goals
    goal_prov = c.provider[g.case]
    goal_seq = _seq(goal_prov)
    idx = np.flatnonzero(g.agreed <= s)
    assessed = g.assessed[idx] <= s
    target = g.target[idx]
    text_date = _date(np.where(target < P.OPEN, target, g.agreed[idx] + 180))
    criterion = (
        pl.DataFrame({"t": _codes(g.template[idx], CP.TEMPLATES), "d": text_date})
        .select(
            pl.col("t")
            .str.replace_all("{mm}", pl.col("d").dt.strftime("%m"), literal=True)
            .str.replace_all("{yyyy}", pl.col("d").dt.strftime("%Y"), literal=True)
        )
        .to_series()
    )
    yield "ziele", _frame(goal_prov[idx], ags, "ziele", {
        "ziel_id": _id("Z-", goal_seq[idx], 7),
        "plan_id": _id("IP-", plan_seq[g.plan[idx]], 6),
        "handlungsfeld": _codes(g.field[idx], CP.FIELDS),
        "vereinbart_am": _date(g.agreed[idx]),
        "zieldatum": _date(target),
        "messkriterium": criterion,
        "status": _codes(np.where(assessed, g.status[idx], 0), CP.GOAL_STATUS),
        "bewertet_am": _date(g.assessed[idx], assessed),
    })  # fmt: skip

    # kontakte
    k = w.contacts
    k_prov = c.provider[k.case]
    k_seq = _seq(k_prov)
    idx = np.flatnonzero(k.day <= s)
    goal = k.goal[idx]
    goal_id = _id("Z-", goal_seq[np.maximum(goal, 0)] if goal_seq.size else np.zeros_like(goal), 7)
    yield "kontakte", _frame(k_prov[idx], ags, "kontakte", {
        "kontakt_id": _id("K-", k_seq[idx], 7),
        "fall_id": _id("F-", case_seq[k.case[idx]], 6),
        "datum": _date(k.day[idx]),
        "dauer_min": pl.Series(k.minutes[idx], dtype=pl.Int64),
        "kontaktart": _codes(k.mode[idx], P.KONTAKTART),
        "thema": _codes(k.topic[idx], CP.TOPICS),
        "ziel_id": goal_id.scatter(np.flatnonzero(goal < 0), None),
        "verweisung": _codes(k.referral[idx], CP.REFERRALS),
    })  # fmt: skip

    # ergebnisse
    o = w.outcomes
    idx = np.flatnonzero(o.day <= s)
    yield "ergebnisse", _frame(c.provider[o.case[idx]], ags, "ergebnisse", {
        "fall_id": _id("F-", case_seq[o.case[idx]], 6),
        "erhoben_am": _date(o.day[idx]),
        "bereich": _codes(o.domain[idx], CP.DOMAINS),
        "wert": _codes(o.value[idx], CP.OUTCOME_CODES),
    })  # fmt: skip

    yield from _authority_frames(world, stand, ags).items()


def _authority_frames(world: World, s: int, ags: list[str]) -> dict[str, pl.DataFrame]:
    f = world.funding
    auth = len(ags) - 1
    year_of_grant = P.years_of(f.g_from)
    grant_nr = pl.Series(
        [
            f"IM-{y}-{ags[p]}"
            for y, p in zip(year_of_grant.tolist(), f.g_provider.tolist(), strict=True)
        ]
    )
    out: dict[str, pl.DataFrame] = {}

    idx = np.flatnonzero(f.g_granted_on <= s)
    out["bewilligungen"] = _frame(np.full(idx.size, auth), ags, "bewilligungen", {
        "bescheid_nr": grant_nr.gather(idx),
        "antragsteller_ags": pl.Series([ags[p] for p in f.g_provider[idx].tolist()], dtype=pl.String),  # noqa: E501
        "bewilligt_am": _date(f.g_granted_on[idx]),
        "zeitraum_von": _date(f.g_from[idx]),
        "zeitraum_bis": _date(f.g_to[idx]),
        "foerdersumme_eur": pl.Series(f.g_amount[idx], dtype=pl.Float64),
        "vzae_bewilligt": pl.Series(f.g_fte[idx], dtype=pl.Float64),
    })  # fmt: skip

    idx = np.flatnonzero(f.r_received <= s)
    paid = f.r_paid_on[idx] <= s
    out["mittelabrufe"] = _frame(np.full(idx.size, auth), ags, "mittelabrufe", {
        "abruf_id": _id("MA-", idx + 1, 6),
        "bescheid_nr": grant_nr.gather(f.r_grant[idx]),
        "jahr": pl.Series(f.r_year[idx], dtype=pl.Int64),
        "eingegangen_am": _date(f.r_received[idx]),
        "betrag_beantragt_eur": pl.Series(f.r_requested[idx], dtype=pl.Float64),
        "rueckfragen": pl.Series(f.r_queries[idx], dtype=pl.Int64),
        "ausgezahlt_am": _date(f.r_paid_on[idx], paid),
        "betrag_ausgezahlt_eur": pl.Series(np.where(paid, f.r_paid[idx], np.nan)).fill_nan(None),
    })  # fmt: skip

    idx = np.flatnonzero(f.v_received <= s)
    checked = f.v_checked[idx] <= s
    recovery = np.where(checked, f.v_recovery[idx], np.nan)
    out["verwendungsnachweise"] = _frame(np.full(idx.size, auth), ags, "verwendungsnachweise", {
        "bescheid_nr": grant_nr.gather(f.v_grant[idx]),
        "jahr": pl.Series(f.v_year[idx], dtype=pl.Int64),
        "personalkosten_ist_eur": pl.Series(f.v_staff[idx], dtype=pl.Float64),
        "sachkosten_ist_eur": pl.Series(f.v_material[idx], dtype=pl.Float64),
        "vzae_ist": pl.Series(f.v_fte[idx], dtype=pl.Float64),
        "eingegangen_am": _date(f.v_received[idx]),
        "geprueft_am": _date(f.v_checked[idx], checked),
        "rueckforderung_eur": pl.Series(recovery).fill_nan(None),
    })  # fmt: skip

    ob = obligation_rows(world, s)
    out["meldepflichten"] = _frame(np.full(ob.height, auth), ags, "meldepflichten", {
        "bescheid_nr": grant_nr.gather(ob.get_column("grant").to_numpy()),
        "traeger_ags": ob.get_column("obliged"),
        "gueltig_ab": _date(ob.get_column("valid_from").to_numpy()),
        "gueltig_bis": _date(ob.get_column("valid_to").to_numpy()),
    })  # fmt: skip

    stand_year = int(P.years_of(np.array([s]))[0])
    idx = np.flatnonzero(f.b_year <= stand_year)
    out["haushalt"] = _frame(np.full(idx.size, auth), ags, "haushalt", {
        "jahr": pl.Series(f.b_year[idx], dtype=pl.Int64),
        "ansatz_eur": pl.Series(f.b_appropriation[idx], dtype=pl.Float64),
        "reste_vorjahr_eur": pl.Series(f.b_carryover[idx], dtype=pl.Float64),
    })  # fmt: skip
    return out
