"""Delivery obligations (`meldepflichten`, contract 1.1) of the synthetic world, and who delivers
late.

- Until 2024 each grant obliges its applicant alone, for the grant's period.
- From 2025 (`params.KREISE_ONLY_FROM`) only Kreise apply; each Kreis grant obliges the Kreis itself
  (in this world it employs the integration managers) and every Gemeinde provider in the Kreis
  (they keep delivering their case files), from the grant's first day to its last.
- Some obliged Gemeinden deliver late or never, so DQ01 varies: every fourth Kreis grant from 2025
  also obliges a Gemeinde that is no provider of the world (it never delivers anything), and every
  fourth Gemeinde obliged from 2025 delivers its `stellen` extract one quarter late (its newest
  `stellen` snapshot has the stand of the previous quarter's end).

Deterministic (every n-th in AGS order): no random draws, so adding obligations changes no other
part of the world for a given seed.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from synthetic import params as P
from synthetic.world import World

NEVER_EVERY = 4
"""Every NEVER_EVERY-th Kreis grant from 2025 obliges a Gemeinde that never delivers."""
LATE_EVERY = 4
"""Every LATE_EVERY-th obliged Gemeinde provider delivers `stellen` a quarter late."""
LATE_EXTRACT = "stellen"


def _never_code(kreis: str, taken: set[str]) -> str:
    """An 8-digit AGS in `kreis` that no provider of the world has."""
    for n in range(999, 0, -1):
        code = f"{kreis}{n:03d}"
        if code not in taken:
            return code
    raise ValueError(f"no free Gemeinde code in Kreis {kreis}")


def obligation_rows(world: World, stand: int) -> pl.DataFrame:
    """One row per (grant index, obliged AGS, from, to) for the grants granted by `stand`."""
    f, pv = world.funding, world.providers
    kreise_only = P.to_day(P.KREISE_ONLY_FROM)
    granted = np.flatnonzero(f.g_granted_on <= stand)
    gemeinden_of: dict[str, list[str]] = {}
    for ags, kreis, is_kreis in zip(pv.ags, pv.kreis, pv.is_kreis.tolist(), strict=True):
        if not is_kreis:
            gemeinden_of.setdefault(kreis, []).append(ags)
    taken = set(pv.ags)
    grants, obliged, valid_from, valid_to = [], [], [], []
    kreis_grants = 0
    for g in granted.tolist():
        applicant = pv.ags[int(f.g_provider[g])]
        codes = [applicant]
        if f.g_from[g] >= kreise_only and len(applicant) == 5:
            codes += sorted(gemeinden_of.get(applicant, []))
            if kreis_grants % NEVER_EVERY == 0:
                codes.append(_never_code(applicant, taken))
            kreis_grants += 1
        grants += [g] * len(codes)
        obliged += codes
        valid_from += [int(f.g_from[g])] * len(codes)
        valid_to += [int(f.g_to[g])] * len(codes)
    return pl.DataFrame(
        {"grant": grants, "obliged": obliged, "valid_from": valid_from, "valid_to": valid_to},
        schema={"grant": pl.Int64, "obliged": pl.String, "valid_from": pl.Int64,
                "valid_to": pl.Int64},
    )  # fmt: skip


def late_providers(world: World, stand: int) -> set[str]:
    """Gemeinde providers obliged at `stand` by a Kreis grant, every LATE_EVERY-th of them."""
    rows = obligation_rows(world, stand)
    providers = set(world.providers.ags)
    obliged_now = (
        rows.filter(
            (pl.col("valid_from") <= stand)
            & (pl.col("valid_to") >= stand)
            & (pl.col("valid_from") >= P.to_day(P.KREISE_ONLY_FROM))
            & (pl.col("obliged").str.len_chars() == 8)
            & pl.col("obliged").is_in(list(providers))
        )
        .get_column("obliged")
        .unique()
        .sort()
        .to_list()
    )
    return set(obliged_now[1::LATE_EVERY]) if len(obliged_now) > 1 else set(obliged_now)


def late_stand(stand: date) -> date:
    """The end of the quarter before the one `stand` falls in (or ends)."""
    quarter_start = date(stand.year, 3 * ((stand.month - 1) // 3) + 1, 1)
    return quarter_start - timedelta(days=1)
