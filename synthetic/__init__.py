"""Synthetic deliveries for the whole programme: every provider's 8 extracts and the authority's 4.

`generate(scale, out, seed, stand)` simulates a world of providers, positions, persons, cases,
plans, goals, contacts, outcomes and funding records from 2017-01-01 to a horizon (2027-12-31, or
the end of the year after `stand` if later), cuts it at `stand` (what a provider could not know
yet is left out) and writes the files into `out` as `<extract>_<provider>_<stand>.<csv|xlsx>`.
The ground truth (the generator's true rates) goes to `truth_path`, outside the landing folder.
Because the world does not depend on `stand`, two snapshots of one seed (with the same horizon)
agree: same ids, and a later stand only adds rows and fills in closures, signatures and
assessments.

Deterministic for (scale, seed, stand): numpy generators seeded per component, no set or dict
order dependence, no timestamps in files (XLSX creation time = stand), so reruns are
byte-identical. Generation is vectorised with numpy; Python-level loops run per provider,
extract, file, year or plan version number, plus per cell only for the small XLSX files and the
authority's few thousand rows.

Calibration (scale `bw`; public figures from docs/domain.md win over the unpublished estimates)
----------------------------------------------------------------------------------------------
- Providers: the 44 Kreise plus 256 Gemeinden (synthetic AGS = Kreis AGS + 3 digits) until
  2024-12-31, when the Gemeinden close their open cases (reason SONSTIGES); from 2025 only the
  Kreise, which take over the Gemeinden's FTE and, in 2025-Q1, a first batch of their clients.
  Grants follow: two-year grants for 2017-18, then yearly, from 2025 for the Kreise only.
- Positions: about 1,240 posts of 0.25-1.0 FTE filled during 2017/18, about 900 FTE at any time
  from 2018; holders change about every 3 years (each holder is one `stellen` row).
- Case inflow: 74 new cases per FTE-year (70 % CM, 30 % KB), modulated by year (arrivals of
  2015/16, a dip in 2020/21, Ukraine from 2022). With plan coverage drawn per provider in
  0.25..0.65 (mean 0.45) this yields 16,000-22,000 signed plans a year and about 59,000 from the
  start to September 2020 -- the published figure.
- Contacts: 0.87 per CM case-month (times a provider factor 0.75..1.25), KB cases 1-4 contacts.
  This gives about 1.4 million contacts from the start to September 2020 (the published
  figure), 470,000-610,000 a year once staffed and about 4.5 million from 2017 to mid-2026.
  The two public totals fix the caseload: CM cases last 10 months on average (at most 3 years,
  3 % up to 4), a manager holds 45-60 open cases and records about 1 contact per CM case-month.
  The DOMAIN estimates of 80-150 cases per FTE and 1-3 contacts per case-month cannot both hold
  (100 cases x 1 contact x 12 months x 900 FTE would be 1.1 million contacts a year, more than
  twice the published rate); the published totals win, so the caseload is below the estimate.
- Plans: first signature within 8 weeks of the first contact for 75-93 % (per provider) of the
  covered cases, otherwise after 57-150 days; review due 3-6 months after signing; follow-up
  versions on time (within 14 days of the due date) with a per-provider probability 0.35..0.85,
  else 15-120 days late; 8 % of the uncovered CM cases have an unsigned draft only.
- Goals: 2-4 per plan (distinct fields) agreed on the first signature, sometimes one more per
  follow-up version; attainment 0.40..0.60 per provider among assessed goals; 6 % dropped.
- Goal links: the share of CM contacts with a ziel_id is drawn per provider as plan coverage
  times 0.15..0.60 (goal agreements "played no real role"), about 0.17 overall.
- People obliged to leave: 1..6 % of persons per provider (about 3.4 % of contacts).
- Contacts before moving into AU (4 % of persons) or after AU ended: about 3.5 % of contacts.
- Topics: ALLTAG 20 %, WOHNEN 16 %, ARBEIT and FAMILIE 13 % each, SPRACHE 12 %, GESUNDHEIT 8 %.
- Outcomes (`ergebnisse`, `synthetic.outcomes`): baseline, yearly, at closure and on the
  day of each event. Known effects (`synthetic.effects`, written to the truth as
  `outcome_effects`): a signed plan multiplies the monthly odds of first employment (SVB or
  training) by 2.0, and the share of goal-linked contacts so far multiplies the monthly odds of
  reaching B1 by 4.0 per unit share; `effects=NO_EFFECT` (`imw generate --no-effect`) sets both
  to 1 for a world where case management changes nothing.
- Funding: 51,000-70,000 EUR per granted FTE and year (8 % less from 2025), 2-4 payout
  requests per grant-year, about 80 % paid within 30 days, actual costs mostly below the paid
  amount (funding-to-cost ratio about 1.1), appropriation about 58 million EUR a year with
  residues carried over.

Scales `demo` and `tiny` keep the rates but thin the case inflow per FTE (factors 0.30 and
0.15) and use few, small providers: demo has 16 providers (6 Kreise, 10 Gemeinden, all 4 RB)
with about 3,000 cases; tiny has 3 providers (Kreis 08115 in RB 081, Stadtkreis 08212 in RB 082,
one Gemeinde in Kreis 08317, RB 083) with about 40-80 cases each.

Scale `federal` is ten times `bw` for the bench (issue #16: "a federal roll-out, or BW with
10 years more history"): the warehouse knows only BW's 44 Kreise (its one reference), so the
tenfold programme lives in them -- 2,560 Gemeinde providers until 2024 instead of 256 and ten
times the staff (9,000 FTE; from 2025 each Kreis has ten times bw's), with every per-FTE and
per-provider rate of `bw`: about 112 M rows in 20,800 files (5.6 GB). It is generated and
written in 11 parts of 4 Kreise each (`ScaleConfig.parts`): each part is a world of its own
(own random streams, its Kreise with their Gemeinden, which never cross a Kreis) that is
written and dropped before the next is built, so the generator's memory is one part's (about
as much as `bw`'s). The authority's files, one per extract for the whole programme, are
written at the end from the parts' rows (`writers.authority_frame`); the ground truth is
summed from the parts' counts. Defects are not injected into a scale generated in parts.

Defects: with `defects=RATE` (0..1) `generate` breaks about RATE of the rows of every second
provider's files (and of the authority's payout requests and proofs of use for those providers)
just before writing, one contract violation per row, rejects one `ergebnisse` file whole, and
lists every broken line in `defects.json` next to the ground truth (`synthetic.defects`).
The other providers' files stay byte-identical to a run without defects; the ground truth still
describes the clean world. `defects=0` writes exactly the clean output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import get_args

import polars as pl

from core import progress
from core.settings import DBT_PROJECT_DIR
from synthetic import params as P
from synthetic.defects import (
    MANIFEST_NAME,
    DefectInjector,
    defective_providers,
    dependent_costs,
    manifest_text,
)
from synthetic.effects import NO_EFFECT, WITH_EFFECT, Effects
from synthetic.obligations import LATE_EXTRACT, late_providers, late_stand
from synthetic.snapshot import PROVIDER, iter_frames
from synthetic.truth import ground_truth, land_year, merge_counts, truth_counts, truth_input
from synthetic.world import build_world
from synthetic.writers import AUTHORITY_FORMATS, DeliveryWriter, authority_frame

__all__ = [
    "DEFAULT_REFERENCE",
    "NO_EFFECT",
    "PROVIDER",
    "WITH_EFFECT",
    "Effects",
    "GenerationResult",
    "Scale",
    "generate",
]

Scale = P.Scale
DEFAULT_REFERENCE = DBT_PROJECT_DIR / "seeds" / "kreise_bw.csv"
"""The project's dbt seed with the 44 Kreise (a copy of shared/reference/kreise_bw.csv)."""


