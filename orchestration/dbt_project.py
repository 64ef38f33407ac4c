"""The dbt project as Dagster sees it, prepared once per process."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject

from core.project_vars import REFERENCE_DATE_ENV
from core.settings import DBT_PROJECT_DIR, applied_environment
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
