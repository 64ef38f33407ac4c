"""Providers (Kreise and Gemeinden), their true parameters and their funded positions."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthetic import params as P


@dataclass(frozen=True)
class Kreis:
    ags: str
    name: str
    is_stadtkreis: bool
    rb: str


@dataclass
class Providers:
    """One entry per provider, sorted by AGS; arrays are indexed by provider number."""

    ags: list[str]
    kreis: list[str]
    rb: list[str]
    is_kreis: np.ndarray
    end_day: np.ndarray
    """Last day of activity: 2024-12-31 for Gemeinden, the horizon for Kreise."""
    plan_coverage: np.ndarray
    goal_attainment: np.ndarray
    goal_linked_share: np.ndarray
    obliged_share: np.ndarray
    contact_intensity: np.ndarray
    within_8_weeks: np.ndarray
    review_on_time: np.ndarray
    smart_share: np.ndarray
    target_date_share: np.ndarray
    rate_eur: np.ndarray
    queries: np.ndarray
    fast_payout: np.ndarray
    home_codes: np.ndarray
    """Flat array of Gemeinde AGS where the provider's clients live, see `home_pool`."""
    home_pool: np.ndarray
    """Shape (n, 4): offset and count into `home_codes` before 2025, offset and count from 2025."""

    @property
    def n(self) -> int:
        return len(self.ags)


