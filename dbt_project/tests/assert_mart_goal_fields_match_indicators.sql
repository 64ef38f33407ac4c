-- A failure means goal attainment by field of action does not add up to the indicators: summed
-- over the fields, the goals agreed / SMART (or assessed / met) of a unit and period differ from
-- the CM04 (or CM05) denominator / numerator in marts.indicator_values, or the fields' base_n is
-- below the indicator's (a case counted in the indicator is missing from every field). Checked
-- where the indicator is implemented.
{{ config(meta={'dagster': {'ref': {'name': 'mart_goal_attainment_by_field'}}}) }}
with by_field as (
    select
        level,
        unit_code,
        period,
        sum(cm04_goals_agreed) as cm04_denominator,
        sum(cm04_goals_smart) as cm04_numerator,
        sum(cm04_base_n) as cm04_base_n_sum,
        sum(cm05_goals_assessed) as cm05_denominator,
        sum(cm05_goals_met) as cm05_numerator,
        sum(cm05_base_n) as cm05_base_n_sum
    from {{ ref('mart_goal_attainment_by_field') }}
    group by level, unit_code, period
),

by_field_long as (
    select
        'CM04' as indicator_id,
        level,
        unit_code,
        period,
        cm04_numerator as numerator,
        cm04_denominator as denominator,
        cm04_base_n_sum as base_n_sum
    from by_field
    union all
    select
        'CM05' as indicator_id,
        level,
        unit_code,
        period,
        cm05_numerator as numerator,
        cm05_denominator as denominator,
        cm05_base_n_sum as base_n_sum
    from by_field
),

indicators as (
    select * from {{ ref('indicator_values') }}
    where indicator_id in ('CM04', 'CM05')
)

select
    indicators.indicator_id,
    indicators.level,
    indicators.unit_code,
    indicators.period,
    indicators.numerator,
    by_field_long.numerator as fields_numerator,
    indicators.denominator,
    by_field_long.denominator as fields_denominator,
    indicators.base_n,
    by_field_long.base_n_sum as fields_base_n_sum
from indicators
left join by_field_long
    on
        indicators.indicator_id = by_field_long.indicator_id
        and indicators.level = by_field_long.level
        and indicators.unit_code = by_field_long.unit_code
        and indicators.period = by_field_long.period
where
    by_field_long.indicator_id is null
    or indicators.numerator <> by_field_long.numerator
    or indicators.denominator <> by_field_long.denominator
    or indicators.base_n > by_field_long.base_n_sum
