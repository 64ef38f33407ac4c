"""Dagster resources: where the warehouse lives and how dbt is invoked."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from core.settings import DBT_PROJECT_DIR, Settings, pseudonym_key
from orchestration import dbt_prestart
from orchestration.dagster_dbt_api import DbtCliInvocation, DbtCliResource
from reports.build_guard import home_lock, markers, new_marker, remove_marker, write_marker
from reports.build_record import trigger_of


class WarehouseResource(dg.ConfigurableResource):
    """Paths and the pseudonymisation key, from `IMW_HOME`/`IMW_LANDING`/`IMW_PSEUDONYM_KEY`."""

    home: str | None = None
    landing: str | None = None
    reference_date: str | None = None
    """`YYYY-MM-DD`: an earlier reference date R for this build (`imw build --reference-date`);
    None: R is the newest stand of the providers' current snapshots."""
    full_refresh: bool = False
    """Build every dbt model from scratch (`imw build --full-refresh`), not only the rows of the
    providers whose inputs changed (`dbt_project/macros/incremental_by_provider.sql`), and
    compute the needs forecast anew even if its inputs did not change (`forecast.warehouse`)."""

    def settings(self) -> Settings:
        return Settings.from_env(home=self.home, landing=self.landing)

    def key(self) -> bytes:
        return pseudonym_key()


class BuildLockResource(dg.ConfigurableResource):
    """Holds the home's build lock for a whole run, whoever started it (`reports.build_guard`).

    A run launched by the daemon (schedule, sensor, UI) waits here while another build runs —
    it queues behind it — and writes its start marker; inside `imw build` the CLI holds the lock
    already and has written the marker.
    """

    home: str | None = None

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[BuildLockResource]:
        settings = Settings.from_env(home=self.home)
        run = context.run  # None outside a run (`dagster_run` and `run_id` are deprecated)
        marker = new_marker(
            run.run_id if run else "unknown", trigger_of(dict(run.tags) if run else {})
        )
        with home_lock(settings, marker, wait=True, on_wait=context.log.warning):
            mine = all(m.run_id != marker.run_id for m in markers(settings))
            if mine:
                write_marker(settings, marker)
            try:
                yield self
            finally:
                # The run ended (well or not) in a live process: only a marker left behind by
                # a dead process means "process died". Its record comes from the run history.
                if mine:
                    remove_marker(settings, marker.run_id)


class WarehouseDbtResource(DbtCliResource):
    """dagster-dbt's resource, with the run's dbt process started when the run starts, and without
    the dbt adapter dagster-dbt opens in this process for every `dbt` command.

    - in a run, `imw-dbt --prestarted` starts with the resource (or, in `imw build`, before the
      run: `dbt_prestart.start_early`, taken here), imports dbt and the models' modules beside
      the steps before dbt, and the run's first dbt command is handed to it
      (`orchestration.dbt_prestart`); outside a run (the project's parse) a command starts its
      process as in dagster-dbt.
    - the adapter only serves `fetch_row_counts` and `fetch_column_metadata`, which the warehouse
      does not ask for (row counts are in the gate's and the publish step's metadata), and
      setting it up loads the profile, the project and dbt's macros here — 1.3 s of every build
      before dbt starts (py-spy, `bw`, 2026-12-05)."""

    _prestarted: subprocess.Popen | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        super().setup_for_execution(context)
        executable, folder = self.dbt_executable, self.project_dir
        self._prestarted = dbt_prestart.take_early(executable, folder) or dbt_prestart.prestart(
            executable, folder
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        process, self._prestarted = self._prestarted, None
        dbt_prestart.release(process)

    def cli(self, args: Sequence[str], **kwargs: Any) -> DbtCliInvocation:
        process, self._prestarted = self._prestarted, None  # one command only
        if process is None:
            return super().cli(args, **kwargs)
        try:
            with dbt_prestart.invocations_on(process):
                invocation = super().cli(args, **kwargs)
        except BaseException:  # no invocation owns it: ended here, not at the run's end
            dbt_prestart.release(process)
            raise
        if invocation.process is not process:  # it could not take the command: not used
            dbt_prestart.release(process)
        return invocation

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def dbt_resource() -> DbtCliResource:
    return WarehouseDbtResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_prestart.dbt_executable(),
    )
