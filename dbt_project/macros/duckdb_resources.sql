{#- DuckDB's memory limit and threads for the whole dbt run, from the build's one setting
    (core/resources.py: IMW_MEMORY_LIMIT, IMW_THREADS, checked and passed on by `imw build`).
    A hook, not profiles.yml: dbt keys its parse cache on the profile, so a value there would
    make every build with another limit parse the whole project again. Both are global to the
    DuckDB database, so setting them once on the hook's connection covers every model.
    Unset (a dbt run outside `imw`): DuckDB's defaults. -#}
{% macro duckdb_resources() -%}
    {%- set memory = env_var('IMW_MEMORY_LIMIT', '') | replace("'", "''") -%}
    {%- set threads = env_var('IMW_THREADS', '') -%}
    {%- if memory %}set memory_limit = '{{ memory }}';{% endif -%}
    {%- if threads %}set threads = {{ threads | int }};{% endif -%}
    {%- if not memory and not threads %}select 1{% endif -%}
{%- endmacro %}
