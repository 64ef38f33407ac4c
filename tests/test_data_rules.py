"""Which data rule runs where (issues #10, #16): docs/data_rules.md is generated from the dbt
project's data tests and the mart gate's rules and must be current; the nightly dbt assets leave
the `fixture_only` tests out, and those name an owner that exists."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import pytest

from core.project_vars import FIXTURE_ONLY_TAG
from core.settings import PROJECT_ROOT
from expectations import data_rules
from orchestration.dbt_project import dbt_project


@cache
def manifest() -> dict[str, Any]:
    # parsed by `make manifest` before the tests; parsed here when the project changed since
    return json.loads(dbt_project().manifest_path.read_text(encoding="utf-8"))


def test_doc_is_current():
    assert not data_rules.is_stale(PROJECT_ROOT, manifest()), (
        f"stale {data_rules.DOC}, run `make contract`"
    )


def test_stale_doc_is_detected(tmp_path):
    (tmp_path / "docs").mkdir()
    data_rules.write(tmp_path, manifest())
    assert not data_rules.is_stale(tmp_path, manifest())
    doc = tmp_path / data_rules.DOC
    doc.write_text(doc.read_text() + "\nhand edit\n")
    assert data_rules.is_stale(tmp_path, manifest())


def test_every_data_test_is_listed_once_with_its_owner():
    rules = data_rules.dbt_rules(manifest())
    tests = [n for n in manifest()["nodes"].values() if n["resource_type"] == "test"]
    assert len(rules) == len(tests) == len({r.name for r in rules})
    doc = data_rules.render(manifest())
    rows = [line.split(" | ", 1)[0] for line in doc.splitlines() if line.startswith("| `")]
    for rule in rules:
        assert rows.count(f"| `{rule.name}`") == 1, rule.name
    nightly = [r for r in rules if not r.fixture_only]
    assert nightly and len(nightly) < len(rules)
    assert {r.owner_kind for r in nightly} == {"this test"}
    for gate_rule in data_rules.RULES:
        assert f"| `{gate_rule}` |" in doc


def test_tests_on_delivered_data_stay_nightly():
    """Staging models and sources hold the delivered extracts and the ingest's bookkeeping: their
    tests guard real data and never move to the fixtures."""
    staging = {r.name for r in data_rules.dbt_rules(manifest()) if r.target.startswith("stg_")}
    assert staging
    for node in manifest()["nodes"].values():
        if node["resource_type"] == "test" and FIXTURE_ONLY_TAG in node["tags"]:
            assert node["name"] not in staging, node["name"]
            assert not node["original_file_path"].startswith("models/staging/"), node["name"]
            assert not any(p.startswith("source.") for p in node["depends_on"]["nodes"])


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"mart_gate": ["no_such_rule"]}, "no such gate rule"),
        ({"extract_gate": ["no_such_rule"]}, "no such gate rule"),
    ],
)
def test_unknown_owner_fails(meta, message):
    broken = copy.deepcopy(manifest())
    test = next(
        n
        for n in broken["nodes"].values()
        if n["resource_type"] == "test" and FIXTURE_ONLY_TAG in n["tags"]
    )
    test["config"]["meta"] = meta
    with pytest.raises(ValueError, match=message):
        data_rules.dbt_rules(broken)


def test_a_nightly_test_names_no_other_owner():
    broken = copy.deepcopy(manifest())
    test = next(
        n
        for n in broken["nodes"].values()
        if n["resource_type"] == "test" and FIXTURE_ONLY_TAG not in n["tags"]
    )
    test["config"]["meta"] = {"mart_gate": ["key_unique"]}
    with pytest.raises(ValueError, match="runs nightly"):
        data_rules.dbt_rules(broken)


def test_nightly_dbt_assets_check_exactly_the_nightly_tests():
    """The fixture-only tests are no asset checks of the nightly job (so Dagster expects no result
    of them), every other data test is one."""
    from orchestration.assets import build_dbt_assets

    checks = {key.name for key in build_dbt_assets().check_keys}
    nightly = {r.name for r in data_rules.dbt_rules(manifest()) if not r.fixture_only}
    assert checks == nightly
