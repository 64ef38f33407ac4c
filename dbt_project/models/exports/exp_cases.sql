-- Case-level base of the evaluator exports (export/evaluator.py): one row per case with
-- warehouse pseudonyms and exact dates, which the export coarsens, re-pseudonymises per study
-- and checks for k-anonymity. A view: it is computed only when an export reads it.
{% set fields = code_list('handlungsfeld') %}
{% set referrals = code_list('verweisung') %}
{% set domains = code_list('bereich') %}
{% set language_levels = code_list('wert:SPRACHE') %}

with cases as (
    select * from {{ ref('int_cases') }}
),

persons as (
    select * from {{ ref('stg_persons') }}
),

units as (
    select * from {{ ref('int_units') }}
),

case_stands as (
    -- an open case is observed up to the stand of its provider's current case snapshot
    select
        provider,
        max(stand) as stand
    from {{ ref('stg_current_batches') }}
    where extract = 'faelle'
    group by provider
),

observed as (
    select
        cases.provider,
        cases.case_id,
        coalesce(cases.closure_date, case_stands.stand) as observed_until
    from cases
    left join case_stands on cases.provider = case_stands.provider
),

status_at_start as (
    -- status at the first contact (macros/status_at.sql)
    select
        cases.provider,
        cases.case_id,
        {{ status_at('residence') }} as status_code
    from cases
    inner join {{ ref('stg_residence_status') }} as residence
        on
            cases.provider = residence.provider
            and cases.person_id = residence.person_id
            and {{ status_covers('residence', 'cases.first_contact_date') }}
    group by cases.provider, cases.case_id
),

contacts as (
    select
        provider,
        case_id,
        count(*) as contacts,
        sum(duration_min) as contact_minutes,
        count(goal_id) as goal_linked_contacts,
        {% for referral in referrals %}
            count(*) filter (where referral = '{{ referral }}') as referrals_{{ referral | lower }},
        {% endfor %}
        count(referral) as referrals
    from {{ ref('stg_contacts') }}
    group by provider, case_id
),

plans as (
    select
        provider,
        case_id,
        count(*) as plans,
        sum(version_count) as plan_versions
    from {{ ref('int_plans') }}
    group by provider, case_id
),

reviews as (
    -- CM06 per case: versions due by the end of observation whose case was not closed before
    select
        reviews.provider,
        reviews.case_id,
        count(*) as reviews_due,
        count(*) filter (where reviews.is_reviewed_on_time) as reviews_on_time
    from {{ ref('int_plan_version_reviews') }} as reviews
    inner join observed
        on
            reviews.provider = observed.provider
            and reviews.case_id = observed.case_id
    where
        reviews.review_due_on <= observed.observed_until
        and not reviews.is_case_closed_before_review_due
    group by reviews.provider, reviews.case_id
),

goals as (
    select
        provider,
        case_id,
        {% for field in fields %}
            count(*) filter (where field = '{{ field }}') as goals_{{ field | lower }}_agreed,
            count(*) filter (
                where field = '{{ field }}' and status = 'ERREICHT'
            ) as goals_{{ field | lower }}_met,
            count(*) filter (
                where field = '{{ field }}' and status = 'TEILWEISE'
            ) as goals_{{ field | lower }}_partly,
            count(*) filter (
                where field = '{{ field }}' and status = 'NICHT_ERREICHT'
            ) as goals_{{ field | lower }}_not_met,
        {% endfor %}
        count(*) as goals_agreed
    from {{ ref('int_goals') }}
    where case_id is not null
    group by provider, case_id
),

outcomes as (
    select
        provider,
        case_id,
        {% for domain in domains %}
            arg_min(outcome_value, observed_on) filter (
                where domain = '{{ domain }}'
            ) as outcome_{{ domain | lower }}_first,
            arg_max(outcome_value, observed_on) filter (
                where domain = '{{ domain }}'
            ) as outcome_{{ domain | lower }}_last,
            datediff(
                'month',
                min(observed_on) filter (where domain = '{{ domain }}'),
                max(observed_on) filter (where domain = '{{ domain }}')
            ) as outcome_{{ domain | lower }}_months,
        {% endfor %}
        count(*) as outcome_observations
    from {{ ref('stg_outcomes') }}
    group by provider, case_id
)

