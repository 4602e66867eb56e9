{#- Root-project override of dbt's is_incremental(). dbt's version asks the warehouse whether the target
    table exists, which needs a connection; `dbt compile --target prod --no-populate-cache --vars
    '{offline_compile: true}'` must work offline (CI has no Redshift), so offline the answer comes from the
    `offline_is_incremental` var. Otherwise this is dbt's own logic. -#}
{% macro is_incremental() %}
  {% if not execute %}
    {{ return(false) }}
  {% elif var('offline_compile', false) %}
    {{ return(model.config.materialized == 'incremental' and var('offline_is_incremental', true)) }}
  {% else %}
    {% set relation = adapter.get_relation(this.database, this.schema, this.table) %}
    {{ return(relation is not none and relation.type == 'table'
              and model.config.materialized == 'incremental' and not should_full_refresh()) }}
  {% endif %}
{% endmacro %}
