"""Asset checks: the mart gate blocks publication of bad marts; published data stay fresh.

Wiring only. The extract gate's checks are part of the ingest asset (`assets.raw_extracts`);
dbt's data tests are asset checks of their models through dagster-dbt.
"""

import dagster as dg

from core import progress
from expectations.mart_gate import check_marts, write_mart_data_docs
from orchestration.forecast_assets import FORECAST_KEYS
from orchestration.resources import BuildLockResource, WarehouseResource
from publish.publish_gate import record_gate
from reports.operator import write_mart_gate_report
from reports.status import FRESHNESS_LIMIT, published_info

MART_GATE_TARGET = dg.AssetKey(["published", "pub_indicator_values"])


def build_mart_gate_check(dbt_defs: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    # every other table publish copies that the gate audits: the dbt marts and the forecast
    others = [k for k in dbt_defs.keys if k.path[0] == "published" and k != MART_GATE_TARGET]
    others += FORECAST_KEYS

    @dg.asset_check(
        asset=MART_GATE_TARGET,
        additional_deps=others,
        blocking=True,
        name="mart_gate",
        description="Great Expectations on every published table: keys, complete grid, shares, "
        "suppression and its LP audit (indicators, breakdowns, the needs forecast), LAND = sum "
        "of RB, moves against the last published build. Blocks publish.",
    )
    def mart_gate(
        context: dg.AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        build_lock: BuildLockResource,
    ) -> dg.AssetCheckResult:
        settings = warehouse.settings()
        previous = settings.published_db if settings.published_db.exists() else None
        progress.report("mart gate", "checking every published table")
        result = check_marts(
            settings.build_db,
            previous,
            audit_memo=settings.audit_memo,
            pattern_audit=settings.pattern_audit,
            pattern_audit_year=settings.pattern_audit_year,
            audit_year_memo=settings.audit_year_memo,
        )
        progress.report(
            "mart gate",
            f"{'passed' if result.passed else 'FAILED'} · {len(result.errors)} failed rules · "
            f"{len(result.moves)} flagged moves",
        )
        # The verdict on exactly these tables, which publish demands from this same run.
        record_gate(settings.build_db, context.run.run_id, settings.dbt_target_dir, result.passed)
        report = write_mart_gate_report(result, settings.reports_dir, settings.published_db)
        docs = write_mart_data_docs(result, settings.reports_dir / "data_docs" / "marts")
        return dg.AssetCheckResult(
            passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=result.message()[:2000],
            metadata={
                "errors": len(result.errors),
                "flagged_moves": len(result.moves),
                "disclosure_audit": dg.MetadataValue.json(result.disclosure),
                "forecast_disclosure_audit": dg.MetadataValue.json(result.forecast_disclosure),
                "failed_rules": dg.MetadataValue.json(
                    [f"{f['table']}:{f['rule']}" for f in result.errors]
                ),
                "report": dg.MetadataValue.path(str(report)),
                "data_docs": dg.MetadataValue.path(str(docs)),
            },
        )

    return mart_gate


PUBLISHED_KEY = dg.AssetKey(["published_indicators"])


@dg.asset_check(
    asset=PUBLISHED_KEY,
    name="published_freshness",
    description=f"The published indicators are at most {FRESHNESS_LIMIT} old "
    "(build_info.published_at_utc of the analyst database). Runs after every publish and "
    "hourly (freshness_check_schedule).",
)
def published_freshness(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    settings = warehouse.settings()
    info = published_info(settings.published_db)
    if info is None:
        return dg.AssetCheckResult(
            passed=False, description=f"nothing published yet at {settings.published_db}"
        )
    age_h = round(info.age().total_seconds() / 3600, 2)
    return dg.AssetCheckResult(
        passed=info.is_fresh(),
        description=f"published {info.published_at:%Y-%m-%d %H:%M} UTC, {age_h} h ago",
        metadata={
            "age_hours": age_h,
            "limit_hours": FRESHNESS_LIMIT.total_seconds() / 3600,
            "publish_id": info.publish_id,
            "published_at_utc": info.published_at.isoformat(),
        },
    )
