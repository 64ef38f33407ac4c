-- Every indicator's contributions in one long table: one row per indicator, period and contributing
-- entity. The marts sum numerator and denominator over the providers of a unit and count the
-- distinct entities of the catalogue's base_n_entity type (see int_indicator_contributions.yml).
-- One contribution model per catalogue indicator (indicator_ids(), macros/generated_lists.sql).
-- entity_id as text: a warehouse id (UHUGEINT) as its 32 hex characters (id_text), never cast.
{{ config(materialized='view') }}
{% for indicator_id in indicator_ids() %}
    {%- set contrib = ref('int_contrib_' ~ indicator_id | lower) %}
    select
        cast(indicator_id as varchar) as indicator_id,
        cast(period as varchar) as period,
        cast(period_type as varchar) as period_type,
        cast(provider as varchar) as provider,
        cast(entity_type as varchar) as entity_type,
        {{ entity_id_text(contrib) }} as entity_id,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator
    from {{ contrib }}
    {% if not loop.last %}union all{% endif %}
{% endfor %}
