-- CM04 (SMART goals) and CM05 (goals met) split by field of action (Handlungsfeld), with the same
-- definitions as the indicators (docs/indicators.md): goals agreed in P, of those with a target date and
-- a measurable criterion; goals assessed ERREICHT, TEILWEISE or NICHT_ERREICHT in P, of those
-- ERREICHT. Full grid of unit x period x field; unsuppressed (operators), the published copy
-- applies the suppression pattern (disclosure_pattern). A goal whose case is unknown (plan missing
-- from the current snapshot) is not known to be of a CM case and does not count — as in the
-- indicators (v2: CM04 and CM05 count goals of CM cases only). int_goals drops what is not known
-- at R. The counts per provider come from int_goal_fields_by_provider (built by provider).
with by_provider as (
    select * from {{ ref('int_goal_fields_by_provider') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

unit_levels as (
    select * from {{ ref('int_unit_levels') }}
),

fields as (
    select
        code as field,
        label_de as field_label_de,
        label_en as field_label_en
    from {{ ref('code_lists') }}
    where list_name = 'handlungsfeld'
),

units as (
    select distinct
        level,
        unit_code
    from unit_levels
),

agreed_per_unit as (
    select
        unit_levels.level,
        unit_levels.unit_code,
        by_provider.period,
        by_provider.field,
        sum(by_provider.goals_agreed) as goals_agreed,
        sum(by_provider.goals_smart) as goals_smart,
        sum(by_provider.cm04_base_n) as base_n
    from by_provider
    inner join unit_levels on by_provider.provider = unit_levels.provider
    group by unit_levels.level, unit_levels.unit_code, by_provider.period, by_provider.field
),

assessed_per_unit as (
    select
        unit_levels.level,
        unit_levels.unit_code,
        by_provider.period,
        by_provider.field,
        sum(by_provider.goals_assessed) as goals_assessed,
        sum(by_provider.goals_met) as goals_met,
        sum(by_provider.goals_partly_met) as goals_partly_met,
        sum(by_provider.cm05_base_n) as base_n
    from by_provider
    inner join unit_levels on by_provider.provider = unit_levels.provider
    group by
        unit_levels.level,
        unit_levels.unit_code,
        by_provider.period,
        by_provider.field
),

grid as (
    select
        units.level,
        units.unit_code,
        periods.period,
        periods.period_type,
        periods.period_complete,
        fields.field,
        fields.field_label_de,
        fields.field_label_en
    from units
    cross join periods
    cross join fields
),

counted as (
    select
        grid.*,
        coalesce(agreed_per_unit.goals_agreed, 0) as cm04_goals_agreed,
        coalesce(agreed_per_unit.goals_smart, 0) as cm04_goals_smart,
        coalesce(agreed_per_unit.base_n, 0) as cm04_base_n,
        coalesce(assessed_per_unit.goals_assessed, 0) as cm05_goals_assessed,
        coalesce(assessed_per_unit.goals_met, 0) as cm05_goals_met,
        coalesce(assessed_per_unit.goals_partly_met, 0) as cm05_goals_partly_met,
        coalesce(assessed_per_unit.base_n, 0) as cm05_base_n
    from grid
    left join agreed_per_unit
        on
            grid.level = agreed_per_unit.level
            and grid.unit_code = agreed_per_unit.unit_code
            and grid.period = agreed_per_unit.period
            and grid.field = agreed_per_unit.field
    left join assessed_per_unit
        on
            grid.level = assessed_per_unit.level
            and grid.unit_code = assessed_per_unit.unit_code
            and grid.period = assessed_per_unit.period
            and grid.field = assessed_per_unit.field
)

select
    cast(level as varchar) as level,
    cast(unit_code as varchar) as unit_code,
    cast(period as varchar) as period,
    cast(period_type as varchar) as period_type,
    cast(period_complete as boolean) as period_complete,
    cast(field as varchar) as field,
    cast(field_label_de as varchar) as field_label_de,
    cast(field_label_en as varchar) as field_label_en,
    cast(cm04_goals_agreed as bigint) as cm04_goals_agreed,
    cast(cm04_goals_smart as bigint) as cm04_goals_smart,
    cast(case when cm04_goals_agreed > 0 then cm04_goals_smart / cm04_goals_agreed end as double)
        as cm04_smart_share,
    cast(cm04_base_n as bigint) as cm04_base_n,
    cast(cm05_goals_assessed as bigint) as cm05_goals_assessed,
    cast(cm05_goals_met as bigint) as cm05_goals_met,
    cast(cm05_goals_partly_met as bigint) as cm05_goals_partly_met,
    cast(case when cm05_goals_assessed > 0 then cm05_goals_met / cm05_goals_assessed end as double)
        as cm05_met_share,
    cast(cm05_base_n as bigint) as cm05_base_n
from counted
