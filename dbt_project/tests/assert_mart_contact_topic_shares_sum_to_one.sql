-- A failure means the topic shares of a unit and period do not add up to 1 — in the operators'
-- mart for every unit and period with contacts, in the published one where none of the unit's
-- topics is suppressed — or the published shown shares add up to more than 1: a contact is
-- counted under two topics, in no topic of the code list, or against the wrong total.
{{ config(
    tags=['fixture_only'],
    meta={'extract_gate': ['code'], 'dagster': {'ref': {'name': 'pub_mart_contact_topics'}}},
) }}
with marts_sums as (
    select
        'marts' as source,
        level,
        unit_code,
        period,
        sum(contact_share) as share_sum
    from {{ ref('mart_contact_topics') }}
    group by level, unit_code, period
    having sum(contacts) > 0
),

published_sums as (
    select
        'published' as source,
        level,
        unit_code,
        period,
        sum(contact_share) as share_sum,
        bool_or(suppressed) or bool_or(contact_share is null) as any_suppressed
    from {{ ref('pub_mart_contact_topics') }}
    group by level, unit_code, period
)

select
    source,
    level,
    unit_code,
    period,
    share_sum,
    false as any_suppressed
from marts_sums
where abs(share_sum - 1) > 1e-9
union all
select * from published_sums
where
    (not any_suppressed and abs(share_sum - 1) > 1e-9)
    or share_sum > 1 + 1e-9
