-- CM10 caseload per FTE. Numerator: cases (CM and KB) open at P.eend = min(P.end, R) — a case
-- closed on P.eend is no longer open (open at d means abschluss_datum empty or > d). Denominator:
-- FTE (vzae) of the positions held at P.eend: beginn <= P.eend and (ende empty or ende >= P.eend). Cases come as 'case'
-- rows (numerator 1, making base_n), positions as 'position' rows (denominator = their FTE).
-- Built by provider and period (macros/incremental_by_provider.sql): the rows of the providers
-- whose own inputs changed, and of every provider those of the periods that changed.
{{ built_by_provider(by_period=true) }}
with case_periods as (
    select * from {{ ref('int_case_periods') }}
    where {{ changed_rows('provider', 'period') }}
),

positions as (
    select * from {{ ref('stg_positions') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

open_cases as (
    select
        period,
        period_type,
        provider,
        'case' as entity_type,
        case_id as entity_id,
        1 as numerator,
        0.0 as denominator
    from case_periods
    where is_open_at_period_end
),

held_positions as (
    select
        periods.period,
        periods.period_type,
        positions.provider,
        'position' as entity_type,
        positions.position_id as entity_id,
        0 as numerator,
        cast(positions.fte as double) as denominator
    from positions
    inner join periods
        on
            positions.start_date <= periods.period_eend
            and (positions.end_date is null or positions.end_date >= periods.period_eend)
    -- a few positions per provider: the condition after the join
    where {{ changed_rows('positions.provider', 'periods.period') }}
)

select
    'CM10' as indicator_id,
    *
from open_cases
union all
select
    'CM10' as indicator_id,
    *
from held_positions
