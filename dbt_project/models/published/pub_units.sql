{{ config(alias='units') }}
-- Published units (marts.units): level, code, name and parent of every unit in the published
-- tables; names are public reference data, no person-related content.
with units as (
    select * from {{ ref('units') }}
)

select
    cast(level as varchar) as level,
    cast(unit_code as varchar) as unit_code,
    cast(unit_name as varchar) as unit_name,
    cast(parent_code as varchar) as parent_code
from units
