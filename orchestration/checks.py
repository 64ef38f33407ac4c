"""Asset checks: the mart gate blocks publication of bad marts (wiring only)."""

import dagster as dg

from expectations.mart_gate import check_marts, write_mart_data_docs
from orchestration.resources import WarehouseResource
from publish.operator_report import write_mart_gate_report

MART_GATE_TARGET = dg.AssetKey(["published", "pub_indicator_values"])


def build_mart_gate_check(dbt_defs: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    others = [k for k in dbt_defs.keys if k.path[0] == "published" and k != MART_GATE_TARGET]

    @dg.asset_check(
        asset=MART_GATE_TARGET,
        additional_deps=others,
        blocking=True,
        name="mart_gate",
        description="Great Expectations on every published table: keys, complete grid, shares, "
        "suppression, LAND = sum of RB, moves against the last published build. Blocks publish.",
    )
    def mart_gate(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        settings = warehouse.settings()
        previous = settings.published_db if settings.published_db.exists() else None
        result = check_marts(settings.build_db, previous)
        report = write_mart_gate_report(result, settings.reports_dir, settings.published_db)
        docs = write_mart_data_docs(result, settings.reports_dir / "data_docs" / "marts")
        return dg.AssetCheckResult(
            passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=result.message()[:2000],
            metadata={
                "errors": len(result.errors),
                "flagged_moves": len(result.moves),
                "failed_rules": dg.MetadataValue.json(
                    [f"{f['table']}:{f['rule']}" for f in result.errors]
                ),
                "report": dg.MetadataValue.path(str(report)),
                "data_docs": dg.MetadataValue.path(str(docs)),
            },
        )

    return mart_gate
