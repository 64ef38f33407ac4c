-- A failure means seeds/topic_groups.csv and the code list `thema` disagree: a topic has no group
-- (its contacts would fall out of every topic group of mart_contact_topics, and published.
-- mart_contact_topics would fail its not-null contract) or the seed names a topic that is no code.
{{ config(tags=['fixture_only'], meta={'dagster': {'ref': {'name': 'topic_groups'}}}) }}
with topics as (
    select code as topic
    from {{ ref('code_lists') }}
    where list_name = 'thema'
),

topic_groups as (
    select topic from {{ ref('topic_groups') }}
),

without_group as (
    select topic from topics
    except
    select topic from topic_groups
),

unknown_topic as (
    select topic from topic_groups
    except
    select topic from topics
)

select
    'topic without a group' as problem,
    topic
from without_group
union all
select
    'group row for an unknown topic' as problem,
    topic
from unknown_topic
