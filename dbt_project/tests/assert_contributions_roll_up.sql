-- A failure means a contribution's provider has no unit in int_unit_levels: its numbers would be
-- missing from every level, LAND included, without any other test noticing.
{{ config(meta={'dagster': {'ref': {'name': 'int_indicator_contributions'}}}) }}
select contributions.*
from {{ ref('int_indicator_contributions') }} as contributions
left join {{ ref('int_unit_levels') }} as unit_levels
    on
        contributions.provider = unit_levels.provider
        and unit_levels.level = 'LAND'
where unit_levels.provider is null
