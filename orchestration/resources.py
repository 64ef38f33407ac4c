"""Dagster resources: where the warehouse lives and how dbt is invoked."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from imw.settings import DBT_PROJECT_DIR, Settings, pseudonym_key


class WarehouseResource(dg.ConfigurableResource):
    """Paths and the pseudonymisation key, from `IMW_HOME`/`IMW_LANDING`/`IMW_PSEUDONYM_KEY`."""

    home: str | None = None
    landing: str | None = None
    reference_date: str | None = None
    """`YYYY-MM-DD`: an earlier reference date R for this build (`imw build --reference-date`);
    None: R is the newest stand of the providers' current snapshots."""

    def settings(self) -> Settings:
        return Settings.from_env(home=self.home, landing=self.landing)

    def key(self) -> bytes:
        return pseudonym_key()


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's venv), whether or not it is on PATH."""
    return str(Path(sys.executable).parent / "dbt")


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
    )
