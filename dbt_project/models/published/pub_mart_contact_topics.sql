{{ config(alias='mart_contact_topics') }}
-- Published contacts by topic: a topic (or topic group) resting on fewer than 5 cases keeps its
-- base_n and flag but loses its contact count and share.
with contact_topics as (
    select * from {{ ref('mart_contact_topics') }}
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
    cast(case when not suppressed then contacts end as bigint) as contacts,
    cast(case when not suppressed then contact_share end as double) as contact_share,
    cast(base_n as bigint) as base_n,
    cast(suppressed as boolean) as suppressed,
    cast(case when not topic_group_suppressed then topic_group_contacts end as bigint) as topic_group_contacts,
    cast(case when not topic_group_suppressed then topic_group_share end as double) as topic_group_share,
    cast(topic_group_base_n as bigint) as topic_group_base_n,
    cast(topic_group_suppressed as boolean) as topic_group_suppressed
from contact_topics
