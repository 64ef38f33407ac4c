-- Contacts by topic and by topic group per provider and period (mart_contact_topics rolls them up
-- to the units): `counted_by` 'topic' counts per topic (kontakte.thema), 'topic_group' per group of
-- seeds/topic_groups.csv (`code` NULL for topics in no group); `contacts` are the contacts dated
-- in the period, `base_n` the distinct cases with such a contact. Each contact is placed in its
-- year and quarter by its date (two rows per contact; periods outside int_periods drop out at the
-- mart's grid), not by a range join over all periods. Built by provider
-- (macros/incremental_by_provider.sql): only the providers whose own snapshots changed. It reads
-- nothing the providers share but R and the topic groups (a seed: it changes with the project,
-- which builds every model anew), and R only to leave out contacts dated after it — a date the
-- contract caps at the stand (kontakte.datum <= Stand), so none is after the newest stand: a moved
-- R rebuilds it only when set explicitly (int_provider_inputs.own_inputs), as int_contact_status.
-- On `bw` the day after (R moved) this model took 5.0 of dbt's 17.0 s, all 300 providers again.
{{ built_by_provider(own_only=true) }}
with contacts as (
    select * from {{ ref('stg_contacts') }}
    where {{ changed_providers('provider', own_only=true) }}
),

topic_groups as (
    select * from {{ ref('topic_groups') }}
),

dated as (
    select
        provider,
        case_id,
        topic,
        unnest({{ periods_of_date('contact_date') }}) as period
    from contacts
    -- a contact dated after the reference date R is not yet known
    where contact_date <= {{ reference_date() }}
),

-- Case ids are unique within a provider and a provider rolls up to one unit per level, so
-- distinct cases per provider add up to the distinct cases of a unit: count them per provider
-- (millions of rows) and only then sum over the unit's providers (thousands of rows).
-- The contacts are grouped once, to one row per case, period and topic; every count below starts
-- from there, so a case counts once per topic (and per topic group) by counting rows, without a
-- distinct over the millions of dated contacts (and without keeping those in memory for three
-- passes).
per_case_topic as (
    select
        dated.provider,
        dated.case_id,
        dated.period,
        dated.topic,
        topic_groups.topic_group,
        count(*) as contacts
    from dated
    left join topic_groups on dated.topic = topic_groups.topic
    group by dated.provider, dated.case_id, dated.period, dated.topic, topic_groups.topic_group
),

per_provider_topic as (
    select
        provider,
        period,
        topic,
        sum(contacts) as contacts,
        -- one row per case here; count() skips a NULL case_id as count(distinct) did
        count(case_id) as base_n
    from per_case_topic
    group by provider, period, topic
),

per_case_topic_group as (
    select
        provider,
        case_id,
        period,
        topic_group,
        sum(contacts) as contacts
    from per_case_topic
    group by provider, case_id, period, topic_group
),

per_provider_topic_group as (
    select
        provider,
        period,
        topic_group,
        sum(contacts) as contacts,
        count(case_id) as base_n
    from per_case_topic_group
    group by provider, period, topic_group
)

select
    provider,
    period,
    'topic' as counted_by,
    topic as code,
    contacts,
    base_n
from per_provider_topic
union all
select
    provider,
    period,
    'topic_group' as counted_by,
    topic_group as code,
    contacts,
    base_n
from per_provider_topic_group
