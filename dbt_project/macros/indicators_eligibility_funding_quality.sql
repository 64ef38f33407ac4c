{#- Eligibility, funding, payout and data-quality indicators (EL*, FI*, PA*, DQ*) that have a
    contribution model; see implemented_indicators(). -#}
{% macro eligibility_funding_quality_indicators() -%}
    {{ return([]) }}
{%- endmacro %}
