{#- A person's residence status at a date d (docs/domain.md): the aufenthalt row with
    gueltig_ab <= d and (gueltig_bis empty or >= d); with none it is UNBEKANNT. The eligibility
    indicators (int_contact_status) and the evaluator exports (exp_cases, exp_case_months) use
    these two macros, so the rule and its tie-break are written once. -#}

{#- Join condition: the status row `status` (a ref of stg_residence_status) covers the date. -#}
{% macro status_covers(status, date_expression) -%}
    {{ date_expression }} >= {{ status }}.valid_from
    and ({{ status }}.valid_to is null or {{ date_expression }} <= {{ status }}.valid_to)
{%- endmacro %}

{#- Aggregate over the covering rows of one person and date: two rows can cover a date (a period
    ending on the day the next one starts, or an overlap the contract forbids but that reached
    the data). The newer status (latest gueltig_ab) applies; on equal gueltig_ab the later
    gueltig_bis (open = latest), then the greater code, so the choice is stable. NULL when no row
    covers the date (the caller spells that UNBEKANNT). -#}
{% macro status_at(status) -%}
    arg_max(
        {{ status }}.status_code,
        {
            'valid_from': {{ status }}.valid_from,
            'valid_to': coalesce({{ status }}.valid_to, date '9999-12-31'),
            'status_code': {{ status }}.status_code
        }
    )
{%- endmacro %}
