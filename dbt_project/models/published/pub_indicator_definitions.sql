{{ config(alias='indicator_definitions') }}
-- Published companion to indicator_values: what each indicator means.
with definitions as (
    select * from {{ ref('indicator_definitions') }}
)

select
    cast(indicator_id as varchar) as indicator_id,
    cast(domain as varchar) as domain,
    cast(name_de as varchar) as name_de,
    cast(name_en as varchar) as name_en,
    cast(definition_de as varchar) as definition_de,
    cast(definition_en as varchar) as definition_en,
    cast(unit as varchar) as unit,
    cast(better_direction as varchar) as better_direction,
    cast(audit_finding as varchar) as audit_finding,
    cast(audit_finding_de as varchar) as audit_finding_de,
    cast(audit_finding_en as varchar) as audit_finding_en,
    cast(period_types as varchar) as period_types,
    cast(levels as varchar) as levels,
    cast(base_n_entity as varchar) as base_n_entity,
    cast(suppress_small_cells as boolean) as suppress_small_cells
from definitions
