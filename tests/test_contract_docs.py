"""Files derived from the contract must be regenerated whenever the contract changes."""

from __future__ import annotations

from contract import codegen
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
