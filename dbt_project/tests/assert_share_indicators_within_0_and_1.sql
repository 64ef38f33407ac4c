-- A failure means an indicator whose unit is a share ("of those, ...") has a numerator larger
-- than its denominator: the numerator counts something outside the denominator.
{{ config(
    tags=['fixture_only'],
    meta={'mart_gate': ['share_numerator_le_denominator'], 'dagster': {'ref': {'name': 'indicator_values'}}},
) }}
select indicator_values.*
from {{ ref('indicator_values') }} as indicator_values
inner join {{ ref('indicator_catalogue') }} as catalogue
    on indicator_values.indicator_id = catalogue.indicator_id
where
    catalogue.unit = 'share'
    and indicator_values.numerator > indicator_values.denominator
