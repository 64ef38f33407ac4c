"""Files derived from the contract must be regenerated whenever the contract changes."""

from __future__ import annotations

from contract import catalogue, codegen
from contract.spec import EXTRACTS
from core.settings import PROJECT_ROOT


def test_derived_files_are_current():
    stale = codegen.stale_files(PROJECT_ROOT)
    assert not stale, f"stale derived files, run `make contract`: {stale}"


def test_stale_file_is_detected(tmp_path):
    codegen.write_all(tmp_path)
    assert codegen.stale_files(tmp_path) == []
    doc = tmp_path / "docs" / "extract-contract.md"
    doc.write_text(doc.read_text() + "\nhand edit\n")
    assert codegen.stale_files(tmp_path) == [doc.relative_to(tmp_path)]


def test_doc_names_every_extract_and_column():
    doc = codegen.render_contract_doc()
    for ex in EXTRACTS.values():
        assert f"`{ex.name}`" in doc
        for col in ex.columns:
            assert f"`{col.name}`" in doc


def test_staging_renames_every_column():
    for ex in EXTRACTS.values():
        sql = codegen.render_staging_sql(ex)
        for col in ex.columns:
            assert col.stored_field in sql
        assert f"source('raw', '{ex.name}_current')" in sql


def test_list_macros_carry_the_contract_and_the_catalogue():
    # dbt reads extract names, code lists and indicator ids only from this generated file.
    macros = codegen.render_list_macros()
    provider = "['personen', 'aufenthalt', 'faelle', 'plaene', 'ziele', 'kontakte', 'ergebnisse', "
    assert provider + "'stellen']" in macros
    assert "'fallart': ['CM', 'KB']" in macros
    assert "'wert:SPRACHE': ['KEINE', 'A1', 'A2', 'B1', 'B2', 'C1', 'C2']" in macros
    ids = [i.indicator_id for i in catalogue.indicators()]
    assert len(ids) == 22  # CM01–CM10, EL01–EL03, FI01–FI04, PA01–PA03, DQ01–DQ02
    assert "'indicator_id': 'FI01', 'column_name': 'fi01_funding_to_cost_ratio'" in macros


def test_column_name_drops_remarks():
    fi01 = next(i for i in catalogue.indicators() if i.indicator_id == "FI01")
    assert fi01.name_en == "funding-to-cost ratio (> 1 = overfinanced)"
    assert fi01.column_name == "fi01_funding_to_cost_ratio"


def test_indicators_doc_tables_come_from_the_catalogue():
    # Every catalogue indicator has exactly one generated row in docs/indicators.md.
    doc = codegen.render_indicators_doc()
    for ind in catalogue.indicators():
        assert doc.count(f"\n| {ind.indicator_id} | {ind.name_en}") == 1, ind.indicator_id


def test_readme_layout_names_every_folder_once():
    """The README's layout table and architecture picture match the repository's folders
    (issue #10): a folder added, moved or removed without the README fails here."""
    import re
    import subprocess

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`/]+)/` \|", layout, flags=re.M)
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    folders = {path.split("/")[0] for path in tracked if "/" in path}
    # hidden folders (CI) and the default warehouse home (data/, its .gitignore only) are no
    # part of the code's layout
    folders = {f for f in folders if not f.startswith(".") and f != "data"}
    assert sorted(rows) == sorted(set(rows)), "a folder has two rows"
    assert set(rows) == folders
    picture = layout.split("```", 2)[1]
    packages = set(re.findall(r"[a-z_]+", " ".join(line[:32] for line in picture.splitlines())))
    python_packages = {f for f in folders if (PROJECT_ROOT / f / "__init__.py").exists()}
    assert packages == python_packages
