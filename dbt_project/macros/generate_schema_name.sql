{#- Use the layer's schema name as it is (staging, intermediate, marts, published, reference),
    not dbt's default "<target>_<custom>", so analysts and the publish step see stable names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
