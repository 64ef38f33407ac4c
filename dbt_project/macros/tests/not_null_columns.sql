{#- Fails with every row of `model` in which one of `columns` is NULL: the not_null tests of a
    model's columns in one pass. Each generic test is a dbt node with its own fixed cost (about as
    much as the scan itself on these tables), and a model has up to a dozen non-null columns. -#}
{% test not_null_columns(model, columns) %}
select *
from {{ model }}
where
    {% for column in columns -%}
        {{ column }} is null{% if not loop.last %} or {% endif %}
    {%- endfor %}
{% endtest %}
