{#- Fails with every row of `model` for which `expression` (an SQL boolean over its columns) is not
    true; NULL counts as a failure, so write `x is null or ...` where NULL is allowed. -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
