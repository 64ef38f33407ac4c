"""Reference data the ingest checks against: the 44 Kreise of Baden-Württemberg.

Read from the dbt seed (`dbt_project/seeds/kreise_bw.csv`), the one list of districts the
warehouse has, so the file-name check and the warehouse's units never disagree.
"""

from __future__ import annotations

import csv
from functools import cache

from core.settings import DBT_PROJECT_DIR

KREISE_SEED = DBT_PROJECT_DIR / "seeds" / "kreise_bw.csv"


@cache
def kreise() -> frozenset[str]:
    """The five-digit AGS of every Kreis (Stadtkreis and Landkreis)."""
    with KREISE_SEED.open(encoding="utf-8", newline="") as fh:
        codes = frozenset(row["kreis_ags"] for row in csv.DictReader(fh, delimiter=";"))
    if not codes:
        raise RuntimeError(f"no Kreise in {KREISE_SEED}: the reference data are missing")
    return codes
