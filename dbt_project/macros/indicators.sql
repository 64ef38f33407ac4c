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
