-- Each provider's sums of its contributions to the indicators computed from the providers' own
-- snapshots (provider_data_indicators(): CM and EL), per indicator and period: numerator and
-- denominator summed exactly as DECIMAL (the CM07/CM10 denominators are fractional case-months,
-- and a DOUBLE sum depends on the order of adding), base_n counted over the rows of the
-- catalogue's base_n entity. indicator_values rolls these up to the units.
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

select
    cast(contributions.indicator_id as varchar) as indicator_id,
    cast(contributions.period as varchar) as period,
    cast(contributions.provider as varchar) as provider,
    sum(cast(contributions.numerator as decimal(38, 12))) as numerator,
    sum(cast(contributions.denominator as decimal(38, 12))) as denominator,
    count(*) filter (where contributions.entity_type = catalogue.base_n_entity) as base_n
from contributions
inner join catalogue on contributions.indicator_id = catalogue.indicator_id
group by contributions.indicator_id, contributions.period, contributions.provider
