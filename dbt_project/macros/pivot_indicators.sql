{#- Wide analyst marts (models/published/pub_mart_<domain>.sql): one column per indicator of a
    catalogue domain. The columns come from domain_indicators() (macros/generated_lists.sql,
    generated from seeds/indicator_catalogue.csv by `imw contract --write`), so a domain's columns
    follow the catalogue instead of being listed by hand in each mart and test. -#}

{#- The SELECT of a wide mart: one row per level, unit_code, period (and period_type) of the
    published long table that has a row of an indicator of `domain`, and one value column per
    catalogue indicator of the domain (NULL where the long table's value is NULL — denominator 0
    or suppressed). With `with_suppressed_list`, a
    column suppressed_indicators lists the ids of the row's suppressed cells. -#}
{% macro pivot_indicator_values(domain, with_suppressed_list) -%}
    {%- set indicators = domain_indicators(domain) -%}
with catalogue as (
    select * from {{ ref('indicator_catalogue') }}
),

indicator_values as (
    select * from {{ ref('pub_indicator_values') }}
),

domain_values as (
    select indicator_values.*
    from indicator_values
    inner join catalogue on indicator_values.indicator_id = catalogue.indicator_id
    where catalogue.domain = '{{ domain }}'
)

select
    cast(level as varchar) as level,
    cast(unit_code as varchar) as unit_code,
    cast(period as varchar) as period,
    cast(period_type as varchar) as period_type,
    cast(period_complete as boolean) as period_complete,
    cast(unit_name as varchar) as unit_name
    {%- for indicator in indicators %},
    cast(max(value) filter (where indicator_id = '{{ indicator.indicator_id }}') as double)
        as {{ indicator.column_name }}
    {%- endfor %}
    {%- if with_suppressed_list %},
    cast(string_agg(indicator_id, ',' order by indicator_id) filter (where suppressed) as varchar)
        as suppressed_indicators
    {%- endif %}
from domain_values
group by level, unit_code, period, period_type, period_complete, unit_name
{%- endmacro %}
