-- Indicator values for every catalogue indicator, period of its period types and unit of its
-- levels (the full grid: a unit without contributions gets 0 / 0, value NULL, base_n 0).
-- Unsuppressed: the build database is for operators; published.indicator_values applies the
-- suppression pattern (disclosure_pattern). Higher levels sum numerators and denominators, never
-- average ratios. period_complete: the period ends on or before the reference date R (else it is a
-- period to date); unit_name from marts.units (NULL for a Gemeinde, whose name the reference data
-- lacks).
with catalogue as (
    select *
    from {{ ref('indicator_catalogue') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

unit_levels as (
    select * from {{ ref('int_unit_levels') }}
),

contributions as (
    select * from {{ ref('int_indicator_contributions') }}
),

unit_names as (
    select * from {{ ref('units') }}
),

units as (
    select distinct
        level,
        unit_code
    from unit_levels
),

grid as (
    select
        catalogue.indicator_id,
        periods.period,
        periods.period_type,
        periods.period_complete,
        units.level,
        units.unit_code,
        catalogue.base_n_entity
    from catalogue
    inner join periods
        on list_contains(string_split(catalogue.period_types, ','), periods.period_type)
    inner join units
        on list_contains(string_split(catalogue.levels, ','), units.level)
),

-- Per provider first: contribution rows are unique per (indicator, period, provider, entity)
-- (tested on int_indicator_contributions), so counting rows of the base_n entity type is the
-- distinct count, and since pseudonyms include the provider, entities of two providers never
-- coincide: a unit's distinct count is the sum of its providers' counts. Much cheaper than a
-- count(distinct) over millions of rows per level.
-- Numerators and denominators are summed as DECIMAL(38, 12), which is exact and so the same in
-- any order: DuckDB's parallel sum of DOUBLE added CM07's and CM10's fractional case-months in
-- an order that varied between runs, and their last bits with it (a build of unchanged data
-- then keyed a part of the suppression pattern, or a chart, anew).
-- per provider: the provider-data indicators as summed by provider (built by provider), the
-- others (funding, payouts, data quality: the authority's snapshots) summed here, anew
by_provider as (
    select
        indicator_id,
        period,
        provider,
        numerator,
        denominator,
        base_n
    from {{ ref('int_indicator_values_by_provider') }}
    where indicator_id in ({{ sql_list(provider_data_indicators()) }})
    union all
    select {{ provider_contribution_sums() }}
    from contributions
    inner join catalogue on contributions.indicator_id = catalogue.indicator_id
    where contributions.indicator_id not in ({{ sql_list(provider_data_indicators()) }})
    group by contributions.indicator_id, contributions.period, contributions.provider
),

aggregated as (
    select
        by_provider.indicator_id,
        by_provider.period,
        unit_levels.level,
        unit_levels.unit_code,
        sum(by_provider.numerator) as numerator,
        sum(by_provider.denominator) as denominator,
        sum(by_provider.base_n) as base_n
    from by_provider
    inner join unit_levels on by_provider.provider = unit_levels.provider
    group by by_provider.indicator_id, by_provider.period, unit_levels.level, unit_levels.unit_code
),

valued as (
    select
        grid.indicator_id,
        grid.period,
        grid.period_type,
        grid.period_complete,
        grid.level,
        grid.unit_code,
        unit_names.unit_name,
        coalesce(aggregated.numerator, 0) as numerator,
        coalesce(aggregated.denominator, 0) as denominator,
        case
            when grid.base_n_entity is not null then coalesce(aggregated.base_n, 0)
        end as base_n
    from grid
    left join aggregated
        on
            grid.indicator_id = aggregated.indicator_id
            and grid.period = aggregated.period
            and grid.level = aggregated.level
            and grid.unit_code = aggregated.unit_code
    left join unit_names
        on
            grid.level = unit_names.level
            and grid.unit_code = unit_names.unit_code
)

select
    cast(indicator_id as varchar) as indicator_id,
    cast(period as varchar) as period,
    cast(period_type as varchar) as period_type,
    cast(period_complete as boolean) as period_complete,
    cast(level as varchar) as level,
    cast(unit_code as varchar) as unit_code,
    cast(unit_name as varchar) as unit_name,
    cast(numerator as double) as numerator,
    cast(denominator as double) as denominator,
    cast(
        case when denominator <> 0 then cast(numerator as double) / cast(denominator as double) end
        as double
    ) as value,
    cast(base_n as bigint) as base_n
from valued
