{{ config(alias='mart_goal_attainment_by_field') }}
-- Published goal attainment by field of action: the CM04 and CM05 blocks of a row are cells of
-- the suppression pattern (marts.disclosure_pattern); a suppressed block loses its counts, share
-- and base_n and says why in cm04_suppression / cm05_suppression.
with goal_attainment as (
    select * from {{ ref('mart_goal_attainment_by_field') }}
),

pattern as (
    select * from {{ ref('disclosure_pattern') }}
    where table_name = 'mart_goal_attainment_by_field'
),

patterned as (
    select
        goal_attainment.*,
        cm04.suppression as cm04_suppression,
        cm05.suppression as cm05_suppression
    from goal_attainment
    left join pattern as cm04
        on
            cm04.block = 'CM04'
            and goal_attainment.period = cm04.period
            and goal_attainment.level = cm04.level
            and goal_attainment.unit_code = cm04.unit_code
            and goal_attainment.field = cm04.breakdown
    left join pattern as cm05
        on
            cm05.block = 'CM05'
            and goal_attainment.period = cm05.period
            and goal_attainment.level = cm05.level
            and goal_attainment.unit_code = cm05.unit_code
            and goal_attainment.field = cm05.breakdown
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
    cast(case when cm04_suppression is null then cm04_goals_agreed end as bigint) as cm04_goals_agreed,
    cast(case when cm04_suppression is null then cm04_goals_smart end as bigint) as cm04_goals_smart,
    cast(case when cm04_suppression is null then cm04_smart_share end as double) as cm04_smart_share,
    cast(case when cm04_suppression is null then cm04_base_n end as bigint) as cm04_base_n,
    cast(cm04_suppression is not null as boolean) as cm04_suppressed,
    cast(cm04_suppression as varchar) as cm04_suppression,
    cast(case when cm05_suppression is null then cm05_goals_assessed end as bigint) as cm05_goals_assessed,
    cast(case when cm05_suppression is null then cm05_goals_met end as bigint) as cm05_goals_met,
    cast(case when cm05_suppression is null then cm05_goals_partly_met end as bigint) as cm05_goals_partly_met,
    cast(case when cm05_suppression is null then cm05_met_share end as double) as cm05_met_share,
    cast(case when cm05_suppression is null then cm05_base_n end as bigint) as cm05_base_n,
    cast(cm05_suppression is not null as boolean) as cm05_suppressed,
    cast(cm05_suppression as varchar) as cm05_suppression
from patterned
