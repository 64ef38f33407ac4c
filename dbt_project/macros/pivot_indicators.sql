{#- Wide analyst marts (models/published/pub_mart_<domain>.sql): one column per indicator of a
    catalogue domain, so a domain's columns follow seeds/indicator_catalogue.csv instead of being
    listed by hand in each mart and test. The models' enforced contracts pin the resulting shape:
    a new catalogue row fails the build until its column is declared in the mart's .yml. -#}

{#- The wide column name of an indicator: its id and English name as a snake_case identifier,
    without parenthesised remarks ('CM01', 'plan coverage' -> cm01_plan_coverage; 'FI01',
    'funding-to-cost ratio (> 1 = overfinanced)' -> fi01_funding_to_cost_ratio). -#}
{% macro indicator_column_name(indicator_id, name_en) -%}
    {%- set without_remarks = modules.re.sub('[(][^)]*[)]', ' ', name_en | lower) -%}
    {%- set words = modules.re.sub('[^a-z0-9]+', '_', without_remarks) | trim('_') -%}
    {{- indicator_id | lower ~ '_' ~ words -}}
{%- endmacro %}

{#- The catalogue's indicators of `domain`, ordered by id, as dicts with indicator_id and
    column_name. Read from the built seed when the model or test runs; at parse time,
    and where the seed has not been built yet (`dbt docs generate` or `dbt compile` on a fresh
    database), the list is empty — a run in that state fails the contract, it does not pass. -#}
{% macro domain_indicators(domain) -%}
    {#- ref outside `if execute`, so dbt records the dependency when it parses the caller -#}
    {%- set catalogue = ref('indicator_catalogue') -%}
    {%- set indicators = [] -%}
    {%- if execute and load_relation(catalogue) is not none -%}
        {%- set query -%}
            select indicator_id, name_en
            from {{ catalogue }}
            where domain = '{{ domain }}'
            order by indicator_id
        {%- endset -%}
        {%- for row in run_query(query).rows -%}
            {%- do indicators.append({
                'indicator_id': row[0],
                'column_name': indicator_column_name(row[0], row[1]),
            }) -%}
        {%- endfor -%}
    {%- elif execute -%}
        {%- do log('domain_indicators: ' ~ catalogue ~ ' is not built yet; no indicator columns', info=true) -%}
    {%- endif -%}
    {{- return(indicators) -}}
{%- endmacro %}

{#- The SELECT of a wide mart: one row per level, unit_code, period (and period_type) of the
    published long table that has a row of an indicator of `domain`, and one value column per
    catalogue indicator of the domain (NULL where the long table's value is NULL — denominator 0
    or suppressed — or the indicator is not implemented yet). With `with_suppressed_list`, a
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
