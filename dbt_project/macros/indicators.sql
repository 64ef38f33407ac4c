{#- The indicators that have a contribution model (models/intermediate/indicators/int_contrib_<id>.sql).
    The single list that int_indicator_contributions unions and that the marts' grid covers:
    to add an indicator, write int_contrib_<id>.sql (+ .yml) and add its id here. Metadata of all
    22 indicators lives in seeds/indicator_catalogue.csv. -#}
{% macro implemented_indicators() -%}
    {{ return(case_management_indicators() + eligibility_funding_quality_indicators()) }}
{%- endmacro %}

{#- `'CM01', 'CM05'` for an SQL `in (...)` list. -#}
{% macro implemented_indicators_sql() -%}
    {%- for indicator_id in implemented_indicators() -%}
        '{{ indicator_id }}'{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}

{#- INDICATORS.md: case_end = abschluss_datum, or open (infinitely late) when empty. closure_date
    stays NULL in the models; comparisons go through this so an open case sorts after every date. -#}
{% macro case_end(closure_date) -%}
    coalesce({{ closure_date }}, date '9999-12-31')
{%- endmacro %}

{#- The build's reference date R (int_reference_date) as a scalar subquery: rows dated after R are
    not yet known, and every P.end of the catalogue becomes P.eend = min(P.end, R). NULL without
    any accepted provider snapshot (then there are no periods either). -#}
{% macro reference_date() -%}
    (select reference_date from {{ ref('int_reference_date') }})
{%- endmacro %}

{#- The day up to which the funding authority's extracts are used: R for an explicit
    `--reference-date`, else 9999-12-31 (as delivered, up to their own stand). -#}
{% macro authority_cutoff() -%}
    (select authority_cutoff from {{ ref('int_reference_date') }})
{%- endmacro %}
