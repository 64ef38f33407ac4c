-- CM04 (SMART goals) and CM05 (goals met) by field of action, per provider, period and field: the
-- counts mart_goal_attainment_by_field sums to its units (see there for the definitions). Goals
-- agreed in P and goals assessed in P, in one row; base_n the provider's distinct cases of each.
-- Built by provider and period (macros/incremental_by_provider.sql): the rows of the providers
-- whose own inputs changed, and of every provider those of the periods that changed.
{{ built_by_provider(by_period=true) }}
with goals as (
    select * from {{ ref('int_goals') }}
    where {{ changed_dates('provider', 'agreed_on') }} or {{ changed_dates('provider', 'assessed_on') }}
),

agreements as (
    select
        provider,
        field,
        case_id,
        target_date is not null and coalesce(has_measurable_criterion, false) as is_smart,
        unnest({{ periods_of_date('agreed_on') }}) as period
    from goals
    where is_case_management
),

agreed as (
    select * from agreements
    where {{ changed_rows('provider', 'period') }}
),

assessments as (
    select
        provider,
        field,
        case_id,
        status,
        unnest({{ periods_of_date('assessed_on') }}) as period
    from goals
    where is_case_management and status in ('ERREICHT', 'TEILWEISE', 'NICHT_ERREICHT')
),

assessed as (
    select * from assessments
    where {{ changed_rows('provider', 'period') }}
),

-- Case ids are unique within a provider and a provider rolls up to one unit per level, so
-- distinct cases per provider add up to the distinct cases of a unit; count(distinct case_id)
-- skips goals without a known case.
agreed_per_provider as (
    select
        provider,
        period,
        field,
        count(*) as goals_agreed,
        count(*) filter (where is_smart) as goals_smart,
        count(distinct case_id) as base_n
    from agreed
    group by provider, period, field
),

assessed_per_provider as (
    select
        provider,
        period,
        field,
        count(*) as goals_assessed,
        count(*) filter (where status = 'ERREICHT') as goals_met,
        count(*) filter (where status = 'TEILWEISE') as goals_partly_met,
        count(distinct case_id) as base_n
    from assessed
    group by provider, period, field
)

select
    cast(coalesce(agreed_per_provider.provider, assessed_per_provider.provider) as varchar)
        as provider,
    cast(coalesce(agreed_per_provider.period, assessed_per_provider.period) as varchar) as period,
    cast(coalesce(agreed_per_provider.field, assessed_per_provider.field) as varchar) as field,
    cast(coalesce(agreed_per_provider.goals_agreed, 0) as bigint) as goals_agreed,
    cast(coalesce(agreed_per_provider.goals_smart, 0) as bigint) as goals_smart,
    cast(coalesce(agreed_per_provider.base_n, 0) as bigint) as cm04_base_n,
    cast(coalesce(assessed_per_provider.goals_assessed, 0) as bigint) as goals_assessed,
    cast(coalesce(assessed_per_provider.goals_met, 0) as bigint) as goals_met,
    cast(coalesce(assessed_per_provider.goals_partly_met, 0) as bigint) as goals_partly_met,
    cast(coalesce(assessed_per_provider.base_n, 0) as bigint) as cm05_base_n
from agreed_per_provider
full outer join assessed_per_provider
    on
        agreed_per_provider.provider = assessed_per_provider.provider
        and agreed_per_provider.period = assessed_per_provider.period
        and agreed_per_provider.field = assessed_per_provider.field
