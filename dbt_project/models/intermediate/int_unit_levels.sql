-- Which unit of each level a provider's data rolls up to: four rows per provider (TRAEGER, KREIS,
-- RB, LAND). Indicator values at a level are sums over the providers mapped to its units, so a
-- Kreis that is itself a provider shares its KREIS unit with its Gemeinden.
with units as (
    select * from {{ ref('int_units') }}
)

select
    provider,
    'TRAEGER' as level,
    provider as unit_code
from units
union all
select
    provider,
    'KREIS' as level,
    kreis_code as unit_code
from units
union all
select
    provider,
    'RB' as level,
    rb_code as unit_code
from units
union all
select
    provider,
    'LAND' as level,
    land_code as unit_code
from units
union all
-- The funding authority's own records (budget, FI04) count for the Land only.
select
    '08' as provider,
    'LAND' as level,
    '08' as unit_code
