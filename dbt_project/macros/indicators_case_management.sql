{#- The codes of the two periods a date falls in, as an SQL list: its year ('2025') and its quarter
    ('2025Q2'), spelt as int_periods spells period codes. `unnest()` it and inner join int_periods
    on period to keep the periods that exist: an equi-join, where a range join of millions of dated
    rows (contacts) against every period would compare each row with all ~50 periods. -#}
{% macro periods_of_date(date_expression) -%}
    [
        cast(year({{ date_expression }}) as varchar),
        cast(year({{ date_expression }}) as varchar) || 'Q' || cast(quarter({{ date_expression }}) as varchar)
    ]
{%- endmacro %}
