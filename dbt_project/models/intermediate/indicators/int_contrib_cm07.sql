-- CM07 contacts per case-month. Denominator: case-months in P (case-days / 30.4375, both ends
-- counted) over all cases active in P, CM and KB. Numerator: contacts dated in P. One row per case
-- active in P (its case-months and its contacts in P). A contact dated in P whose case is not
-- active in P (dated before the first contact or after the closure, or its case missing from the
-- snapshot) still counts, as its own 'contact' row, so base_n stays "cases active in P".
-- Case-days end at P.eend = min(P.end, R) (int_case_periods); contacts after R are not known.
-- Built by provider and period (macros/incremental_by_provider.sql): the rows of the providers
-- whose own inputs changed, and of every provider those of the periods that changed.
{{ built_by_provider(by_period=true) }}
with case_periods as (
    select * from {{ ref('int_case_periods') }}
    where {{ changed_rows('provider', 'period') }}
),

case_period_contacts as (
    select * from {{ ref('int_case_period_contacts') }}
    where {{ changed_rows('provider', 'period') }}
),

-- only the contacts' own columns are needed here (not the case attributes int_contacts joins on),
-- so the millions of contacts are read without that join
contacts as (
    select * from {{ ref('stg_contacts') }}
    where {{ changed_dates('provider', 'contact_date') }}
),

-- one pass over both sides: active cases with or without contacts, and contacts without an
-- active case
matched as (
    select
        coalesce(case_periods.provider, case_period_contacts.provider) as provider,
        coalesce(case_periods.case_id, case_period_contacts.case_id) as case_id,
        coalesce(case_periods.period, case_period_contacts.period) as period,
        coalesce(case_periods.period_type, case_period_contacts.period_type) as period_type,
        case_periods.case_id is not null as is_active,
        coalesce(case_period_contacts.contacts, 0) as contacts,
        case_periods.case_days
    from case_periods
    full outer join case_period_contacts
        on
            case_periods.provider = case_period_contacts.provider
            and case_periods.case_id = case_period_contacts.case_id
            and case_periods.period = case_period_contacts.period
),

active_cases as (
    select
        period,
        period_type,
        provider,
        'case' as entity_type,
        case_id as entity_id,
        contacts as numerator,
        case_days / 30.4375 as denominator
    from matched
    where is_active
),

-- rare: the (case, period) pairs with contacts but without the case being active
stray_contacts as (
    select
        matched.period,
        matched.period_type,
        contacts.provider,
        'contact' as entity_type,
        contacts.contact_id as entity_id,
        1 as numerator,
        0.0 as denominator
    from contacts
    inner join matched
        on
            contacts.provider = matched.provider
            and contacts.case_id = matched.case_id
    where
        not matched.is_active
        and contacts.contact_date <= {{ reference_date() }}
        and list_contains({{ periods_of_date('contacts.contact_date') }}, matched.period)
)

select
    'CM07' as indicator_id,
    *
from active_cases
union all
select
    'CM07' as indicator_id,
    *
from stray_contacts
