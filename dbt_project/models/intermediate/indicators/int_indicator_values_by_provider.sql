-- Each provider's sums of its contributions to the indicators computed from the providers' own
-- snapshots (provider_data_indicators(): CM and EL), per indicator and period, summed as
-- provider_contribution_sums() says (macros/indicators.sql). indicator_values rolls these up to
-- the units.
-- Built by provider (macros/incremental_by_provider.sql): only the providers whose inputs changed,
-- so a correction of one provider sums its ≈ 70,000 contributions, not all 22 M (bw).
{{ built_by_provider() }}
with catalogue as (
    select *
    from {{ ref('indicator_catalogue') }}
    where indicator_id in ({{ sql_list(provider_data_indicators()) }})
),

contributions as (
    select * from {{ ref('int_indicator_contributions') }}
    where
        indicator_id in ({{ sql_list(provider_data_indicators()) }})
        and {{ changed_providers('provider') }}
)

select {{ provider_contribution_sums() }}
from contributions
inner join catalogue on contributions.indicator_id = catalogue.indicator_id
group by contributions.indicator_id, contributions.period, contributions.provider
