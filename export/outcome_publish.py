"""Publish an outcome analysis into the warehouse home, where the report's Wirkung page reads it
(`imw analyse-outcomes`, unless `--no-publish`).

Layout beside the published database (`Settings.published_outcomes_dir`)::

    outcomes -> .outcomes-versions/<time>/      symlink, replaced atomically
    .outcomes-versions/<time>/outcome_models.parquet, outcome_curves.parquet, outcome_analysis.json

`published/` is what analysts are given, so the cell minimum (`disclosure.CELL_MINIMUM`) is
applied here, before anything reaches it (`disclosed`): a Kaplan–Meier curve keeps its rows
before the first month with fewer than the minimum at risk, and that month stays as a row with
every number empty (so a reader knows the curve was cut there, not ended); a model row resting on
fewer events than the minimum keeps its outcome and term, every number empty. The report's
Wirkung page applies the same rule again to whatever it reads. A new
version is written completely into a temp folder, renamed into `.outcomes-versions/`, then
`outcomes` is pointed at it with `os.replace` of a new symlink — the scheme of the report and the
Parquet set: a reader sees the whole old analysis or the whole new one, never a mix. The previous
version stays until the next publication, so a reader in it can finish.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from core.files import publish_version
from core.outcome_results import CURVES_FILE, MODELS_FILE, PUBLISHED_FILES
from disclosure import CELL_MINIMUM

VERSIONS_DIR_NAME = ".outcomes-versions"


class PublishOutcomesError(RuntimeError):
    """The analysis cannot be published (files missing, or the target is someone's folder)."""


CURVE_NUMBERS = ("at_risk", "events", "survival", "ci_low", "ci_high", "cumulative_incidence")
MODEL_NUMBERS = (
    "estimate", "std_error", "hazard_ratio", "ci_low", "ci_high", "p_value", "n_cases",
    "n_events", "n_case_months",
)  # fmt: skip


def disclosed(
    curves: pl.DataFrame, models: pl.DataFrame, minimum: int = CELL_MINIMUM
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The analysis as it may be published: no number at risk and no model below `minimum`."""
    below = pl.col("at_risk") < minimum
    seen = below.cast(pl.Int32).cum_sum().over("outcome", "group")
    curves = (
        curves.sort("outcome", "group", "month")
        .filter((seen == 0) | ((seen == 1) & below))
        .with_columns(
            pl.when(pl.col("at_risk") < minimum).then(None).otherwise(pl.col(c)).alias(c)
            for c in CURVE_NUMBERS if c in curves.columns
        )
    )  # fmt: skip
    small = pl.col("n_events") < minimum
    models = models.with_columns(
        pl.when(small).then(None).otherwise(pl.col(c)).alias(c)
        for c in MODEL_NUMBERS if c in models.columns
    )  # fmt: skip
    return curves, models


def publish_outcomes(folder: Path, target: Path) -> Path:
    """Copy the analysis in the export `folder` to `target` (a symlink to a complete version,
    swapped atomically); return the version folder."""
    folder, target = Path(folder), Path(target).absolute()
    missing = [name for name in PUBLISHED_FILES if not (folder / name).is_file()]
    if missing:
        raise PublishOutcomesError(
            f"{folder} holds no complete outcome analysis (missing: {', '.join(missing)})"
        )
    if target.is_dir() and not target.is_symlink() and any(target.iterdir()):
        raise PublishOutcomesError(
            f"{target} is a folder with files in it; the outcome analysis is swapped in as a link "
            "there. Move the folder away."
        )

    def write(tmp: Path) -> None:
        curves, models = disclosed(
            pl.read_parquet(folder / CURVES_FILE), pl.read_parquet(folder / MODELS_FILE)
        )
        curves.write_parquet(tmp / CURVES_FILE, statistics=False)
        models.write_parquet(tmp / MODELS_FILE, statistics=False)
        for name in set(PUBLISHED_FILES) - {CURVES_FILE, MODELS_FILE}:
            shutil.copyfile(folder / name, tmp / name)

    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    version, _ = publish_version(target, target.parent / VERSIONS_DIR_NAME, name, write)
    return version
