-- A failure means a wide analyst mart (published.mart_<domain>) disagrees with the long
-- published.indicator_values it is pivoted from: a unit/period row is missing or extra, a value
-- column differs from the long value of its indicator (NULL included: a published value must not
-- vanish, a withheld one must not reappear), or suppressed_indicators does not list exactly the
-- row's suppressed indicators.
{{ config(meta={'dagster': {'ref': {'name': 'pub_mart_case_management_quality'}}}) }}
{%- set wide_marts = [
    ('case_management', ref('pub_mart_case_management_quality'), true),
    ('eligibility', ref('pub_mart_eligibility'), true),
    ('funding', ref('pub_mart_funding'), false),
    ('payouts', ref('pub_mart_payout_process'), false),
    ('data_quality', ref('pub_mart_data_quality'), false),
] %}
with long_values as (
    select
        indicator_values.*,
        catalogue.domain
    from {{ ref('pub_indicator_values') }} as indicator_values
    inner join {{ ref('indicator_catalogue') }} as catalogue
        on indicator_values.indicator_id = catalogue.indicator_id
),

long_rows as (
    select
        domain,
        level,
        unit_code,
        period,
        period_type,
        string_agg(indicator_id, ',' order by indicator_id) filter (where suppressed) as suppressed_indicators
    from long_values
    group by domain, level, unit_code, period, period_type
),

wide_rows as (
    {%- for domain, wide_mart, with_suppressed_list in wide_marts %}
        select
            '{{ domain }}' as domain,
            level,
            unit_code,
            period,
            period_type,
            {%- if with_suppressed_list %}
                suppressed_indicators
            {%- else %}
                cast(null as varchar) as suppressed_indicators
            {%- endif %}
        from {{ wide_mart }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

wide_values as (
    {%- set cells = [] %}
    {%- for domain, wide_mart, with_suppressed_list in wide_marts %}
        {%- for indicator in domain_indicators(domain) %}
            {%- do cells.append((wide_mart, indicator)) %}
        {%- endfor %}
    {%- endfor %}
    {%- for wide_mart, indicator in cells %}
        select
            '{{ indicator.indicator_id }}' as indicator_id,
            level,
            unit_code,
            period,
            {{ indicator.column_name }} as value
        from {{ wide_mart }}
        {% if not loop.last %}union all{% endif %}
    {%- else %}
        -- the catalogue seed is not built yet (compile without a build): nothing to compare
        select
            null as indicator_id,
            null as level,
            null as unit_code,
            null as period,
            null as value
        where false
    {%- endfor %}
),

row_differences as (
    select
        'row missing, extra or suppressed_indicators differs' as problem,
        coalesce(long_rows.domain, wide_rows.domain) as domain,
        null as indicator_id,
        coalesce(long_rows.level, wide_rows.level) as level,
        coalesce(long_rows.unit_code, wide_rows.unit_code) as unit_code,
        coalesce(long_rows.period, wide_rows.period) as period
    from long_rows
    full outer join wide_rows
        on
            long_rows.domain = wide_rows.domain
            and long_rows.level = wide_rows.level
            and long_rows.unit_code = wide_rows.unit_code
            and long_rows.period = wide_rows.period
    where
        long_rows.domain is null
        or wide_rows.domain is null
        or long_rows.period_type is distinct from wide_rows.period_type
        or (
            wide_rows.domain in ('case_management', 'eligibility')
            and long_rows.suppressed_indicators is distinct from wide_rows.suppressed_indicators
        )
),

value_differences as (
    select
        'value differs' as problem,
        null as domain,
        wide_values.indicator_id,
        wide_values.level,
        wide_values.unit_code,
        wide_values.period
    from wide_values
    left join long_values
        on
            wide_values.indicator_id = long_values.indicator_id
            and wide_values.level = long_values.level
            and wide_values.unit_code = long_values.unit_code
            and wide_values.period = long_values.period
    where wide_values.value is distinct from long_values.value
)

select * from row_differences
union all
select * from value_differences