@dataclass(frozen=True)
class GenerationResult:
    files: list[Path]
    rows: dict[str, int]
    """Delivered rows per extract, summed over providers."""
    truth_path: Path
    providers: list[str] = field(default_factory=list)
    defects_path: Path | None = None
    """The defects manifest (`defects.json` next to the truth), when defects were injected."""


def horizon_for(stand: date) -> date:
    return max(P.DEFAULT_HORIZON, date(stand.year + 1, 12, 31))


def prepare_delivery(extract: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Last step before an extract is written (all providers, column `PROVIDER`).

    Gets the clean frame with contract columns and delivered types and returns the frame to
    write; the ground truth is taken from the clean frame before this step. Defects are injected
    after it (`DefectInjector.inject`), since some of them are cell texts the frame cannot hold.
    """
    return frame


def generate(
    scale: Scale,
    out: Path,
    seed: int,
    stand: date = date(2026, 6, 30),
    *,
    truth_path: Path | None = None,
    reference: Path = DEFAULT_REFERENCE,
    defects: float = 0.0,
    effects: Effects = WITH_EFFECT,
) -> GenerationResult:
    """Write all deliveries of `scale` as of `stand` into `out`; return files, counts, truth.

    `defects` (0..1): share of rows to break in the defective providers' files (see
    `synthetic.defects`); the manifest goes to `truth_path.parent / "defects.json"`.
    """
    if not 0 <= defects <= 1:
        raise ValueError(f"defects must be a share between 0 and 1, got {defects!r}")
    if scale not in get_args(P.Scale):
        raise ValueError(f"unknown scale {scale!r}; expected one of {get_args(P.Scale)}")
    if stand < P.PROGRAMME_START:
        raise ValueError(f"stand {stand} is before the programme start {P.PROGRAMME_START}")
    out = Path(out)
    truth_path = Path(truth_path) if truth_path is not None else out.parent / "ground_truth.json"
    if out.resolve() in truth_path.resolve().parents:
        raise ValueError("the ground truth must not be written into the landing folder")

    cfg = P.SCALES[scale]
    if defects > 0 and cfg.parts > 1:
        raise ValueError(
            f"defects are injected only into scales generated in one part; {scale!r} has "
            f"{cfg.parts} (use tiny, demo or bw)"
        )
    parts = [None] if cfg.parts == 1 else [(i, cfg.parts) for i in range(cfg.parts)]
    day = P.to_day(stand)
    year = land_year(stand)
    files: list[Path] = []
    rows: dict[str, int] = {}
    providers: list[str] = []
    pieces: list = []  # the providers of each part, for the truth
    counts: dict[str, dict[str, int]] = {}
    authority: dict[str, list[pl.DataFrame]] = {}  # written once, after the last part
    injector = None
    writer = None
    for part in parts:
        world = build_world(
            scale, seed, P.to_day(horizon_for(stand)), Path(reference), effects, part
        )
        writer = DeliveryWriter(
            out,
            stand,
            seed,
            scale if part is None else f"{scale}/part{part[0]}",
            list(world.providers.ags),
            cfg.xlsx_max_rows,
        )
        # some obliged Gemeinden deliver `stellen` a quarter late (synthetic.obligations)
        writer.late = {
            (LATE_EXTRACT, provider): late_stand(stand) for provider in late_providers(world, day)
        }
        if defects > 0:
            defective = defective_providers(world.providers.ags)
            injector = DefectInjector(
                defects,
                world.providers.ags,
                seed=seed,
                scale=scale,
                stand=stand,
                file_format=writer.file_format,
                # a first pass over the clean frames: which rows other rows depend on
                costs=dependent_costs(iter_frames(world, day), defective),
                late=writer.late,
            )
        truth_inputs: dict[str, pl.DataFrame] = {}
        label = "" if part is None else f"part {part[0] + 1}/{part[1]} "
        for extract, frame in iter_frames(world, day):
            kept = truth_input(extract, frame, year)
            if kept is not None:
                truth_inputs[extract] = kept
            frame = prepare_delivery(extract, frame)
            if part is not None and extract in AUTHORITY_FORMATS:
                authority.setdefault(extract, []).append(frame)
                continue
            rows[extract] = rows.get(extract, 0) + frame.height
            texts = None
            if injector is not None:
                frame, texts = injector.inject(extract, frame)
            files += writer.write(extract, frame, texts)
            progress.report(
                "generate", f"{label}{extract:<22} {frame.height:>10,} rows · {len(files)} files"
            )
            del frame  # one large frame at a time
        counts = merge_counts(counts, truth_counts(truth_inputs, year))
        providers += world.providers.ags
        pieces.append(world.providers)
        del world, truth_inputs  # one part at a time
    if authority:
        assert writer is not None
        for extract, frames in authority.items():
            frame = authority_frame(extract, frames)
            rows[extract] = frame.height
            files += writer.write(extract, frame)
        progress.report("generate", f"{'authority':<22} {len(authority)} extracts")

    truth = ground_truth(pieces, counts, scale, seed, stand)
    truth["outcome_effects"] = effects.truth()
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    defects_path = truth_path.parent / MANIFEST_NAME
    if injector is not None:
        defects_path.write_text(manifest_text(injector.manifest()), encoding="utf-8")
    else:
        defects_path.unlink(missing_ok=True)  # a manifest of an earlier run would be wrong now
    return GenerationResult(
        files=sorted(files),
        rows=rows,
        truth_path=truth_path,
        providers=providers,
        defects_path=defects_path if injector is not None else None,
    )
