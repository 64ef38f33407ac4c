"""One settings object for every path the warehouse uses.

`IMW_HOME` (default `./data`) is the root; everything else derives from it. dbt's `profiles.yml`
reads the same variables (`IMW_BUILD_DB`), and so do the Dagster resources, so the CLI, the UI and
the schedule always agree on where things are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SHIPPED_DAGSTER_YAML = PROJECT_ROOT / "orchestration" / "dagster.yaml"
KEY_ENV = "IMW_PSEUDONYM_KEY"
BUILD_DB_NAME = "build.duckdb"
"""The build database's file name, the one `dbt_project/profiles.yml` names in dbt's working
directory (`imw-dbt` runs dbt in the folder of `BUILD_DB_ENV`)."""
BUILD_DB_ENV = "IMW_BUILD_DB"
"""Where child processes (dbt, through `imw-dbt`) find the build database (`Settings.env`)."""
DISCLOSURE_MEMO_NAME = "disclosure_memo.parquet"
"""The suppression pattern of the last build, per part (`disclosure.memo`), beside the build
database (the dbt model finds it beside `BUILD_DB_ENV`): as confidential as it, never
published."""
AUDIT_MEMO_NAME = "disclosure_audit_memo.parquet"
"""The mart gate's disclosure audit of the last build, per part (`disclosure.memo`), beside
the build database."""
PATTERN_AUDIT_NAME = "disclosure_pattern_audit.parquet"
"""The final audits of the parts the build's suppression pattern protected anew (written by the
dbt model `disclosure_pattern` beside `BUILD_DB_ENV`, read by the mart gate; per part, keyed as
the gate keys its audit, `disclosure.memo.pattern_audit_memo`)."""
PATTERN_AUDIT_YEAR_NAME = "disclosure_pattern_audit_year.parquet"
"""The mart gate's audit of each year the build's suppression pattern set up anew, made by the
dbt model `disclosure_pattern` from its own problem and final audit, keyed as the gate keys the
year's published cells (`disclosure.chunks`, "A year's audit from the pattern"); this build's
only, beside `BUILD_DB_ENV`."""
DISCLOSURE_YEAR_MEMO_NAME = "disclosure_year_memo.parquet"
"""The suppression pattern of the last build, per year (`disclosure.chunks`): a year whose cells
did not change is not set up as a problem again. Beside the build database, never published."""
AUDIT_YEAR_MEMO_NAME = "disclosure_audit_year_memo.parquet"
"""The mart gate's disclosure audit of the last build, per year (`disclosure.chunks`)."""
REPORT_CHARTS_NAME = "report_charts"
"""The Kennzahlenbericht's charts as SVG, kept from the last report under a key of their spec
(`indicator_report.svg`): a chart whose numbers did not change is not rendered again."""
DEMO_KEY = "imw-demo-key-not-secret"
"""Fixed key used by `imw demo` only; real builds must bring their own secret key."""


class MissingKeyError(RuntimeError):
    """The pseudonymisation key is not configured."""


