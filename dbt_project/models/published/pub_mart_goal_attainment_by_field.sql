{{ config(alias='mart_goal_attainment_by_field') }}
-- Published goal attainment by field of action: a CM04 or CM05 block resting on fewer than 5
-- cases keeps its base_n and flag but loses its counts and share.
with goal_attainment as (
    select * from {{ ref('mart_goal_attainment_by_field') }}
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
    cast(case when not cm04_suppressed then cm04_goals_agreed end as bigint) as cm04_goals_agreed,
    cast(case when not cm04_suppressed then cm04_goals_smart end as bigint) as cm04_goals_smart,
    cast(case when not cm04_suppressed then cm04_smart_share end as double) as cm04_smart_share,
    cast(cm04_base_n as bigint) as cm04_base_n,
    cast(cm04_suppressed as boolean) as cm04_suppressed,
    cast(case when not cm05_suppressed then cm05_goals_assessed end as bigint) as cm05_goals_assessed,
    cast(case when not cm05_suppressed then cm05_goals_met end as bigint) as cm05_goals_met,
    cast(case when not cm05_suppressed then cm05_goals_partly_met end as bigint) as cm05_goals_partly_met,
    cast(case when not cm05_suppressed then cm05_met_share end as double) as cm05_met_share,
    cast(cm05_base_n as bigint) as cm05_base_n,
    cast(cm05_suppressed as boolean) as cm05_suppressed
from goal_attainment
