-- CM03 plans with agreed goals. Denominator: distinct plans of CM cases active in P having a
-- version signed <= P.eend (a plan's first signature <= P.eend). Numerator: of those, plans with at
-- least one goal agreed <= P.eend. One row per case and period, its plans counted. v2: CM cases
-- only (short counselling has no plan), and P.eend = min(P.end, R) for P.end.
-- Built by provider and period (macros/incremental_by_provider.sql): the rows of the providers
-- whose own inputs changed, and of every provider those of the periods that changed.
{{ built_by_provider(by_period=true) }}
with case_periods as (
    select * from {{ ref('int_case_periods') }}
    where {{ changed_rows('provider', 'period') }}
),

plans as (
    select * from {{ ref('int_plans') }}
    where {{ changed_inputs('provider') }}
),

goals as (
    select * from {{ ref('int_goals') }}
    where {{ changed_inputs('provider') }}
),

plan_first_goals as (
    select
        provider,
        plan_id,
        min(agreed_on) as first_goal_agreed_on
    from goals
    group by provider, plan_id
)

select
    'CM03' as indicator_id,
    case_periods.period,
    case_periods.period_type,
    case_periods.provider,
    'case' as entity_type,
    case_periods.case_id as entity_id,
    count(*) filter (where plan_first_goals.first_goal_agreed_on <= case_periods.period_eend) as numerator,
    count(*) as denominator
from case_periods
inner join plans
    on
        case_periods.provider = plans.provider
        and case_periods.case_id = plans.case_id
left join plan_first_goals
    on
        plans.provider = plan_first_goals.provider
        and plans.plan_id = plan_first_goals.plan_id
where
    case_periods.is_case_management
    and plans.first_signed_on <= case_periods.period_eend
group by case_periods.period, case_periods.period_type, case_periods.provider, case_periods.case_id
