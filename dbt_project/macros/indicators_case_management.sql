{#- Case-management indicators (CM*) that have a contribution model; see implemented_indicators(). -#}
{% macro case_management_indicators() -%}
    {{ return(['CM01', 'CM05']) }}
{%- endmacro %}