@dataclass
class Positions:
    """Funded positions: a slot is a post with a fixed FTE; each holder is one `stellen` row."""

    slot_provider: np.ndarray
    slot_fte: np.ndarray
    slot_start: np.ndarray
    slot_end: np.ndarray
    seg_slot: np.ndarray
    seg_start: np.ndarray
    seg_end: np.ndarray
    seg_qual: np.ndarray
    seg_off: np.ndarray
    """First segment of each slot (segments are sorted by slot, then start)."""

    def segment_at(self, slot: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Index of the holder segment of `slot` active on `day` (day within the slot)."""
        key = self.seg_slot.astype(np.int64) * P.OPEN * 2 + self.seg_start
        q = slot.astype(np.int64) * P.OPEN * 2 + day
        return np.searchsorted(key, q, side="right") - 1


def read_kreise(path: Path) -> list[Kreis]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    return [
        Kreis(r["kreis_ags"], r["kreis_name"], r["kreis_typ"] == "Stadtkreis", r["rb_ags"])
        for r in rows
    ]


def _select(scale: str, kreise: list[Kreis], rng: np.random.Generator) -> tuple[list, dict]:
    """Kreis providers and the number of Gemeinde providers per Landkreis."""
    land = [k for k in kreise if not k.is_stadtkreis]
    cfg = P.SCALES[scale]
    if cfg.bw_like:
        total = P.BW_GEMEINDEN * cfg.size
        base = total // len(land)
        counts = {k.ags: base for k in land}
        for i in rng.choice(len(land), size=total - base * len(land), replace=False):
            counts[land[i].ags] += 1
        return list(kreise), counts
    by_ags = {k.ags: k for k in kreise}
    if scale == "tiny":
        return [by_ags["08115"], by_ags["08212"]], {"08317": 1}
    chosen: list[Kreis] = []
    counts = {}
    for rb, n_gem in zip(("081", "082", "083", "084"), (3, 3, 2, 2), strict=True):
        rb_land = [k for k in land if k.rb == rb]
        picks = rng.choice(len(rb_land), size=n_gem, replace=False)
        chosen.append(rb_land[picks[0]])
        for i in picks:
            counts[rb_land[i].ags] = counts.get(rb_land[i].ags, 0) + 1
    stadt = [k for k in kreise if k.is_stadtkreis and k.rb in ("081", "082")]
    chosen += [stadt[i] for i in sorted(rng.choice(len(stadt), size=2, replace=False))]
    return sorted(chosen, key=lambda k: k.ags), counts


def part_kreise(kreise: list[Kreis], part: tuple[int, int] | None) -> list[Kreis]:
    """The Kreise of `part` (index, count): a block of the reference in AGS order; all of them
    when the scale is generated in one part."""
    if part is None:
        return kreise
    index, count = part
    return [kreise[i] for i in np.array_split(np.arange(len(kreise)), count)[index]]


def build_providers(
    scale: str,
    seed: int,
    reference: Path,
    horizon_day: int,
    part: tuple[int, int] | None = None,
) -> tuple[Providers, Positions]:
    """The providers and positions of the scale, or of one part of it (`part_kreise`).

    Which Kreise have how many Gemeinde providers is drawn once for the whole scale; a part
    then draws its own parameters and positions from its own stream, so parts are independent
    and the whole is the same whichever part is generated first.
    """
    cfg = P.SCALES[scale]
    rng = P.rng_for(seed, scale, "providers")
    kreise = read_kreise(reference)
    kreis_providers, gem_counts = _select(scale, kreise, rng)
    all_kreis_providers, all_gemeinden = len(kreis_providers), sum(gem_counts.values())
    if part is not None:
        kreise = part_kreise(kreise, part)
        chosen = {k.ags for k in kreise}
        kreis_providers = [k for k in kreis_providers if k.ags in chosen]
        gem_counts = {a: n for a, n in gem_counts.items() if a in chosen}
        rng = P.rng_for(seed, scale, f"providers/part{part[0]}")

    # Gemeinde codes per Kreis: first for Gemeinde providers, the rest where Kreis clients live
    gem_providers: list[tuple[str, str]] = []  # (ags8, kreis)
    kreis_own_homes: dict[str, list[str]] = {}
    for k in kreise:
        if k.is_stadtkreis:
            kreis_own_homes[k.ags] = [k.ags + "000"]
            continue
        numbers = rng.permutation(np.arange(1, 200))
        n_gem = gem_counts.get(k.ags, 0)
        n_own = int(rng.integers(6, 21)) if cfg.bw_like else int(rng.integers(3, 7))
        gem_providers += [(f"{k.ags}{x:03d}", k.ags) for x in sorted(numbers[:n_gem])]
        kreis_own_homes[k.ags] = [f"{k.ags}{x:03d}" for x in sorted(numbers[n_gem : n_gem + n_own])]

    kreis_by_ags = {k.ags: k for k in kreise}
    entries = [(k.ags, k.ags, True) for k in kreis_providers]
    entries += [(g, kr, False) for g, kr in gem_providers]
    entries.sort()
    n = len(entries)
    ags = [e[0] for e in entries]
    kreis = [e[1] for e in entries]
    is_kreis = np.array([e[2] for e in entries])
    end_gemeinde = P.to_day(P.KREISE_ONLY_FROM) - 1
    end_day = np.where(is_kreis, horizon_day, end_gemeinde).astype(np.int64)

    def u(lo_hi: tuple[float, float]) -> np.ndarray:
        return rng.uniform(lo_hi[0], lo_hi[1], size=n)

    coverage = u(P.PLAN_COVERAGE)
    providers = Providers(
        ags=ags,
        kreis=kreis,
        rb=[kreis_by_ags[k].rb for k in kreis],
        is_kreis=is_kreis,
        end_day=end_day,
        plan_coverage=coverage,
        goal_attainment=u(P.GOAL_ATTAINMENT),
        goal_linked_share=coverage * u(P.GOAL_LINK_OF_COVERAGE),
        obliged_share=u(P.OBLIGED_SHARE),
        contact_intensity=u(P.CONTACT_INTENSITY),
        within_8_weeks=u(P.WITHIN_8_WEEKS),
        review_on_time=u(P.REVIEW_ON_TIME),
        smart_share=u(P.SMART_SHARE),
        target_date_share=u(P.TARGET_DATE_SHARE),
        rate_eur=np.round(rng.triangular(*P.RATE_EUR, size=n), -2),
        queries=u(P.QUERIES_PER_REQUEST),
        fast_payout=u(P.FAST_PAYOUT_SHARE),
        home_codes=np.array([], dtype=str),
        home_pool=np.zeros((n, 4), dtype=np.int64),
    )

    # residence pools
    codes: list[str] = []
    for i, (a, k, kreis_level) in enumerate(entries):
        pre = kreis_own_homes[k] if kreis_level else [a]
        post = pre + ([g for g, kr in gem_providers if kr == k] if kreis_level else [])
        providers.home_pool[i] = (len(codes), len(pre), len(codes) + len(pre), len(post))
        codes += pre + post
    providers.home_codes = np.array(codes)

    # FTE targets before 2025 and the Kreise's takeover from 2025
    if cfg.bw_like:
        w = rng.lognormal(0.0, 0.5, size=n)
        total = P.TOTAL_FTE_BW * cfg.size
        k_total = total * P.KREIS_FTE_SHARE_BEFORE_2025
        g_total = total - k_total
        # a part gets the share of its Kreis and Gemeinde providers (1 for a whole scale)
        k_total *= int(is_kreis.sum()) / all_kreis_providers
        g_total *= int((~is_kreis).sum()) / all_gemeinden
        target = np.where(
            is_kreis,
            k_total * w / w[is_kreis].sum(),
            g_total * w / (w[~is_kreis].sum() or 1.0),  # a part of Stadtkreise has no Gemeinden
        )
    elif scale == "demo":
        target = np.where(is_kreis, u((0.75, 1.75)), u((0.5, 1.0)))
    else:
        target = np.full(n, 0.5)
    takeover = np.array(
        [target[~is_kreis & (np.array(kreis) == k)].sum() if is_kreis[i] else 0.0
         for i, k in enumerate(kreis)]
    )  # fmt: skip

    # tiny: every post from day one, so each provider has its share of cases
    ramp_days = 0 if scale == "tiny" else 600
    positions = _build_positions(rng, target, takeover, end_day, horizon_day, ramp_days)
    return providers, positions


def _fill_slots(rng: np.random.Generator, target: float) -> list[float]:
    sizes, probs = np.array([1.0, 0.75, 0.5, 0.25]), np.array([0.55, 0.15, 0.25, 0.05])
    slots: list[float] = []
    remaining = target
    while remaining >= 0.125:
        s = float(sizes[rng.choice(4, p=probs)])
        s = min(s, max(0.25, round(remaining * 4) / 4))
        slots.append(s)
        remaining -= s
    return slots


def _build_positions(
    rng: np.random.Generator,
    target: np.ndarray,
    takeover: np.ndarray,
    end_day: np.ndarray,
    horizon_day: int,
    ramp_days: int,
) -> Positions:
    start0 = P.to_day(P.PROGRAMME_START)
    takeover_day = P.to_day(P.KREISE_ONLY_FROM)
    prov, fte, start, end = [], [], [], []
    for i in range(len(target)):
        for s in _fill_slots(rng, float(target[i])):
            prov.append(i)
            fte.append(s)
            late = rng.random() >= 0.35
            start.append(start0 + (int(rng.integers(0, ramp_days + 1)) if late else 0))
            end.append(int(end_day[i]))
        for s in _fill_slots(rng, float(takeover[i])) if takeover[i] > 0 else []:
            prov.append(i)
            fte.append(s)
            start.append(takeover_day)
            end.append(int(end_day[i]))
    slot_provider = np.array(prov, dtype=np.int64)
    slot_start = np.array(start, dtype=np.int64)
    slot_end = np.array(end, dtype=np.int64)

    # holders: consecutive segments of about 3 years each, the last one open at the horizon
    seg_slot, seg_start, seg_end = [], [], []
    cur = slot_start.copy()
    alive = np.arange(len(slot_start))
    while alive.size:
        length = np.maximum(90, rng.gamma(2.0, 550.0, size=alive.size).astype(np.int64))
        stop = np.minimum(cur[alive] + length - 1, slot_end[alive])
        seg_slot.append(alive)
        seg_start.append(cur[alive])
        seg_end.append(stop)
        cur[alive] = stop + 1
        alive = alive[stop < slot_end[alive]]
    s_slot = np.concatenate(seg_slot)
    s_start = np.concatenate(seg_start)
    s_end = np.concatenate(seg_end)
    s_end = np.where(s_end >= horizon_day, P.OPEN, s_end)
    order = np.lexsort((s_start, s_slot))
    s_slot, s_start, s_end = s_slot[order], s_start[order], s_end[order]
    qual = P.draw(
        rng,
        (("BACHELOR", 0.65), ("GLEICHWERTIG", 0.25), ("MITTLERER_ABSCHLUSS", 0.10)),
        len(s_slot),
    )
    return Positions(
        slot_provider=slot_provider,
        slot_fte=np.array(fte),
        slot_start=slot_start,
        slot_end=slot_end,
        seg_slot=s_slot,
        seg_start=s_start,
        seg_end=s_end,
        seg_qual=qual,
        seg_off=np.searchsorted(s_slot, np.arange(len(slot_start))),
    )
