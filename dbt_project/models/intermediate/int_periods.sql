-- Reporting periods (docs/indicators.md v2 "Reference date, periods and units"): every calendar year
-- from the first year with data to the year of the reference date R (int_reference_date: the
-- newest stand of the provider snapshots, never the funding authority's), and each quarter of
-- those years that starts on or before R. period_eend = min(P.end, R) is the effective end every
-- definition uses where the catalogue says P.end; period_complete = P.end <= R. Without R (no
-- accepted provider snapshot) there are no periods.
with first_years as (
    -- Years in which data starts: cases, grants, payout requests, proofs of use, budget.
    select min(year(first_contact_date)) as first_year
    from {{ ref('stg_cases') }}
    union all
    select min(year(period_from)) from {{ ref('stg_grants') }}
    union all
    select min(funding_year) from {{ ref('stg_payout_requests') }}
    union all
    select min(funding_year) from {{ ref('stg_proofs_of_use') }}
    union all
    select min(budget_year) from {{ ref('stg_budget') }}
),

reference as (
    select reference_date from {{ ref('int_reference_date') }}
),

bounds as (
    select
        (select min(first_year) from first_years) as first_year,
        (select year(reference_date) from reference) as last_year
),

years as (
    select unnest(generate_series(first_year, last_year)) as period_year
    from bounds
    where first_year is not null and last_year is not null
),

quarters as (
    select unnest(generate_series(1, 4)) as period_quarter
),

year_periods as (
    select
        cast(period_year as varchar) as period,
        'YEAR' as period_type,
        period_year,
        cast(null as integer) as period_quarter,
        make_date(period_year, 1, 1) as period_start,
        make_date(period_year, 12, 31) as period_end
    from years
),

quarter_periods as (
    select
        cast(years.period_year as varchar) || 'Q' || cast(quarters.period_quarter as varchar) as period,
        'QUARTER' as period_type,
        years.period_year,
        quarters.period_quarter,
        make_date(years.period_year, 3 * quarters.period_quarter - 2, 1) as period_start,
        cast(
            make_date(years.period_year, 3 * quarters.period_quarter - 2, 1)
            + interval 3 month - interval 1 day as date
        ) as period_end
    from years
    cross join quarters
),

all_periods as (
    select * from year_periods
    union all
    select * from quarter_periods
)

select
    all_periods.period,
    all_periods.period_type,
    all_periods.period_year,
    all_periods.period_quarter,
    all_periods.period_start,
    all_periods.period_end,
    least(all_periods.period_end, reference.reference_date) as period_eend,
    all_periods.period_end <= reference.reference_date as period_complete
from all_periods
cross join reference
where all_periods.period_start <= reference.reference_date
