{{ config(alias='mart_contact_topics') }}
-- Published contacts by topic: topics and topic groups are cells of the suppression pattern
-- (marts.disclosure_pattern). A suppressed topic loses contacts, share and base_n; a suppressed
-- group loses the topic_group_* numbers on every row of the group. A share divides by all
-- contacts of the unit in the period, which is EL01's denominator: where that cell is suppressed,
-- every share of the unit and period is NULL too (a share and its count would give it away).
with contact_topics as (
    select * from {{ ref('mart_contact_topics') }}
),

pattern as (
    select * from {{ ref('disclosure_pattern') }}
),

patterned as (
    select
        contact_topics.*,
        topic.suppression,
        topic_group.suppression as topic_group_suppression,
        unit_total.suppression is not null as unit_total_suppressed
    from contact_topics
    left join pattern as topic
        on
            topic.table_name = 'mart_contact_topics'
            and topic.block = 'topic'
            and contact_topics.period = topic.period
            and contact_topics.level = topic.level
            and contact_topics.unit_code = topic.unit_code
            and contact_topics.topic = topic.breakdown
    left join pattern as topic_group
        on
            topic_group.table_name = 'mart_contact_topics'
            and topic_group.block = 'topic_group'
            and contact_topics.period = topic_group.period
            and contact_topics.level = topic_group.level
            and contact_topics.unit_code = topic_group.unit_code
            and contact_topics.topic_group = topic_group.breakdown
    left join pattern as unit_total
        on
            unit_total.table_name = 'indicator_values'
            and unit_total.block = 'EL01'
            and contact_topics.period = unit_total.period
            and contact_topics.level = unit_total.level
            and contact_topics.unit_code = unit_total.unit_code
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
    cast(case when suppression is null then contacts end as bigint) as contacts,
    cast(
        case when suppression is null and not unit_total_suppressed then contact_share end as double
    ) as contact_share,
    cast(case when suppression is null then base_n end as bigint) as base_n,
    cast(suppression is not null as boolean) as suppressed,
    cast(suppression as varchar) as suppression,
    cast(case when topic_group_suppression is null then topic_group_contacts end as bigint)
        as topic_group_contacts,
    cast(
        case
            when topic_group_suppression is null and not unit_total_suppressed then topic_group_share
        end as double
    ) as topic_group_share,
    cast(case when topic_group_suppression is null then topic_group_base_n end as bigint)
        as topic_group_base_n,
    cast(topic_group_suppression is not null as boolean) as topic_group_suppressed,
    cast(topic_group_suppression as varchar) as topic_group_suppression
from patterned
