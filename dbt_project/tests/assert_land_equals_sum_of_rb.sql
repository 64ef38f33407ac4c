-- A failure means the Land value is not the sum of its Regierungsbezirke: a provider's data rolls
-- up to LAND but not to an RB (or twice), so the levels of indicator_values disagree.
{{ config(tags=['fixture_only'], meta={'mart_gate': ['land_equals_rb_sum']}) }}
with rb as (
    select
        indicator_id,
        period,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from {{ ref('indicator_values') }}
    where level = 'RB'
    group by indicator_id, period
),

land as (
    select
        indicator_id,
        period,
        numerator,
        denominator
    from {{ ref('indicator_values') }}
    where level = 'LAND'
)

select
    land.indicator_id,
    land.period,
    land.numerator as land_numerator,
    rb.numerator as rb_numerator,
    land.denominator as land_denominator,
    rb.denominator as rb_denominator
from land
inner join rb
    on
        land.indicator_id = rb.indicator_id
        and land.period = rb.period
where
    abs(land.numerator - rb.numerator) > 1e-6 * greatest(1, abs(land.numerator))
    or abs(land.denominator - rb.denominator) > 1e-6 * greatest(1, abs(land.denominator))
