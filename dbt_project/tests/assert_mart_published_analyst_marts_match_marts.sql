-- A failure means a published analyst mart (goal attainment by field, contact topics) differs
-- from its operators' mart other than by the suppression pattern (marts.disclosure_pattern): a
-- row is missing or extra, a suppressed flag differs from the pattern, or an unsuppressed count,
-- base_n or share was changed (a topic share may also be withheld where the unit's EL01 cell, the
-- share's denominator, is suppressed).
{{ config(meta={'dagster': {'ref': {'name': 'pub_mart_contact_topics'}}}) }}
with goals_marts as (
    select * from {{ ref('mart_goal_attainment_by_field') }}
),

goals_published as (
    select * from {{ ref('pub_mart_goal_attainment_by_field') }}
),

topics_marts as (
    select * from {{ ref('mart_contact_topics') }}
),

topics_published as (
    select * from {{ ref('pub_mart_contact_topics') }}
),

pattern as (
    select * from {{ ref('disclosure_pattern') }}
),

goal_differences as (
    select
        'mart_goal_attainment_by_field' as mart,
        coalesce(goals_marts.level, goals_published.level) as level,
        coalesce(goals_marts.unit_code, goals_published.unit_code) as unit_code,
        coalesce(goals_marts.period, goals_published.period) as period,
        coalesce(goals_marts.field, goals_published.field) as category
    from goals_marts
    full outer join goals_published
        on
            goals_marts.level = goals_published.level
            and goals_marts.unit_code = goals_published.unit_code
            and goals_marts.period = goals_published.period
            and goals_marts.field = goals_published.field
    left join pattern as cm04
        on
            cm04.table_name = 'mart_goal_attainment_by_field'
            and cm04.block = 'CM04'
            and goals_marts.level = cm04.level
            and goals_marts.unit_code = cm04.unit_code
            and goals_marts.period = cm04.period
            and goals_marts.field = cm04.breakdown
    left join pattern as cm05
        on
            cm05.table_name = 'mart_goal_attainment_by_field'
            and cm05.block = 'CM05'
            and goals_marts.level = cm05.level
            and goals_marts.unit_code = cm05.unit_code
            and goals_marts.period = cm05.period
            and goals_marts.field = cm05.breakdown
    where
        goals_marts.level is null
        or goals_published.level is null
        or (cm04.suppression is not null) is distinct from goals_published.cm04_suppressed
        or cm04.suppression is distinct from goals_published.cm04_suppression
        or (cm05.suppression is not null) is distinct from goals_published.cm05_suppressed
        or cm05.suppression is distinct from goals_published.cm05_suppression
        or (
            cm04.suppression is null
            and (
                goals_marts.cm04_base_n is distinct from goals_published.cm04_base_n
                or goals_marts.cm04_goals_agreed is distinct from goals_published.cm04_goals_agreed
                or goals_marts.cm04_goals_smart is distinct from goals_published.cm04_goals_smart
                or goals_marts.cm04_smart_share is distinct from goals_published.cm04_smart_share
            )
        )
        or (
            cm05.suppression is null
            and (
                goals_marts.cm05_base_n is distinct from goals_published.cm05_base_n
                or goals_marts.cm05_goals_assessed is distinct from goals_published.cm05_goals_assessed
                or goals_marts.cm05_goals_met is distinct from goals_published.cm05_goals_met
                or goals_marts.cm05_goals_partly_met is distinct from goals_published.cm05_goals_partly_met
                or goals_marts.cm05_met_share is distinct from goals_published.cm05_met_share
            )
        )
),

topic_differences as (
    select
        'mart_contact_topics' as mart,
        coalesce(topics_marts.level, topics_published.level) as level,
        coalesce(topics_marts.unit_code, topics_published.unit_code) as unit_code,
        coalesce(topics_marts.period, topics_published.period) as period,
        coalesce(topics_marts.topic, topics_published.topic) as category
    from topics_marts
    full outer join topics_published
        on
            topics_marts.level = topics_published.level
            and topics_marts.unit_code = topics_published.unit_code
            and topics_marts.period = topics_published.period
            and topics_marts.topic = topics_published.topic
    left join pattern as topic
        on
            topic.table_name = 'mart_contact_topics'
            and topic.block = 'topic'
            and topics_marts.level = topic.level
            and topics_marts.unit_code = topic.unit_code
            and topics_marts.period = topic.period
            and topics_marts.topic = topic.breakdown
    left join pattern as topic_group
        on
            topic_group.table_name = 'mart_contact_topics'
            and topic_group.block = 'topic_group'
            and topics_marts.level = topic_group.level
            and topics_marts.unit_code = topic_group.unit_code
            and topics_marts.period = topic_group.period
            and topics_marts.topic_group = topic_group.breakdown
    where
        topics_marts.level is null
        or topics_published.level is null
        or topics_marts.topic_group is distinct from topics_published.topic_group
        or (topic.suppression is not null) is distinct from topics_published.suppressed
        or topic.suppression is distinct from topics_published.suppression
        or (topic_group.suppression is not null) is distinct from topics_published.topic_group_suppressed
        or topic_group.suppression is distinct from topics_published.topic_group_suppression
        or (
            topic.suppression is null
            and (
                topics_marts.contacts is distinct from topics_published.contacts
                or topics_marts.base_n is distinct from topics_published.base_n
                or coalesce(topics_published.contact_share, topics_marts.contact_share)
                is distinct from topics_marts.contact_share
            )
        )
        or (
            topic_group.suppression is null
            and (
                topics_marts.topic_group_contacts is distinct from topics_published.topic_group_contacts
                or topics_marts.topic_group_base_n is distinct from topics_published.topic_group_base_n
                or coalesce(topics_published.topic_group_share, topics_marts.topic_group_share)
                is distinct from topics_marts.topic_group_share
            )
        )
)

select * from goal_differences
union all
select * from topic_differences
