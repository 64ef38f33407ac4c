-- The catalogue's metadata of every indicator (published as indicator_definitions).
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
