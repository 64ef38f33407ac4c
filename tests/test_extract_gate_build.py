"""The extract gate in a whole build: defective providers are reported, clean ones are untouched.

Two `tiny` builds from the same seed and key: the shared clean one (tests/tiny_world.py) and one
with `--defects 0.05` (half the providers get broken rows; see synthetic/defects.py and its
manifest). Clean providers' indicators must come out identical; every row the manifest broke
must be quarantined, nothing else lost.
"""

from __future__ import annotations

import json
import shutil

import dagster as dg
import duckdb
import pytest
from partial_build import build_until
from tiny_world import TINY_KEY, TINY_SEED, TinyWorld

import expectations.extract_gate as extract_gate
from cli.main import main
from contract.spec import EXTRACTS
from core.settings import Settings
from ingest.load import Folders, ingest_landing
from synthetic import generate

pytestmark = pytest.mark.slow
SEED = TINY_SEED  # the defective world is the shared tiny world, broken


def build_defective(root) -> tuple[Settings, dict]:
    """The nightly job on the defective files, as far as these tests look (tests/partial_build.py):
    ingest (extract gate, quarantine, delivery reports) and every dbt model up to
    `marts.indicator_values`."""
    settings = Settings.from_env(home=root / "home", environ={})
    result = generate("tiny", settings.landing, seed=SEED, truth_path=root / "truth.json",
                      defects=0.05)  # fmt: skip
    build_until(settings, TINY_KEY, [dg.AssetKey(["marts", "indicator_values"])])
    return settings, json.loads(result.defects_path.read_text())


@pytest.fixture(scope="module")
def builds(request, tmp_path_factory):
    defective, manifest = build_defective(tmp_path_factory.mktemp("defective"))
    # asked for after the defective build: while this worker builds, another may build the
    # shared world instead of waiting for it
    tiny_world: TinyWorld = request.getfixturevalue("tiny_world")
    return tiny_world.settings, defective, manifest


def traeger_values(settings: Settings, providers: list[str]) -> list[tuple]:
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        return con.execute(
            """
            -- rounded: CM07's case-months are float sums whose last bits depend on the order
            -- DuckDB's parallel aggregation adds them in
            SELECT indicator_id, period, unit_code, round(numerator, 9), round(denominator, 9),
                   base_n
            FROM marts.indicator_values
            WHERE level = 'TRAEGER' AND unit_code IN (SELECT unnest(?::VARCHAR[]))
              AND indicator_id NOT LIKE 'DQ%'   -- data quality differs by design
            ORDER BY ALL
            """,
            [providers],
        ).fetchall()


def test_clean_providers_get_the_same_indicators_as_in_a_clean_build(builds):
    clean, defective, manifest = builds
    providers = manifest["clean_providers"]
    assert providers, "the fixture must have clean providers"
    values = traeger_values(defective, providers)
    assert values and values == traeger_values(clean, providers)


def test_every_broken_row_is_quarantined_and_counts_add_up(builds):
    _, defective, manifest = builds
    with duckdb.connect(str(defective.build_db), read_only=True) as con:
        quarantined = {
            (f, line)
            for f, line in con.execute(
                "SELECT file_name, line FROM raw.quarantined_rows"
            ).fetchall()
        }
        deliveries = con.execute(
            "SELECT file_name, verdict, rows_delivered, rows_loaded, rows_quarantined "
            "FROM raw.deliveries"
        ).fetchall()
    expected = {
        (name, d["line"])
        for name, f in manifest["files"].items()
        # Collateral rows reference a row the gate rejected: the gate checks references against
        # what the provider holds after the run (accepted rows only), so they fail too.
        for d in f["defects"] + f.get("collateral", [])
    }
    assert expected, "the manifest must list broken rows"
    assert expected <= quarantined, f"not quarantined: {sorted(expected - quarantined)[:5]}"
    for name, verdict, delivered, loaded, bad in deliveries:
        if verdict == "ACCEPTED":
            assert loaded + bad == delivered, f"{name}: rows lost"


def test_each_defective_provider_gets_a_report_naming_lines_and_rules(builds):
    _, defective, manifest = builds
    for provider in manifest["defective_providers"]:
        report = (defective.reports_dir / provider / "aktuell.md").read_text()
        assert "Zurückgewiesene Zeilen" in report
        assert "Zeilen / lines:" in report
        assert (defective.reports_dir / provider / "aktuell_zeilen.csv").exists()
    assert (defective.reports_dir / "data_docs" / "extracts" / "index.html").exists()


