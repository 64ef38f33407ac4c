-- The catalogue's metadata for the indicators that have values (implemented_indicators()).
with catalogue as (
    select * from {{ ref('indicator_catalogue') }}
)

select
    indicator_id,
    domain,
    name_de,
    name_en,
    definition_de,
    definition_en,
    unit,
    better_direction,
    audit_finding,
    audit_finding_de,
    audit_finding_en,
    period_types,
    levels,
    base_n_entity,
    suppress_small_cells
from catalogue
where indicator_id in ({{ implemented_indicators_sql() }})
