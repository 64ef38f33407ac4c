-- CM05 goals met. Denominator: goals with status ERREICHT, TEILWEISE or NICHT_ERREICHT assessed in
-- P (OFFEN and ENTFALLEN are no assessment of success). Numerator: of those, ERREICHT.
-- One row per case (its goals summed); a goal whose case cannot be found (plan missing from the
-- current snapshot) still counts, as its own 'goal' row, but adds no case to base_n.
with goals as (
    select * from {{ ref('int_goals') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

assessed as (
    select
        periods.period,
        periods.period_type,
        goals.provider,
        case when goals.case_id is null then 'goal' else 'case' end as entity_type,
        coalesce(goals.case_id, goals.goal_id) as entity_id,
        goals.status
    from goals
    inner join periods
        on goals.assessed_on between periods.period_start and periods.period_end
    where goals.status in ('ERREICHT', 'TEILWEISE', 'NICHT_ERREICHT')
)

select
    'CM05' as indicator_id,
    period,
    period_type,
    provider,
    entity_type,
    entity_id,
    count(*) filter (where status = 'ERREICHT') as numerator,
    count(*) as denominator
from assessed
group by period, period_type, provider, entity_type, entity_id
