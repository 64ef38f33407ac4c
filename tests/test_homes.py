"""One warehouse home for every command (#12, item 1): relative IMW_HOME made absolute, the demo
says which home the next commands use, and `make docs` works with a relative home."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from cli.demo import next_steps
from core.settings import DEMO_KEY, PROJECT_ROOT, Settings


def test_relative_home_resolves_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env(environ={"IMW_HOME": "data/x"})
    assert settings.home == tmp_path / "data" / "x"
    assert settings.home.is_absolute()
    # Every derived path and what dbt sees are absolute too.
    assert settings.env()["IMW_BUILD_DB"] == str(tmp_path / "data/x/warehouse/build.duckdb")


def test_demo_prints_the_one_export_line(tmp_path):
    text = next_steps(tmp_path / "demo", DEMO_KEY)
    line = next(x.strip() for x in text.splitlines() if x.strip().startswith("export "))
    assert line == f"export IMW_HOME={tmp_path / 'demo'} IMW_PSEUDONYM_KEY={DEMO_KEY}"


def _make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-s", "--no-print-directory", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=1800,  # dbt parse + docs generate; minutes on a loaded 2-core machine
    )


def test_make_resolves_a_relative_home_from_the_repository():
    # Given on the command line and from the environment: both relative to the repository root.
    assert _make("home", "IMW_HOME=data/rel").stdout.strip() == str(PROJECT_ROOT / "data/rel")
    out = _make("home", env={"IMW_HOME": "data/rel2"}).stdout.strip()
    assert out == str(PROJECT_ROOT / "data/rel2")
    env = {k: v for k, v in os.environ.items() if k != "IMW_HOME"}
    default = subprocess.run(
        ["make", "-s", "--no-print-directory", "home"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert default.stdout.strip() == str(PROJECT_ROOT / "data")


def test_make_docs_static_with_a_relative_home_writes_one_offline_file(tmp_path):
    relative = os.path.relpath(tmp_path / "home", PROJECT_ROOT)
    done = _make("docs-static", f"IMW_HOME={relative}")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    page = Path(tmp_path / "home/published/docs/index.html")
    html = page.read_text(encoding="utf-8")
    # The project's own overview replaces dbt's generic "Welcome!" page, in German and English
    # (the static page embeds the manifest as JSON, non-ASCII letters escaped).
    assert "Kennzahlen-Warehouse Baden-W\\u00fcrttemberg" in html
    assert "Diese Dokumentation beschreibt jedes Modell" in html
    assert "This documentation covers every model" in html
    # Everything is inside the one file: no stylesheet or script is fetched from elsewhere.
    assert '<script src="http' not in html and '<link rel="stylesheet" href="http' not in html


def _imw_dbt(*args: str, build_db: str) -> subprocess.CompletedProcess:
    imw_dbt = Path(sys.executable).parent / "imw-dbt"
    env = {**os.environ, "IMW_BUILD_DB": build_db}
    return subprocess.run(
        [str(imw_dbt), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_imw_dbt_reports_the_installed_dbt_without_asking_the_network(tmp_path):
    """dagster-dbt reads the first version number of `<dbt> --version` (Core, not Fusion);
    `imw-dbt` gives the installed dbt-core's from the package metadata, where dbt's own
    command imports dbt and asks PyPI for the latest release (4.4 s of every build)."""
    done = _imw_dbt("--version", build_db=str(tmp_path / "warehouse" / "build.duckdb"))
    assert done.returncode == 0, done.stderr
    first = re.search(r"\d+\.\d+\.\d+", done.stdout)
    assert first is not None and first.group(0) == metadata.version("dbt-core")
    assert "latest" not in done.stdout


def test_imw_dbt_refuses_a_database_the_profile_does_not_name(tmp_path):
    """The profile names `build.duckdb` in dbt's working directory: any other file name would
    be silently ignored, so it is refused, naming the variable's value."""
    other = tmp_path / "warehouse" / "other.duckdb"
    done = _imw_dbt("build", build_db=str(other))
    assert done.returncode != 0
    assert "build.duckdb" in done.stderr and str(other) in done.stderr
    assert not other.parent.exists()  # refused before anything was made
