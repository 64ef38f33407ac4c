-- Case-month panel of the evaluator exports: one row per case and calendar month from the month
-- of first contact to the month the case was closed or, while open, the month of its provider's
-- stand (observed_until of exp_cases). Time-varying variables only; the case's fixed variables
-- are in exp_cases. A view: it is computed only when an export reads it.
{% set domains = code_list('bereich') %}

with cases as (
    select
        provider,
        case_id,
        person_id,
        first_contact_date,
        closure_date,
        closure_reason,
        observed_until
    from {{ ref('exp_cases') }}
),

months as (
    select
        cases.*,
        cast(month_start as date) as month_start,
        cast(month_start + interval 1 month - interval 1 day as date) as month_end
    from cases,
        unnest(generate_series(
            date_trunc('month', cases.first_contact_date),
            date_trunc('month', cases.observed_until),
            interval 1 month
        )) as series (month_start)
),

month_contacts as (
    select
        provider,
        case_id,
        date_trunc('month', contact_date) as month_start,
        count(*) as contacts,
        sum(duration_min) as contact_minutes,
        count(goal_id) as goal_linked_contacts,
        count(referral) as referrals
    from {{ ref('stg_contacts') }}
    group by all
),

month_goals as (
    select
        provider,
        case_id,
        date_trunc('month', agreed_on) as month_start,
        count(*) as goals_agreed
    from {{ ref('int_goals') }}
    where case_id is not null
    group by all
),

month_assessments as (
    select
        provider,
        case_id,
        date_trunc('month', assessed_on) as month_start,
        count(*) filter (where status = 'ERREICHT') as goals_met,
        count(*) filter (where status = 'TEILWEISE') as goals_partly,
        count(*) filter (where status = 'NICHT_ERREICHT') as goals_not_met
    from {{ ref('int_goals') }}
    where case_id is not null and assessed_on is not null
    group by all
),

month_outcomes as (
    -- the last observation of each domain in the month
    select
        provider,
        case_id,
        date_trunc('month', observed_on) as month_start,
        {% for domain in domains %}
            arg_max(outcome_value, observed_on) filter (
                where domain = '{{ domain }}'
            ) as outcome_{{ domain | lower }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ ref('stg_outcomes') }}
    group by all
),

month_status as (
    -- status at the last observed day of the month (macros/status_at.sql)
    select
        months.provider,
        months.case_id,
        months.month_start,
        {{ status_at('residence') }} as status_code
    from months
    inner join {{ ref('stg_residence_status') }} as residence
        on
            months.provider = residence.provider
            and months.person_id = residence.person_id
            and {{ status_covers('residence', 'least(months.month_end, months.observed_until)') }}
    group by months.provider, months.case_id, months.month_start
)

select
    months.provider,
    months.case_id,
    months.month_start,
    datediff('month', date_trunc('month', months.first_contact_date), months.month_start)
        as month_index,
    coalesce(month_contacts.contacts, 0) as contacts,
    coalesce(month_contacts.contact_minutes, 0) as contact_minutes,
    coalesce(month_contacts.goal_linked_contacts, 0) as goal_linked_contacts,
    coalesce(month_contacts.referrals, 0) as referrals,
    coalesce(first_signature.first_signed_on <= months.month_end, false) as has_signed_plan,
    coalesce(month_goals.goals_agreed, 0) as goals_agreed,
    coalesce(month_assessments.goals_met, 0) as goals_met,
    coalesce(month_assessments.goals_partly, 0) as goals_partly,
    coalesce(month_assessments.goals_not_met, 0) as goals_not_met,
    coalesce(month_status.status_code, 'UNBEKANNT') as status_code,
    coalesce(status_codes.category, 'UNBEKANNT') as status_category,
    coalesce(status_codes.prospect, 'UNBEKANNT') as prospect,
    {% for domain in domains %}
        month_outcomes.outcome_{{ domain | lower }},
    {% endfor %}
    coalesce(months.closure_date between months.month_start and months.month_end, false)
        as is_closed_in_month,
    case
        when months.closure_date between months.month_start and months.month_end
            then months.closure_reason
    end as closure_reason
from months
left join month_contacts
    on
        months.provider = month_contacts.provider
        and months.case_id = month_contacts.case_id
        and months.month_start = month_contacts.month_start
left join month_goals
    on
        months.provider = month_goals.provider
        and months.case_id = month_goals.case_id
        and months.month_start = month_goals.month_start
left join month_assessments
    on
        months.provider = month_assessments.provider
        and months.case_id = month_assessments.case_id
        and months.month_start = month_assessments.month_start
left join month_outcomes
    on
        months.provider = month_outcomes.provider
        and months.case_id = month_outcomes.case_id
        and months.month_start = month_outcomes.month_start
left join month_status
    on
        months.provider = month_status.provider
        and months.case_id = month_status.case_id
        and months.month_start = month_status.month_start
left join {{ ref('int_case_first_signature') }} as first_signature
    on
        months.provider = first_signature.provider
        and months.case_id = first_signature.case_id
left join {{ ref('status_codes') }} as status_codes
    on coalesce(month_status.status_code, 'UNBEKANNT') = status_codes.status_code
