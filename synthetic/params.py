"""Calibration constants, scale settings, code weights and small numpy helpers.

All numbers that shape the synthetic world live here, so the calibration in the package docstring
(`synthetic`) can be checked against one place.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from contract.spec import code_values

Scale = Literal["tiny", "demo", "bw", "federal"]

EPOCH = date(1970, 1, 1)
PROGRAMME_START = date(2017, 1, 1)
KREISE_ONLY_FROM = date(2025, 1, 1)
"""From 2025 only the 44 Kreise are funded; Gemeinde providers stop on the day before."""
DEFAULT_HORIZON = date(2027, 12, 31)
"""The world is simulated to this date and cut at `stand`, so snapshots of one seed agree."""
OPEN = 10**7
"""Sentinel day for 'no end' (open case, open status period)."""

# --- calibration (BW scale; see the package docstring) -------------------------------------
TOTAL_FTE_BW = 900.0
KREIS_FTE_SHARE_BEFORE_2025 = 0.58
CASES_PER_FTE_YEAR = 74.0
CM_SHARE = 0.70
CM_CONTACTS_PER_MONTH = 0.87
KB_EXTRA_CONTACTS_MEAN = 0.9
CM_SHORT_SHARE = 0.08
"""CM cases broken off within 8 weeks (never get a plan, outside CM01's denominator)."""
MAX_CASE_DAYS = 1095
EXTENDED_CASE_SHARE = 0.03
EXTENDED_MAX_CASE_DAYS = 1460
SECOND_CASE_SHARE = 0.08
TAKEOVER_CASES_PER_FTE = 40.0
"""Clients of former Gemeinde providers whose Kreis opens a case for them in 2025-Q1."""
PLAN_DRAFT_ONLY_SHARE = 0.08
"""Share of uncovered CM cases (>= 8 weeks) whose plan never got past an unsigned draft."""
FOLLOW_UP_DRAFT_STOP_SHARE = 0.04
EXTRA_GOAL_PER_VERSION = 0.2
GOAL_DROPPED_SHARE = 0.06
REFERRAL_SHARE = 0.12
PRE_AU_SHARE = 0.04
"""Persons counselled before they moved into follow-up accommodation (EL03)."""

INFLOW_BY_YEAR: dict[int, float] = {
    2017: 1.15, 2018: 1.10, 2019: 0.95, 2020: 0.80, 2021: 0.85, 2022: 1.15,
    2023: 1.15, 2024: 1.00, 2025: 0.95, 2026: 0.90, 2027: 0.90,
}  # fmt: skip
"""Relative case inflow per FTE (arrivals 2015/16, the COVID dip, Ukraine from 2022)."""

# --- per-provider parameter ranges ----------------------------------------------------------
PLAN_COVERAGE = (0.25, 0.65)
GOAL_ATTAINMENT = (0.40, 0.60)
GOAL_LINK_OF_COVERAGE = (0.15, 0.60)
"""goal_linked_share = plan_coverage × U(range): keeps the link probability among eligible
contacts (those after the case's first goal) below 1, so the share is reachable."""
OBLIGED_SHARE = (0.01, 0.06)
CONTACT_INTENSITY = (0.75, 1.25)
WITHIN_8_WEEKS = (0.75, 0.93)
REVIEW_ON_TIME = (0.35, 0.85)
SMART_SHARE = (0.35, 0.85)
TARGET_DATE_SHARE = (0.70, 0.95)
RATE_EUR = (51_000.0, 64_000.0, 70_000.0)  # triangular: min, mode, max per FTE and year
QUERIES_PER_REQUEST = (0.2, 1.8)
FAST_PAYOUT_SHARE = (0.60, 0.95)


@dataclass(frozen=True)
class ScaleConfig:
    name: Scale
    case_factor: float
    """Case inflow per FTE relative to BW calibration (small scales thin caseloads)."""
    xlsx_max_rows: int
    """XLSX only for files up to this many rows (XLSX writing is slow)."""
    size: int = 1
    """Gemeinde providers and staff as a multiple of `bw` (only for the bw-like scales)."""
    parts: int = 1
    """Worlds generated and written one after another, each for a block of the Kreise (and
    their Gemeinden), so the generator holds one part in memory, not the whole scale."""

    @property
    def bw_like(self) -> bool:
        """Every Kreis of the reference is a provider, with bw's staffing (times `size`)."""
        return self.name in ("bw", "federal")


SCALES: dict[str, ScaleConfig] = {
    "tiny": ScaleConfig("tiny", case_factor=0.15, xlsx_max_rows=2_000),
    "demo": ScaleConfig("demo", case_factor=0.30, xlsx_max_rows=2_000),
    "bw": ScaleConfig("bw", case_factor=1.0, xlsx_max_rows=600),
    # ten times bw within BW's 44 Kreise (the only reference the warehouse has): 2,560 Gemeinden
    # and ten times the staff, generated in 11 parts of 4 Kreise
    "federal": ScaleConfig("federal", case_factor=1.0, xlsx_max_rows=600, size=10, parts=11),
}
BW_GEMEINDEN = 256
"""Gemeinde providers of `bw` until 2024 (times `size` for the larger scales)."""

# --- code weights ---------------------------------------------------------------------------
SEX = (("m", 0.58), ("w", 0.405), ("d", 0.002), ("u", 0.013))
NATIONALITY_PROTECTED = (
    ("SYR", 0.30), ("AFG", 0.16), ("IRQ", 0.12), ("TUR", 0.07), ("ERI", 0.07), ("IRN", 0.05),
    ("NGA", 0.03), ("SOM", 0.03), ("GMB", 0.02), ("XXX", 0.04), ("PAK", 0.02), ("RUS", 0.02),
    ("GEO", 0.01), ("YEM", 0.02), ("ETH", 0.02), ("LBN", 0.02),
)  # fmt: skip
NATIONALITY_OBLIGED = (
    ("GMB", 0.18), ("NGA", 0.15), ("AFG", 0.10), ("IRQ", 0.10), ("TUR", 0.08), ("PAK", 0.07),
    ("GEO", 0.06), ("XXX", 0.05), ("DZA", 0.05), ("MAR", 0.04), ("SYR", 0.03), ("ERI", 0.02),
    ("ALB", 0.03), ("SRB", 0.02), ("MKD", 0.02),
)  # fmt: skip
UKRAINE_FROM = date(2022, 3, 1)
UKRAINE_SHARE_FROM_2022 = 0.35
"""Share of non-obliged persons first counselled after April 2022 who came from Ukraine."""

STATUS_PROTECTED = (
    ("AE_25_2_FL", 0.30), ("AE_25_2_SUB", 0.21), ("AE_25_1", 0.02), ("AE_25_3", 0.08),
    ("AE_22_23", 0.03), ("AE_25_5", 0.03), ("AE_25A_25B", 0.02), ("AE_SONST", 0.05),
    ("GEST_GUT", 0.13), ("GEST_SONST", 0.12), ("UNBEKANNT", 0.01),
)  # fmt: skip
"""Status during counselling of persons who are not obliged to leave (and not from Ukraine)."""
STATUS_OBLIGED = (
    ("DUL_60A", 0.55), ("DUL_60B", 0.12), ("DUL_60C", 0.12), ("DUL_60D", 0.06), ("AUSREISE", 0.15),
)  # fmt: skip

HANDLUNGSFELD = (
    ("SPRACHE", 0.20), ("BILDUNG", 0.10), ("ARBEIT", 0.20), ("WOHNEN", 0.18), ("GESUNDHEIT", 0.08),
    ("FAMILIE", 0.10), ("TEILHABE", 0.05), ("AUFENTHALT", 0.05), ("FINANZEN", 0.04),
)  # fmt: skip
THEMA = (
    ("ALLTAG", 0.23), ("WOHNEN", 0.16), ("FAMILIE", 0.13), ("ARBEIT", 0.12), ("SPRACHE", 0.11),
    ("GESUNDHEIT", 0.08), ("FINANZEN", 0.05), ("AUFENTHALT", 0.04), ("BILDUNG", 0.04),
    ("TEILHABE", 0.025), ("SONSTIGES", 0.015),
)  # fmt: skip
THEMA_OBLIGED = (
    ("ALLTAG", 0.22), ("WOHNEN", 0.12), ("FAMILIE", 0.10), ("ARBEIT", 0.10), ("SPRACHE", 0.07),
    ("GESUNDHEIT", 0.08), ("FINANZEN", 0.05), ("AUFENTHALT", 0.20), ("BILDUNG", 0.03),
    ("TEILHABE", 0.015), ("SONSTIGES", 0.015),
)  # fmt: skip
KONTAKTART = code_values("kontaktart")  # the weights below follow the contract's order
KONTAKTART_WEIGHTS = (
    (0.62, 0.25, 0.05, 0.08),  # before the pandemic
    (0.35, 0.45, 0.15, 0.05),  # 2020-03 .. 2021-12
    (0.55, 0.27, 0.10, 0.08),  # from 2022
)
DAUER_MEDIAN_MIN = (45.0, 15.0, 25.0, 60.0)
VERWEISUNG_BY_THEMA: dict[str, tuple[tuple[str, float], ...]] = {
    "SPRACHE": (("SPRACHKURS", 0.8), ("MIGRATIONSBERATUNG", 0.2)),
    "ARBEIT": (("JOBCENTER", 0.55), ("AGENTUR_FUER_ARBEIT", 0.4), ("SONSTIGE", 0.05)),
    "BILDUNG": (("SCHULE_KITA", 0.4), ("JUGENDMIGRATIONSDIENST", 0.3), ("SONSTIGE", 0.3)),
    "GESUNDHEIT": (("GESUNDHEITSDIENST", 0.9), ("SONSTIGE", 0.1)),
    "FAMILIE": (("SCHULE_KITA", 0.6), ("JUGENDMIGRATIONSDIENST", 0.3), ("SONSTIGE", 0.1)),
    "FINANZEN": (("SCHULDNERBERATUNG", 0.7), ("JOBCENTER", 0.3)),
    "AUFENTHALT": (("RECHTSBERATUNG", 0.6), ("MIGRATIONSBERATUNG", 0.4)),
}
VERWEISUNG_DEFAULT = (("MIGRATIONSBERATUNG", 0.5), ("SONSTIGE", 0.3), ("JOBCENTER", 0.2))

MESSKRITERIUM: dict[str, tuple[str, ...]] = {
    "SPRACHE": (
        "B1-Zertifikat bis {mm}/{yyyy}",
        "A2-Prüfung bestanden",
        "Integrationskurs, Modul 1–6 abgeschlossen",
    ),
    "BILDUNG": (
        "Anerkennungsbescheid für Berufsabschluss liegt vor",
        "Schulanmeldung bis {mm}/{yyyy}",
    ),
    "ARBEIT": (
        "Arbeitsvertrag (SVB) bis {mm}/{yyyy}",
        "Führerschein Klasse B bestanden",
        "Praktikum begonnen",
    ),
    "WOHNEN": (
        "Mietvertrag für eigene Wohnung unterschrieben",
        "Wohnberechtigungsschein beantragt",
    ),
    "GESUNDHEIT": (
        "Hausärztin gefunden, erster Termin wahrgenommen",
        "Therapieplatz bis {mm}/{yyyy}",
    ),
    "FAMILIE": ("Kita-Platz für das Kind zugesagt", "Familiennachzug: Unterlagen vollständig"),
    "TEILHABE": ("Mitglied im Sportverein", "Ehrenamt im Begegnungscafé übernommen"),
    "AUFENTHALT": ("Passbeschaffung abgeschlossen", "Antrag auf Niederlassungserlaubnis gestellt"),
    "FINANZEN": ("Girokonto eröffnet", "Schuldenübersicht erstellt, Ratenplan vereinbart"),
}
"""Harmless synthetic criteria (with umlauts, so the file encoding matters)."""


# --- helpers --------------------------------------------------------------------------------
def rng_for(seed: int, scale: str, component: str) -> np.random.Generator:
    """An independent stream per component, stable under code changes elsewhere."""
    key = [seed, zlib.crc32(scale.encode()), zlib.crc32(component.encode())]
    return np.random.default_rng(np.random.SeedSequence(key))


def to_day(d: date) -> int:
    return (d - EPOCH).days


def years_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each day number (days since 1970-01-01)."""
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def year_start(year: int) -> int:
    return to_day(date(year, 1, 1))


def codes_and_probs(table: tuple[tuple[str, float], ...]) -> tuple[np.ndarray, np.ndarray]:
    codes = np.array([c for c, _ in table])
    probs = np.array([w for _, w in table], dtype=float)
    return codes, probs / probs.sum()


def draw(rng: np.random.Generator, table: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    """n codes from a weighted code table."""
    codes, probs = codes_and_probs(table)
    return codes[rng.choice(len(codes), size=n, p=probs)]


def uniform_days(rng: np.random.Generator, lo, hi, n: int | None = None) -> np.ndarray:
    """Integer days uniformly in [lo, hi] (arrays broadcast; hi >= lo required)."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    size = n if n is not None else np.broadcast_shapes(lo.shape, hi.shape)
    return rng.integers(lo, hi + 1, size=size)
