-- Case × period for every period in which the case is active (docs/indicators.md): first contact on or
-- before P.end and case_end on or after P.start, an open case being infinitely late. Case-days end
-- at P.eend = min(P.end, R) (v2): nothing is counted after the reference date, and "open at P.end"
-- is open at P.eend. Cases come from int_cases, which already drops what is not known at R.
-- Built by provider and period (macros/incremental_by_provider.sql): the rows of the providers
-- whose own inputs changed, and of every provider the rows of the periods that changed (R moved:
-- the current year and a new quarter) — two parts, each filtered on one side of the join.
{{ built_by_provider(by_period=true) }}
with cases as (
    select * from {{ ref('int_cases') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

active as (
    {%- for part in changed_parts('cases.provider', 'periods.period') %}
        select
            cases.provider,
            cases.case_id,
            cases.person_id,
            cases.position_id,
            cases.case_type,
            cases.is_case_management,
            cases.first_contact_date,
            cases.closure_date,
            periods.period,
            periods.period_type,
            periods.period_start,
            periods.period_end,
            periods.period_eend,
            greatest(cases.first_contact_date, periods.period_start) as effective_start,
            least({{ case_end('cases.closure_date') }}, periods.period_eend) as effective_end
        from cases
        inner join periods
            on
                cases.first_contact_date <= periods.period_end
                and {{ case_end('cases.closure_date') }} >= periods.period_start
        where {{ part }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select
    *,
    -- both ends counted
    date_diff('day', effective_start, effective_end) + 1 as case_days,
    (closure_date is null or closure_date > period_eend) as is_open_at_period_end
from active
