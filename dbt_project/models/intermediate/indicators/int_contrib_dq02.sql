-- DQ02 accepted rows, YEAR and QUARTER. Denominator: rows delivered in files whose stand falls in P;
-- numerator: of those, rows accepted (loaded). One row per provider file (stg_deliveries):
-- - an accepted file: rows_delivered / rows_loaded (its quarantined rows are the difference);
-- - a file rejected whole: its rows_delivered, none accepted (v2: rows_delivered is recorded for
--   every file rejected whole as far as its rows can be read, e.g. a missing required column);
--   a file that could not be read at all has no known row count and adds 0 / 0;
-- - a file with a stand after the reference date R is not yet known;
-- - a DUPLICATE (the same bytes as an accepted file) changes nothing and is not counted again;
-- - files of the funding authority '08' are no provider's deliveries, and a misnamed file has no
--   stand, so neither counts.
with deliveries as (
    select * from {{ ref('stg_deliveries') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

provider_files as (
    select
        provider,
        delivery_id,
        coalesce(rows_delivered, 0) as rows_delivered,
        case when is_accepted then coalesce(rows_loaded, 0) else 0 end as rows_accepted,
        unnest({{ periods_of_date('stand') }}) as period
    from deliveries
    where
        verdict in ('ACCEPTED', 'REJECTED')
        and stand is not null
        and provider is not null
        and provider <> '08'
        and stand <= {{ reference_date() }}
)

select
    'DQ02' as indicator_id,
    periods.period,
    periods.period_type,
    provider_files.provider,
    'file' as entity_type,
    cast(provider_files.delivery_id as varchar) as entity_id,
    provider_files.rows_accepted as numerator,
    provider_files.rows_delivered as denominator
from provider_files
inner join periods on provider_files.period = periods.period
