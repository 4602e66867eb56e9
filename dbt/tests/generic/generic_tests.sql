{#- Project generic tests (dbt hub packages are unreachable offline, so these replace dbt_utils'). -#}

{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}

{% test value_between(model, column_name, min_value, max_value) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}

{% test exactly_one_default_per_group(model, group_column, flag_column) %}
select {{ group_column }}, sum(case when {{ flag_column }} then 1 else 0 end) as defaults
from {{ model }}
group by {{ group_column }}
having sum(case when {{ flag_column }} then 1 else 0 end) <> 1
{% endtest %}

{% test not_negative(model, column_name) %}
select {{ column_name }} from {{ model }} where {{ column_name }} < 0
{% endtest %}
