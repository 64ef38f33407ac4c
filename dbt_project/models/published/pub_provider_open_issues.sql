{{ config(alias='provider_open_issues') }}
-- Open problems per provider, extract and rule as counts only (no file names, lines or values):
-- what the data-quality section may show about deliveries still to be fixed.
with issues as (
    select * from {{ source('raw', 'provider_issues') }}
)

select
    cast(provider as varchar) as provider,
    cast(coalesce(extract, '?') as varchar) as extract,
    cast(kind as varchar) as kind,
    cast(rule as varchar) as rule,
    cast(coalesce(column_name, '') as varchar) as column_name,
    cast(count(distinct delivery_id) as bigint) as files,
    cast(coalesce(sum(rows_affected), 0) as bigint) as rows_affected
from issues
group by provider, coalesce(extract, '?'), kind, rule, coalesce(column_name, '')
