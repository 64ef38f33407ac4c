-- Every unit a published table can name (docs/indicators.md v2 "Units"), with its name and parent: the
-- Land, the 4 Regierungsbezirke and the 44 Kreise from the reference data (seeds/kreise_bw.csv,
-- all of them, with or without providers), and each provider (TRAEGER) by its AGS. A provider
-- that is a Kreis carries the Kreis's name; a Gemeinde's name is not in the reference data, so it
-- is named by its code only (unit_name NULL). parent_code: TRAEGER -> its Kreis, KREIS -> its RB,
-- RB -> the Land, LAND -> NULL.
with kreise as (
    select * from {{ ref('kreise_bw') }}
),

providers as (
    select * from {{ ref('int_units') }}
),

land as (
    select
        'LAND' as level,
        '08' as unit_code,
        'Baden-Württemberg' as unit_name,
        cast(null as varchar) as parent_code
),

regierungsbezirke as (
    select distinct
        'RB' as level,
        rb_ags as unit_code,
        rb_name as unit_name,
        '08' as parent_code
    from kreise
),

kreis_units as (
    select
        'KREIS' as level,
        kreis_ags as unit_code,
        kreis_name as unit_name,
        rb_ags as parent_code
    from kreise
),

provider_units as (
    select
        'TRAEGER' as level,
        providers.provider as unit_code,
        case when providers.provider_type = 'KREIS' then providers.kreis_name end as unit_name,
        providers.kreis_code as parent_code
    from providers
),

-- a provider's Kreis or RB that the reference data does not know still exists as a unit of the
-- indicator grid (int_unit_levels); it is listed by code
unknown_parents as (
    select distinct
        'KREIS' as level,
        providers.kreis_code as unit_code,
        cast(null as varchar) as unit_name,
        providers.rb_code as parent_code
    from providers
    where providers.kreis_code not in (select kreise.kreis_ags from kreise)
    union
    select distinct
        'RB' as level,
        providers.rb_code as unit_code,
        cast(null as varchar) as unit_name,
        '08' as parent_code
    from providers
    where providers.rb_code not in (select kreise.rb_ags from kreise)
),

all_units as (
    select * from land
    union all
    select * from regierungsbezirke
    union all
    select * from kreis_units
    union all
    select * from provider_units
    union all
    select * from unknown_parents
)

select
    cast(level as varchar) as level,
    cast(unit_code as varchar) as unit_code,
    cast(unit_name as varchar) as unit_name,
    cast(parent_code as varchar) as parent_code
from all_units
