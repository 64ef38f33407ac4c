-- A failure means a Kreis value is not the sum of the providers in it (the Kreis itself, when it
-- delivers, and its Gemeinden): the TRAEGER -> KREIS roll-up lost or double-counted a provider.
{{ config(tags=['fixture_only'], meta={'mart_gate': ['kreis_equals_traeger_sum']}) }}
with traeger as (
    select
        indicator_id,
        period,
        left(unit_code, 5) as kreis_code,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from {{ ref('indicator_values') }}
    where level = 'TRAEGER'
    group by indicator_id, period, left(unit_code, 5)
),

kreis as (
    select
        indicator_id,
        period,
        unit_code as kreis_code,
        numerator,
        denominator
    from {{ ref('indicator_values') }}
    where level = 'KREIS'
)

select
    kreis.*,
    traeger.numerator as traeger_numerator,
    traeger.denominator as traeger_denominator
from kreis
full outer join traeger
    on
        kreis.indicator_id = traeger.indicator_id
        and kreis.period = traeger.period
        and kreis.kreis_code = traeger.kreis_code
where
    kreis.indicator_id is null
    or traeger.indicator_id is null
    or abs(kreis.numerator - traeger.numerator) > 1e-6 * greatest(1, abs(kreis.numerator))
    or abs(kreis.denominator - traeger.denominator) > 1e-6 * greatest(1, abs(kreis.denominator))