@dataclass(frozen=True)
class Settings:
    home: Path
    landing: Path
    dagster_dir: Path | None = None
    """`DAGSTER_HOME` when set; else `$IMW_HOME/dagster`."""

    @classmethod
    def from_env(
        cls,
        home: str | Path | None = None,
        landing: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        env = os.environ if environ is None else environ
        home_path = Path(home or env.get("IMW_HOME") or PROJECT_ROOT / "data").resolve()
        landing_path = Path(landing or env.get("IMW_LANDING") or home_path / "landing").resolve()
        dagster_dir = Path(env["DAGSTER_HOME"]).resolve() if env.get("DAGSTER_HOME") else None
        return cls(home=home_path, landing=landing_path, dagster_dir=dagster_dir)

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def build_db(self) -> Path:
        return self.warehouse_dir / BUILD_DB_NAME

    @property
    def disclosure_memo(self) -> Path:
        return self.warehouse_dir / DISCLOSURE_MEMO_NAME

    @property
    def audit_memo(self) -> Path:
        return self.warehouse_dir / AUDIT_MEMO_NAME

    @property
    def disclosure_year_memo(self) -> Path:
        return self.warehouse_dir / DISCLOSURE_YEAR_MEMO_NAME

    @property
    def audit_year_memo(self) -> Path:
        return self.warehouse_dir / AUDIT_YEAR_MEMO_NAME

    @property
    def pattern_audit(self) -> Path:
        return self.warehouse_dir / PATTERN_AUDIT_NAME

    @property
    def pattern_audit_year(self) -> Path:
        return self.warehouse_dir / PATTERN_AUDIT_YEAR_NAME

    @property
    def report_charts(self) -> Path:
        return self.warehouse_dir / REPORT_CHARTS_NAME

    @property
    def dbt_target_dir(self) -> Path:
        return self.warehouse_dir / "dbt-target"

    @property
    def published_dir(self) -> Path:
        return self.home / "published"

    @property
    def published_db(self) -> Path:
        return self.published_dir / "indicators.duckdb"

    @property
    def published_outcomes_dir(self) -> Path:
        """The outcome analysis last published by `imw analyse-outcomes` (read by the report's
        Wirkung page): a symlink swapped atomically to a complete version beside it."""
        return self.published_dir / "outcomes"

    @property
    def archive_dir(self) -> Path:
        return self.home / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def dagster_home(self) -> Path:
        return self.dagster_dir or self.home / "dagster"

    def ensure_dagster_home(self) -> Path:
        """The Dagster instance folder, with the project's `dagster.yaml` if it has none yet."""
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        config = self.dagster_home / "dagster.yaml"
        if not config.exists():
            config.write_bytes(SHIPPED_DAGSTER_YAML.read_bytes())
        return self.dagster_home

    def env(self) -> dict[str, str]:
        """Variables that child processes (dbt) need to see the same paths and the same memory
        limit and threads (`core.resources`, checked here)."""
        from core.resources import resources_env

        return {
            "IMW_HOME": str(self.home),
            "IMW_LANDING": str(self.landing),
            BUILD_DB_ENV: str(self.build_db),
            **resources_env(),
        }

    def ensure_dirs(self) -> None:
        for path in (
            self.landing,
            self.warehouse_dir,
            self.published_dir,
            self.archive_dir,
            self.quarantine_dir,
            self.reports_dir,
        ):
            path.mkdir(parents=True, exist_ok=True)


MIN_KEY_CHARS = 16
MIN_KEY_DISTINCT_CHARS = 8
"""A key anyone could guess (`x`, a space, `aaaa…`) would make every pseudonym reversible by
trying the ids; a random key (`head -c 32 /dev/urandom | base64`) passes easily."""


class WeakKeyError(MissingKeyError):
    """The pseudonymisation key is too short or too uniform to be secret."""


def pseudonym_key(environ: Mapping[str, str] | None = None) -> bytes:
    env = os.environ if environ is None else environ
    key = env.get(KEY_ENV, "")
    if key and (len(key) < MIN_KEY_CHARS or len(set(key)) < MIN_KEY_DISTINCT_CHARS):
        raise WeakKeyError(
            f"{KEY_ENV} is too weak: it needs at least {MIN_KEY_CHARS} characters, at least "
            f"{MIN_KEY_DISTINCT_CHARS} of them different. Generate one, e.g. "
            "`head -c 32 /dev/urandom | base64`, and keep it for every build."
        )
    if not key:
        raise MissingKeyError(
            f"{KEY_ENV} is not set. The warehouse pseudonymises every id on ingest with a secret "
            f"key and refuses to run without one. Set it, e.g. "
            f"`export {KEY_ENV}=$(cat /run/secrets/imw_key)`; keep the same key for every build, "
            "or pseudonyms will not match across builds."
        )
    return key.encode("utf-8")


@contextmanager
def applied_environment(values: dict[str, str]) -> Iterator[None]:
    """`values` in this process's environment, which child processes (dbt) inherit, for the
    duration of one command or step; the previous values afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