def test_the_extract_gate_checks_in_dagster_fail_exactly_where_rows_were_quarantined(builds):
    _, defective, _ = builds
    with duckdb.connect(str(defective.build_db), read_only=True) as con:
        bad = dict(con.execute(
            "SELECT extract, sum(rows_quarantined) FROM raw.deliveries GROUP BY ALL"
        ).fetchall())  # fmt: skip
    with dg.DagsterInstance.from_config(str(defective.dagster_home)) as instance:
        for extract in EXTRACTS:
            key = dg.AssetCheckKey(dg.AssetKey(["raw", extract]), "extract_gate")
            (last,) = instance.event_log_storage.get_asset_check_execution_history(key, limit=1)
            evaluation = last.event.dagster_event.asset_check_evaluation_data
            quarantined = bad.get(extract) or 0
            assert evaluation.passed is (quarantined == 0), extract
            metadata = evaluation.metadata
            assert metadata["rows_quarantined"].value == quarantined
            per_provider = sum(
                p["rows_quarantined"] for p in metadata["by_provider"].value.values()
            )
            assert per_provider == quarantined
            failed = metadata["failed_expectations"].value
            assert bool(failed) is (quarantined > 0), f"{extract}: failed expectations listed"
    assert any(bad.values()), "the fixture must quarantine rows"


def test_a_gate_that_raises_fails_loudly_and_keeps_the_file(tmp_path, monkeypatch):
    settings = Settings.from_env(home=tmp_path / "home", environ={})
    generate("tiny", tmp_path / "files", seed=SEED, truth_path=tmp_path / "t.json")
    settings.ensure_dirs()
    name = next(p.name for p in (tmp_path / "files").iterdir() if p.name.startswith("personen"))
    shutil.copy(tmp_path / "files" / name, settings.landing / name)

    def broken(*args, **kwargs):
        raise extract_gate.BrokenGateError("expect_column_values_to_be_in_set raised KeyError")

    monkeypatch.setattr(extract_gate, "validate_extract", broken)
    folders = Folders(settings.landing, settings.archive_dir, settings.quarantine_dir,
                      settings.home)  # fmt: skip
    with pytest.raises(extract_gate.BrokenGateError):
        ingest_landing(settings.build_db, folders, b"k")
    # Neither accepted nor rejected: the file waits in landing for a working gate.
    assert (settings.landing / name).exists()
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.deliveries").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM raw.personen").fetchone()[0] == 0


def test_imw_check_exit_codes_and_report(tmp_path, capsys):
    generate("tiny", tmp_path / "clean", seed=SEED, truth_path=tmp_path / "c.json")
    generate("tiny", tmp_path / "bad", seed=SEED, truth_path=tmp_path / "b.json", defects=0.05)
    manifest = json.loads((tmp_path / "defects.json").read_text())
    provider = manifest["defective_providers"][0]

    clean = sorted((tmp_path / "clean").glob(f"*_{provider}_*"))
    assert main(["check", *map(str, clean)]) == 0
    capsys.readouterr()

    bad = sorted((tmp_path / "bad").glob(f"*_{provider}_*"))
    assert main(["check", *map(str, bad)]) == 1
    out = capsys.readouterr().out
    assert "Lieferbericht" in out and "Zeilen / lines:" in out
    # Nothing of the check is kept anywhere: the files stay where they are.
    assert all(p.exists() for p in bad)


def test_a_build_of_some_models_leaves_the_by_provider_record_alone(builds):
    """The record of what the models built by provider were built from is written only by a
    build of every dbt model (orchestration/dbt_project.py): a run of some of them would leave
    the others' rows behind it. The defective world is built only up to indicator_values (a
    subset); the shared world's nightly build, all of it."""
    shared, defective, _ = builds
    counts = {}
    for name, settings in (("shared", shared), ("defective", defective)):
        with duckdb.connect(str(settings.build_db), read_only=True) as con:
            counts[name] = con.execute("SELECT count(*) FROM meta.dbt_built_inputs").fetchall()[0][
                0
            ]
    assert counts["defective"] == 0  # before: the subset run recorded its providers
    # the tiny world's three providers besides the funding authority, as built
    assert counts["shared"] == 3
