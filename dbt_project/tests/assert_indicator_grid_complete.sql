-- A failure means indicator_values lacks rows of the full grid (or has extra ones): some
-- implemented indicator × period of its period types × unit of its levels is missing, so a unit
-- without data would silently vanish instead of showing 0 / 0.
{{ config(
    tags=['fixture_only'],
    meta={'mart_gate': ['grid_complete', 'grid_only'], 'dagster': {'ref': {'name': 'indicator_values'}}},
) }}
with catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

units as (
    select distinct
        level,
        unit_code
    from {{ ref('int_unit_levels') }}
),

expected as (
    select
        catalogue.indicator_id,
        periods.period,
        units.level,
        units.unit_code
    from catalogue
    inner join {{ ref('int_periods') }} as periods
        on list_contains(string_split(catalogue.period_types, ','), periods.period_type)
    inner join units
        on list_contains(string_split(catalogue.levels, ','), units.level)
),

actual as (
    select
        indicator_id,
        period,
        level,
        unit_code
    from {{ ref('indicator_values') }}
),

missing as (
    select * from expected
    except
    select * from actual
),

unexpected as (
    select * from actual
    except
    select * from expected
)

select
    'missing' as problem,
    *
from missing
union all
select
    'unexpected' as problem,
    *
from unexpected
