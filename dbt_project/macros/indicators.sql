{#- `['CM01', 'CM05']` as `'CM01', 'CM05'` for an SQL `in (...)` list (the lists come from
    macros/generated_lists.sql). -#}
{% macro sql_list(values) -%}
    {%- for value in values -%}
        '{{ value }}'{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}

{#- docs/indicators.md: case_end = abschluss_datum, or open (infinitely late) when empty. closure_date
    stays NULL in the models; comparisons go through this so an open case sorts after every date. -#}
{% macro case_end(closure_date) -%}
    coalesce({{ closure_date }}, date '9999-12-31')
{%- endmacro %}

{#- The build's reference date R (int_reference_date) as a scalar subquery: rows dated after R are
    not yet known, and every P.end of the catalogue becomes P.eend = min(P.end, R). NULL without
    any accepted provider snapshot (then there are no periods either). -#}
{% macro reference_date() -%}
    (select reference_date from {{ ref('int_reference_date') }})
{%- endmacro %}

{#- The day up to which the funding authority's extracts are used: R for an explicit
    `--reference-date`, else 9999-12-31 (as delivered, up to their own stand). -#}
{% macro authority_cutoff() -%}
    (select authority_cutoff from {{ ref('int_reference_date') }})
{%- endmacro %}

{#- The indicators computed from the providers' own snapshots alone (cases, plans, goals, contacts,
    positions, persons' residence status; the catalogue's case_management and eligibility
    domains): a provider's contributions to them change only when its inputs do
    (macros/incremental_by_provider.sql), so int_indicator_values_by_provider sums them by
    provider. The funding, payout and data-quality indicators read the funding authority's
    snapshots, which also give rows to providers without snapshots of their own (a delivery
    obligation never met); indicator_values sums those anew in every build. -#}
{% macro provider_data_indicators() -%}
    {%- set ids = [] -%}
    {%- for domain in ['case_management', 'eligibility'] -%}
        {%- for indicator in domain_indicators(domain) -%}
            {%- do ids.append(indicator['indicator_id']) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(ids) }}
{%- endmacro %}

{#- A provider's sums of its contributions (aliased `contributions`, joined to the catalogue as
    `catalogue`), grouped by indicator, period and provider: numerator and denominator summed
    exactly as DECIMAL (CM07's and CM10's denominators are fractional case-months, and a DOUBLE
    sum depends on the order of adding), base_n the rows of the catalogue's base_n entity (the
    contributions are unique per entity, so that is the distinct count).
    int_indicator_values_by_provider and indicator_values sum this way. -#}
{% macro provider_contribution_sums() -%}
    contributions.indicator_id,
    contributions.period,
    contributions.provider,
    sum(cast(contributions.numerator as decimal(38, 12))) as numerator,
    sum(cast(contributions.denominator as decimal(38, 12))) as denominator,
    count(*) filter (where contributions.entity_type = catalogue.base_n_entity) as base_n
{%- endmacro %}
