"""Shared fixtures: every test gets its own warehouse home under tmp_path."""

from __future__ import annotations

import pytest

from imw.settings import KEY_ENV, Settings

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


@pytest.fixture(autouse=True)
def _own_dagster_home(monkeypatch):
    """Builds in tests keep their run history in their own home, never in the developer's
    DAGSTER_HOME."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
