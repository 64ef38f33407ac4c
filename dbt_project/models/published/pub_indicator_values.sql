{{ config(alias='indicator_values') }}
-- Published indicator values: suppressed rows (person-related indicators resting on fewer than 5
-- cases or persons) lose numerator, denominator and value.
with indicator_values as (
    select * from {{ ref('indicator_values') }}
)

select
    cast(indicator_id as varchar) as indicator_id,
    cast(period as varchar) as period,
    cast(period_type as varchar) as period_type,
    cast(period_complete as boolean) as period_complete,
    cast(level as varchar) as level,
    cast(unit_code as varchar) as unit_code,
    cast(unit_name as varchar) as unit_name,
    cast(case when not suppressed then numerator end as double) as numerator,
    cast(case when not suppressed then denominator end as double) as denominator,
    cast(case when not suppressed then value end as double) as value,
    cast(base_n as bigint) as base_n,
    cast(suppressed as boolean) as suppressed
from indicator_values
