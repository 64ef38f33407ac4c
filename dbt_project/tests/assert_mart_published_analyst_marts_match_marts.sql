-- A failure means a published analyst mart (goal attainment by field, contact topics) differs
-- from its operators' mart other than by suppression: a row is missing or extra, a base_n or
-- suppressed flag differs, or an unsuppressed count or share was changed.
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
    where
        goals_marts.level is null
        or goals_published.level is null
        or goals_marts.cm04_base_n is distinct from goals_published.cm04_base_n
        or goals_marts.cm04_suppressed is distinct from goals_published.cm04_suppressed
        or goals_marts.cm05_base_n is distinct from goals_published.cm05_base_n
        or goals_marts.cm05_suppressed is distinct from goals_published.cm05_suppressed
        or (
            not goals_marts.cm04_suppressed
            and (
                goals_marts.cm04_goals_agreed is distinct from goals_published.cm04_goals_agreed
                or goals_marts.cm04_goals_smart is distinct from goals_published.cm04_goals_smart
                or goals_marts.cm04_smart_share is distinct from goals_published.cm04_smart_share
            )
        )
        or (
            not goals_marts.cm05_suppressed
            and (
                goals_marts.cm05_goals_assessed is distinct from goals_published.cm05_goals_assessed
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
    where
        topics_marts.level is null
        or topics_published.level is null
        or topics_marts.topic_group is distinct from topics_published.topic_group
        or topics_marts.base_n is distinct from topics_published.base_n
        or topics_marts.suppressed is distinct from topics_published.suppressed
        or topics_marts.topic_group_base_n is distinct from topics_published.topic_group_base_n
        or topics_marts.topic_group_suppressed is distinct from topics_published.topic_group_suppressed
        or (
            not topics_marts.suppressed
            and (
                topics_marts.contacts is distinct from topics_published.contacts
                or topics_marts.contact_share is distinct from topics_published.contact_share
            )
        )
        or (
            not topics_marts.topic_group_suppressed
            and (
                topics_marts.topic_group_contacts is distinct from topics_published.topic_group_contacts
                or topics_marts.topic_group_share is distinct from topics_published.topic_group_share
            )
        )
)

select * from goal_differences
union all
select * from topic_differences
