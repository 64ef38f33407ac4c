-- Contacts by topic (kontakte.thema) and topic group (seeds/topic_groups.csv): how much of the
-- counselling is classic social work (audit finding 5). Full grid of unit x period x topic; shares
-- are of all contacts of the unit in the period. Unsuppressed (operators); the published copy
-- applies the suppression pattern (disclosure_pattern). The millions of contacts are counted per
-- provider, period and topic in int_contact_topic_counts (built by provider); here those counts
-- are summed over each unit's providers.
with periods as (
    select * from {{ ref('int_periods') }}
),

unit_levels as (
    select * from {{ ref('int_unit_levels') }}
),

topic_groups as (
    select * from {{ ref('topic_groups') }}
),

topics as (
    select
        code_lists.code as topic,
        code_lists.label_de as topic_label_de,
        code_lists.label_en as topic_label_en,
        topic_groups.topic_group
    from {{ ref('code_lists') }} as code_lists
    left join topic_groups on code_lists.code = topic_groups.topic
    where code_lists.list_name = 'thema'
),

units as (
    select distinct
        level,
        unit_code
    from unit_levels
),

counts as (
    select * from {{ ref('int_contact_topic_counts') }}
),

per_provider_topic as (
    select
        provider,
        period,
        code as topic,
        contacts,
        base_n
    from counts
    where counted_by = 'topic'
),

per_provider_topic_group as (
    select
        provider,
        period,
        code as topic_group,
        contacts,
        base_n
    from counts
    where counted_by = 'topic_group'
),

per_provider as (
    select
        provider,
        period,
        sum(contacts) as contacts
    from per_provider_topic
    group by provider, period
),

per_topic as (
    select
        unit_levels.level,
        unit_levels.unit_code,
        per_provider_topic.period,
        per_provider_topic.topic,
        sum(per_provider_topic.contacts) as contacts,
        sum(per_provider_topic.base_n) as base_n
    from per_provider_topic
    inner join unit_levels on per_provider_topic.provider = unit_levels.provider
    group by unit_levels.level, unit_levels.unit_code, per_provider_topic.period, per_provider_topic.topic
),

per_topic_group as (
    select
        unit_levels.level,
        unit_levels.unit_code,
        per_provider_topic_group.period,
        per_provider_topic_group.topic_group,
        sum(per_provider_topic_group.contacts) as contacts,
        sum(per_provider_topic_group.base_n) as base_n
    from per_provider_topic_group
    inner join unit_levels on per_provider_topic_group.provider = unit_levels.provider
    group by
        unit_levels.level,
        unit_levels.unit_code,
        per_provider_topic_group.period,
        per_provider_topic_group.topic_group
),

per_unit as (
    select
        unit_levels.level,
        unit_levels.unit_code,
        per_provider.period,
        sum(per_provider.contacts) as contacts
    from per_provider
    inner join unit_levels on per_provider.provider = unit_levels.provider
    group by unit_levels.level, unit_levels.unit_code, per_provider.period
),

grid as (
    select
        units.level,
        units.unit_code,
        periods.period,
        periods.period_type,
        periods.period_complete,
        topics.topic,
        topics.topic_label_de,
        topics.topic_label_en,
        topics.topic_group
    from units
    cross join periods
    cross join topics
),

counted as (
    select
        grid.*,
        coalesce(per_topic.contacts, 0) as contacts,
        coalesce(per_topic.base_n, 0) as base_n,
        coalesce(per_topic_group.contacts, 0) as topic_group_contacts,
        coalesce(per_topic_group.base_n, 0) as topic_group_base_n,
        coalesce(per_unit.contacts, 0) as unit_contacts
    from grid
    left join per_topic
        on
            grid.level = per_topic.level
            and grid.unit_code = per_topic.unit_code
            and grid.period = per_topic.period
            and grid.topic = per_topic.topic
    left join per_topic_group
        on
            grid.level = per_topic_group.level
            and grid.unit_code = per_topic_group.unit_code
            and grid.period = per_topic_group.period
            and grid.topic_group = per_topic_group.topic_group
    left join per_unit
        on
            grid.level = per_unit.level
            and grid.unit_code = per_unit.unit_code
            and grid.period = per_unit.period
)

select
    cast(level as varchar) as level,
    cast(unit_code as varchar) as unit_code,
    cast(period as varchar) as period,
    cast(period_type as varchar) as period_type,
    cast(period_complete as boolean) as period_complete,
    cast(topic as varchar) as topic,
    cast(topic_label_de as varchar) as topic_label_de,
    cast(topic_label_en as varchar) as topic_label_en,
    cast(topic_group as varchar) as topic_group,
    cast(contacts as bigint) as contacts,
    cast(case when unit_contacts > 0 then contacts / unit_contacts end as double) as contact_share,
    cast(base_n as bigint) as base_n,
    cast(topic_group_contacts as bigint) as topic_group_contacts,
    cast(case when unit_contacts > 0 then topic_group_contacts / unit_contacts end as double)
        as topic_group_share,
    cast(topic_group_base_n as bigint) as topic_group_base_n
from counted
