-- A failure means published.indicator_values differs from marts.indicator_values other than by
-- the suppression pattern: a row is missing or extra, the period type differs, suppressed /
-- suppression disagree with marts.disclosure_pattern, or an unsuppressed number (base_n
-- included) was changed.
{{ config(
    tags=['fixture_only'],
    meta={
        'mart_gate': ['published_matches_marts', 'grid_complete'],
        'dagster': {'ref': {'name': 'pub_indicator_values'}},
    },
) }}
with marts as (
    select * from {{ ref('indicator_values') }}
),

published as (
    select * from {{ ref('pub_indicator_values') }}
),

pattern as (
    select * from {{ ref('disclosure_pattern') }}
    where table_name = 'indicator_values'
)

select
    coalesce(marts.indicator_id, published.indicator_id) as indicator_id,
    coalesce(marts.period, published.period) as period,
    coalesce(marts.level, published.level) as level,
    coalesce(marts.unit_code, published.unit_code) as unit_code
from marts
full outer join published
    on
        marts.indicator_id = published.indicator_id
        and marts.period = published.period
        and marts.level = published.level
        and marts.unit_code = published.unit_code
left join pattern
    on
        marts.indicator_id = pattern.block
        and marts.period = pattern.period
        and marts.level = pattern.level
        and marts.unit_code = pattern.unit_code
where
    marts.indicator_id is null
    or published.indicator_id is null
    or pattern.suppression is distinct from published.suppression
    or (pattern.suppression is not null) is distinct from published.suppressed
    or marts.period_type is distinct from published.period_type
    or (
        pattern.suppression is null
        and (
            marts.base_n is distinct from published.base_n
            or marts.numerator is distinct from published.numerator
            or marts.denominator is distinct from published.denominator
            or marts.value is distinct from published.value
        )
    )
