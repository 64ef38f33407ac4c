"""Shared fixtures: every test gets its own warehouse home under tmp_path."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from filelock import FileLock
from tiny_world import TinyWorld, build_tiny_world

from core.settings import KEY_ENV, Settings
from reports.pdf import CHROMIUM_ENV

TEST_KEY = "test-key-0123456789"


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings.from_env(home=tmp_path / "home", environ={})
    s.ensure_dirs()
    return s


@pytest.fixture
def key_env(monkeypatch) -> bytes:
    monkeypatch.setenv(KEY_ENV, TEST_KEY)
    return TEST_KEY.encode()


@pytest.fixture(autouse=True, scope="session")
def _own_dagster_home():
    """Builds in tests keep their run history in their own home, never in the developer's
    DAGSTER_HOME or IMW_HOME — `make` exports an absolute IMW_HOME — (session-wide, so
    module-scoped build fixtures see it too); and dbt logs at the level a build sets, not at
    one the developer's shell names (DBT_LOG_LEVEL_FILE; the shared world asks for its own)."""
    names = ("DAGSTER_HOME", "IMW_HOME", "IMW_LANDING", "IMW_BUILD_DB", "DBT_LOG_LEVEL_FILE")
    saved = {name: os.environ.pop(name, None) for name in names}
    yield
    for name, value in saved.items():
        if value is not None:
            os.environ[name] = value


@pytest.fixture(autouse=True, scope="session")
def _no_pdf_in_builds():
    """Builds in tests print no clerk PDFs (about a second of Chromium per provider, in every
    build of the suite); `tests/test_clerk_report.py` turns them on where it checks them."""
    saved = os.environ.get(CHROMIUM_ENV)
    os.environ[CHROMIUM_ENV] = "off"
    yield
    if saved is None:
        os.environ.pop(CHROMIUM_ENV, None)
    else:
        os.environ[CHROMIUM_ENV] = saved


# The order `make test` hands modules to its two workers (`--dist loadfile
# --no-loadscope-reorder`): the shared tiny world on one worker while the other makes dbt fixture
# builds, the shared world's other readers next, the defective world (which compares with the
# shared one) after the world exists. The rest follow in file order. Without it, xdist starts
# the modules with the most tests first and a worker sat idle for a minute waiting for the shared
# world (measured: `test_evaluator_export` setup 69 s, 2026-12-03).
FIRST = (
    "test_build_end_to_end.py",  # builds the shared tiny world (~2 min)
    "test_indicators_reference_date_obligations.py",  # two dbt fixture builds
    "test_incremental_build.py",  # six builds on a copy of the shared world (~3.5 min)
    "test_mart_gate.py",
    "test_indicators_cm01_cm05.py",
    "test_indicators_eligibility_funding.py",
    "test_indicators_cm02_to_cm10.py",
    "test_analyst_marts.py",
    "test_extract_gate_build.py",  # the defective world, then the shared one
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return FIRST.index(name) if name in FIRST else len(FIRST)

    items.sort(key=rank)  # stable: tests keep their order inside a module


def build_demo_world(root: Path, effects=None) -> tuple[Settings, dict]:
    """Generate `demo` (seed 1) into a fresh home and run `imw build`; (settings, truth)."""
    from cli.main import main
    from synthetic import WITH_EFFECT, generate

    settings = Settings.from_env(home=root / "home", environ={})
    truth_path = root / "ground_truth.json"
    generate(
        "demo", settings.landing, seed=1, truth_path=truth_path, effects=effects or WITH_EFFECT
    )
    old = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = "recovery-key-0123456789"
    try:
        assert main(["build", "--home", str(settings.home)]) == 0
    finally:
        if old is None:
            os.environ.pop(KEY_ENV)
        else:
            os.environ[KEY_ENV] = old
    return settings, json.loads(truth_path.read_text())


OUTCOME_KEY = "outcome-world-key-0123456789"


def build_outcome_world(root: Path, effects) -> tuple[Settings, dict]:
    """Generate `demo` (seed 1) with `effects` into a fresh home and build what an evaluator
    export reads (tests/partial_build.py: ingest and the models upstream of `exports`; at this
    scale disclosure control alone would take minutes); (settings, truth)."""
    import dagster as dg
    from partial_build import build_until

    from synthetic import generate

    settings = Settings.from_env(home=root / "home", environ={})
    truth_path = root / "ground_truth.json"
    generate("demo", settings.landing, seed=1, truth_path=truth_path, effects=effects)
    exports = [dg.AssetKey(["exports", name]) for name in ("exp_cases", "exp_case_months")]
    build_until(settings, OUTCOME_KEY, exports)
    return settings, json.loads(truth_path.read_text())


@pytest.fixture(scope="session")
def outcome_world(tmp_path_factory) -> tuple[Settings, dict]:
    """`demo` (seed 1) with the generator's known effects, built as far as the export reads."""
    from synthetic import WITH_EFFECT

    return build_outcome_world(tmp_path_factory.mktemp("outcome_world"), WITH_EFFECT)


@pytest.fixture(scope="session")
def outcome_world_no_effect(tmp_path_factory) -> tuple[Settings, dict]:
    """The same world where case management changes no outcome (`effects=NO_EFFECT`)."""
    from synthetic import NO_EFFECT

    return build_outcome_world(tmp_path_factory.mktemp("outcome_world_no_effect"), NO_EFFECT)


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory) -> tuple[Settings, dict]:
    """The `demo` world (seed 1, with the generator's known effects), built once per session
    with the whole nightly job: the indicator recovery tests read its marts."""
    return build_demo_world(tmp_path_factory.mktemp("demo_world"))


@pytest.fixture(scope="session")
def demo_world_no_effect(tmp_path_factory) -> tuple[Settings, dict]:
    """The same world where case management changes no outcome (`effects=NO_EFFECT`)."""
    from synthetic import NO_EFFECT

    return build_demo_world(tmp_path_factory.mktemp("demo_world_no_effect"), NO_EFFECT)


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory, worker_id) -> TinyWorld:
    """The shared tiny world, built by whichever xdist worker asks first; the others wait for it
    (a file lock in the session's common temporary folder)."""
    base = tmp_path_factory.getbasetemp()
    root = (base if worker_id == "master" else base.parent) / "tiny_world"
    root.mkdir(exist_ok=True)
    with FileLock(str(root) + ".lock"):
        if not (root / "build.json").exists():
            build_tiny_world(root)
    world = TinyWorld.read(root)
    assert world.returncode == 0, world.stderr[-5000:]
    return world