select
    cases.provider,
    cases.case_id,
    cases.person_id,
    units.kreis_code,
    units.rb_code,
    cases.case_type,
    cases.first_contact_date,
    cases.closure_date,
    cases.closure_reason,
    cases.is_closed,
    observed.observed_until,
    observed.observed_until - cases.first_contact_date as duration_days,
    persons.birth_year,
    year(cases.first_contact_date) - persons.birth_year as age_at_start,
    persons.sex,
    persons.nationality,
    year(persons.arrival_date) as arrival_year,
    coalesce(status_at_start.status_code, 'UNBEKANNT') as status_code_at_start,
    coalesce(status_codes.category, 'UNBEKANNT') as status_category_at_start,
    coalesce(status_codes.prospect, 'UNBEKANNT') as prospect_at_start,
    coalesce(contacts.contacts, 0) as contacts,
    coalesce(contacts.contact_minutes, 0) as contact_minutes,
    coalesce(contacts.goal_linked_contacts, 0) as goal_linked_contacts,
    (observed.observed_until - cases.first_contact_date + 1) / 30.4375 as case_months,
    coalesce(contacts.contacts, 0)
    / ((observed.observed_until - cases.first_contact_date + 1) / 30.4375) as contacts_per_case_month,
    coalesce(contacts.goal_linked_contacts, 0) / nullif(contacts.contacts, 0) as share_goal_linked,
    coalesce(contacts.referrals, 0) as referrals,
    {% for referral in referrals %}
        coalesce(contacts.referrals_{{ referral | lower }}, 0) as referrals_{{ referral | lower }},
    {% endfor %}
    plans.case_id is not null as has_plan,
    coalesce(plans.plans, 0) as plans,
    coalesce(plans.plan_versions, 0) as plan_versions,
    first_signature.first_signed_on,
    first_signature.first_signed_on - cases.first_contact_date as days_to_first_signature,
    coalesce(reviews.reviews_due, 0) as reviews_due,
    coalesce(reviews.reviews_on_time, 0) as reviews_on_time,
    coalesce(goals.goals_agreed, 0) as goals_agreed,
    {% for field in fields %}
        {% for measure in ['agreed', 'met', 'partly', 'not_met'] %}
            coalesce(goals.goals_{{ field | lower }}_{{ measure }}, 0) as goals_{{ field | lower }}_{{ measure }},
        {% endfor %}
    {% endfor %}
    {% for domain in domains %}
        outcomes.outcome_{{ domain | lower }}_first,
        outcomes.outcome_{{ domain | lower }}_last,
        outcomes.outcome_{{ domain | lower }}_months,
    {% endfor %}
    -- CEFR steps between the first and the last observation (KEINE = 0, A1 = 1, ..., C2 = 6)
    list_position({{ language_levels }}, outcomes.outcome_sprache_last)
    - list_position({{ language_levels }}, outcomes.outcome_sprache_first) as language_levels_gained,
    -- only asked of cases first observed in follow-up accommodation
    case
        when outcomes.outcome_wohnen_first = 'AU' then outcomes.outcome_wohnen_last <> 'AU'
    end as moved_out_of_au,
    outcomes.outcome_arbeit_last in ('SVB', 'AUSBILDUNG') as employed_svb_or_training
from cases
inner join observed
    on
        cases.provider = observed.provider
        and cases.case_id = observed.case_id
left join units on cases.provider = units.provider
left join persons
    on
        cases.provider = persons.provider
        and cases.person_id = persons.person_id
left join status_at_start
    on
        cases.provider = status_at_start.provider
        and cases.case_id = status_at_start.case_id
left join {{ ref('status_codes') }} as status_codes
    on coalesce(status_at_start.status_code, 'UNBEKANNT') = status_codes.status_code
left join contacts
    on
        cases.provider = contacts.provider
        and cases.case_id = contacts.case_id
left join plans
    on
        cases.provider = plans.provider
        and cases.case_id = plans.case_id
left join {{ ref('int_case_first_signature') }} as first_signature
    on
        cases.provider = first_signature.provider
        and cases.case_id = first_signature.case_id
left join reviews
    on
        cases.provider = reviews.provider
        and cases.case_id = reviews.case_id
left join goals
    on
        cases.provider = goals.provider
        and cases.case_id = goals.case_id
left join outcomes
    on
        cases.provider = outcomes.provider
        and cases.case_id = outcomes.case_id
