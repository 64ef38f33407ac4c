"""Shared fixtures: every test gets its own warehouse home under tmp_path."""

from __future__ import annotations

import os

import pytest

from core.settings import KEY_ENV, Settings

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
    module-scoped build fixtures see it too)."""
    names = ("DAGSTER_HOME", "IMW_HOME", "IMW_LANDING", "IMW_BUILD_DB")
    saved = {name: os.environ.pop(name, None) for name in names}
    yield
    for name, value in saved.items():
        if value is not None:
            os.environ[name] = value
