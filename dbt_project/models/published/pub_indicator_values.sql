{{ config(alias='indicator_values') }}
-- Published indicator values: the suppression pattern (marts.disclosure_pattern, computed by the
-- `disclosure` engine) applies here. A suppressed row keeps its key, suppressed = true and
-- suppression 'primary' or 'secondary', and loses numerator, denominator, value and base_n; a row
-- with base_n 0 ("no cases": denominator 0, value NULL) is not suppressed.
with indicator_values as (
    select * from {{ ref('indicator_values') }}
),

pattern as (
    select * from {{ ref('disclosure_pattern') }}
    where table_name = 'indicator_values'
),

patterned as (
    select
        indicator_values.*,
        pattern.suppression
    from indicator_values
    left join pattern
        on
            indicator_values.indicator_id = pattern.block
            and indicator_values.period = pattern.period
            and indicator_values.level = pattern.level
            and indicator_values.unit_code = pattern.unit_code
)

select
    cast(indicator_id as varchar) as indicator_id,
    cast(period as varchar) as period,
    cast(period_type as varchar) as period_type,
    cast(period_complete as boolean) as period_complete,
    cast(level as varchar) as level,
    cast(unit_code as varchar) as unit_code,
    cast(unit_name as varchar) as unit_name,
    cast(case when suppression is null then numerator end as double) as numerator,
    cast(case when suppression is null then denominator end as double) as denominator,
    cast(case when suppression is null then value end as double) as value,
    cast(case when suppression is null then base_n end as bigint) as base_n,
    cast(suppression is not null as boolean) as suppressed,
    cast(suppression as varchar) as suppression
from patterned
