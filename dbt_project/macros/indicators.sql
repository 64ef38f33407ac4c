{#- `['CM01', 'CM05']` as `'CM01', 'CM05'` for an SQL `in (...)` list (the lists come from
    macros/generated_lists.sql). -#}
{% macro sql_list(values) -%}
    {%- for value in values -%}
        '{{ value }}'{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}

{#- docs/indicators.md: case_end = abschluss_datum, or open (infinitely late) when empty. closure_date
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
