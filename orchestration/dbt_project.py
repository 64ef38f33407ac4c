"""The dbt project as Dagster sees it, prepared once per process, and the record behind its
models built by provider."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from core.database import connect
from core.project_vars import REFERENCE_DATE_ENV
from core.settings import DBT_PROJECT_DIR, applied_environment
from orchestration.dagster_dbt_api import DbtProject
from orchestration.resources import dbt_resource

_SOURCES = ("dbt_project.yml", "profiles.yml", "models", "seeds", "macros", "tests")


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for name in _SOURCES:
        path = project_dir / name
        paths = [path] if path.is_file() else path.rglob("*")
        newest = max([newest, *(p.stat().st_mtime for p in paths if p.is_file())])
    return newest


def manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(
        Path(project.project_dir)
    )


@cache
def dbt_project() -> DbtProject:
    """Parse the dbt project when its manifest is missing or older than its sources."""
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    if manifest_is_stale(project):
        # dagster-dbt's own preparer looks for `dbt` on PATH; use the project's venv instead.
        # Parsed as a build without an explicit reference date runs (an empty variable, which
        # dbt records apart from an unset one), so such builds parse no file again.
        with applied_environment({REFERENCE_DATE_ENV: ""}):
            dbt_resource().cli(["parse", "--quiet"], target_path=project.target_path).wait()
    return project


# ------------------------------------------------------------------------------------------
# The models built by provider (dbt_project/macros/incremental_by_provider.sql)
# ------------------------------------------------------------------------------------------
BUILT_INPUTS = "meta.dbt_built_inputs"
"""What the models built by provider were last built from: per provider the digest of its inputs
(`intermediate.int_provider_inputs`) and the dbt project's digest (`project_digest`)."""
BUILT_PERIODS = "meta.dbt_built_periods"
"""... and the periods (`intermediate.int_periods`: start, end, effective end), which the models
built by provider and period compare with (`intermediate.int_period_inputs`)."""


@cache
def project_digest(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """SHA-256 of the dbt project's sources (names and bytes): a build whose project differs from
    the one recorded rebuilds every model from scratch (`--full-refresh`)."""
    digest = hashlib.sha256()
    for name in _SOURCES:
        path = project_dir / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            digest.update(str(file.relative_to(project_dir)).encode() + b"\0")
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class ProviderInputs:
    changed: int
    """Providers whose rows the models built by provider rebuilt (their inputs changed, or they
    are gone); all of them in a full refresh."""
    providers: int
    """Providers with current snapshots."""
    own_changed: int
    """Of them, the providers whose own inputs changed (their snapshots, or a plan or goal date
    between the old R and the new; or they are gone): the rows the models built by their own
    inputs (`own_only`) and by provider and period rebuilt."""
    periods: tuple[str, ...] = ()
    """The periods whose rows of every provider the models built by provider and period rebuilt
    (none when they made their tables anew)."""

    def summary(self, *, full_refresh: bool) -> str:
        """The dbt step's progress line: whose rows were rebuilt, and why."""
        if full_refresh:
            return f"rows of {self.providers} of {self.providers} providers rebuilt (full refresh)"
        line = (
            f"rows of {self.changed} of {self.providers} providers rebuilt "
            "(their deliveries or shared inputs changed)"
        )
        if self.own_changed < self.changed or self.periods:
            line += f"; of {self.own_changed} in the models built by their own inputs"
            if self.periods:
                line += f", and of the periods {', '.join(self.periods)} in those built by period"
        return line


def needs_full_refresh(build_db: Path, project: str) -> bool:
    """True unless the record exists, holds providers and was made by this dbt project."""
    if not build_db.exists():
        return True
    with connect(build_db, read_only=True) as con:
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'meta' AND table_name = 'dbt_built_inputs'"
        ).fetchall()[0][0]
        if not exists:
            return True
        recorded = con.execute(f"SELECT DISTINCT project FROM {BUILT_INPUTS}").fetchall()
    return recorded != [(project,)]


def record_built_inputs(build_db: Path, project: str, *, full_refresh: bool) -> ProviderInputs:
    """After a dbt build of every model: record each provider's inputs and the periods as built,
    and say how many providers' rows were rebuilt (read before the record changes what `changed`
    means)."""
    with connect(build_db) as con:
        changed, providers, own_changed, all_own = con.execute(
            "SELECT count(*) FILTER (WHERE changed), count(inputs), "
            "count(*) FILTER (WHERE own_changed), coalesce(bool_and(own_changed), true) "
            "FROM intermediate.int_provider_inputs"
        ).fetchall()[0]
        # a period's rows of every provider are rebuilt only when some provider's own snapshots
        # stayed (macros/incremental_by_provider.sql, `rebuilt_rows`): else the tables are made anew
        periods = con.execute(
            "SELECT period FROM intermediate.int_period_inputs WHERE changed AND ? ORDER BY period",
            [not all_own],
        ).fetchall()
        con.execute("BEGIN TRANSACTION")
        con.execute(f"DELETE FROM {BUILT_INPUTS}")
        con.execute(
            f"INSERT INTO {BUILT_INPUTS} (provider, inputs, own_inputs, project) "
            "SELECT provider, inputs, own_inputs, ? "
            "FROM intermediate.int_provider_inputs WHERE inputs IS NOT NULL",
            [project],
        )
        con.execute(f"DELETE FROM {BUILT_PERIODS}")
        con.execute(
            f"INSERT INTO {BUILT_PERIODS} (period, period_start, period_end, period_eend) "
            "SELECT period, period_start, period_end, period_eend FROM intermediate.int_periods"
        )
        con.execute("COMMIT")
    if full_refresh:
        return ProviderInputs(providers, providers, providers)
    return ProviderInputs(changed, providers, own_changed, tuple(period for (period,) in periods))
