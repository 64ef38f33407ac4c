{#- Eligibility, funding, payout and data-quality indicators (EL*, FI*, PA*, DQ*) that have a
    contribution model; see implemented_indicators(). -#}
{% macro eligibility_funding_quality_indicators() -%}
    {{ return([
        'EL01', 'EL02', 'EL03',
        'FI01', 'FI02', 'FI03', 'FI04',
        'PA01', 'PA02', 'PA03',
        'DQ01', 'DQ02',
    ]) }}
{%- endmacro %}

{#- The 8 provider extracts of the contract (PROVIDER_EXTRACTS in contract/spec.py; a test in
    tests/test_indicators_eligibility_funding.py fails when the two lists disagree). DQ01 counts a
    provider as complete only with an accepted snapshot of each of them. -#}
{% macro provider_extracts() -%}
    {{ return([
        'personen', 'aufenthalt', 'faelle', 'plaene',
        'ziele', 'kontakte', 'ergebnisse', 'stellen',
    ]) }}
{%- endmacro %}

{#- `'personen', 'aufenthalt', ...` for an SQL `in (...)` list. -#}
{% macro provider_extracts_sql() -%}
    {%- for extract in provider_extracts() -%}
        '{{ extract }}'{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}
