"""The codebook document of one export (JSON and Markdown), from `VARIABLES`."""

from __future__ import annotations

from contract.spec import Code
from export.codebook.model import (
    CATEGORY,
    KINDS,
    TABLES,
)
from export.codebook.variables import variables


# --- the codebook ------------------------------------------------------------------------------
def _codes_json(codes: tuple[Code, ...]) -> list[dict[str, object]]:
    return [
        {"code": c.code, "label_de": c.label_de, "label_en": c.label_en, "stata_value": i}
        for i, c in enumerate(codes)
    ]


def codebook(
    study: str,
    frames: dict,
    data_codes: dict[str, tuple[Code, ...]],
    k_anonymity: dict[str, object],
) -> dict[str, object]:
    """The machine-readable codebook of one export: every column of every table, in file order.

    `frames` maps table name → its exported frame (polars; only `columns` and `height` are used).
    """
    tables = []
    for table, frame in frames.items():
        by_name = {v.name: v for v in variables(table)}
        columns = []
        for name in frame.columns:
            v = by_name[name]
            entry: dict[str, object] = {
                "name": v.name,
                "label_de": v.label_de,
                "label_en": v.label_en,
                "type": v.kind,
                "type_description": KINDS[v.kind],
                "derivation": v.derivation,
                "indicators": list(v.indicators),
                "missing": v.missing,
                "quasi_identifier": v.qi is not None,
            }
            if v.kind == CATEGORY:
                entry["codes"] = _codes_json(v.codes if v.codes is not None else data_codes[name])
            columns.append(entry)
        tables.append(
            {
                "name": table,
                "description": TABLES[table],
                "rows": frame.height,
                "variables": columns,
            }
        )
    return {
        "study": study,
        "about": "Evaluator export of the Integrationsmanagement indicator warehouse "
        "(Baden-Württemberg). Indicator ids refer to the indicator catalogue (table "
        "indicator_definitions of the analyst database).",
        "rules": [
            "ids are study pseudonyms: they cannot be joined with another study's export",
            "no exact dates: months (YYYY-MM) and day counts only; no Gemeinde; no free text",
            "missing values: empty in CSV, null in Parquet, '.' (numbers) or '' (strings) in Stata",
            "Stata: categories are labelled integers; stata_value is the stored number",
        ],
        "k_anonymity": k_anonymity,
        "tables": tables,
    }


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def codebook_markdown(book: dict) -> str:
    """The codebook as Markdown, from the JSON codebook (so the two never disagree)."""
    k = book["k_anonymity"]
    lines = [
        f"# Codebook — evaluator export, study `{book['study']}`",
        "",
        book["about"],
        "",
        *(f"- {rule}" for rule in book["rules"]),
        "",
        "## k-anonymity",
        "",
        f"- k = {k['k']} (counted in {k['counted_in']}); smallest class after suppression: "
        f"{k['k_reached']}",
        f"- quasi-identifiers: {', '.join(f'`{q}`' for q in k['quasi_identifiers'])}",
        f"- generalised: {'; '.join(k['generalisations']) or 'nothing'} (search over every "
        f"combination of levels; least {k['loss_measure']}: {k['loss_bits']} bits)",
        "- ℓ-diversity of the status category at case start: "
        + (f"ℓ = {k['l_diversity']['l']}" if k.get("l_diversity") else "off"),
        f"- suppressed: {k['suppressed_cases']} cases and their {k['suppressed_case_months']} "
        "case-months",
        "",
    ]
    for table in book["tables"]:
        lines += [
            f"## `{table['name']}` — {table['description']} ({table['rows']} rows)",
            "",
            "| variable | Bezeichnung | label | type | derivation | indicators | missing |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| `{v['name']}` | {_cell(v['label_de'])} | {_cell(v['label_en'])} | {v['type']} | "
            f"{_cell(v['derivation'])} | {', '.join(v['indicators'])} | {_cell(v['missing'])} |"
            for v in table["variables"]
        ]
        lines.append("")
        for v in table["variables"]:
            if "codes" not in v:
                continue
            lines += [
                f"### `{table['name']}.{v['name']}` codes",
                "",
                "| code | Bezeichnung | label | Stata value |",
                "|---|---|---|---|",
                *(
                    f"| `{c['code']}` | {_cell(c['label_de'])} | {_cell(c['label_en'])} | "
                    f"{c['stata_value']} |"
                    for c in v["codes"]
                ),
                "",
            ]
    return "\n".join(lines)
