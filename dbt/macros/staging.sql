{#- Staging select for one raw source table, driven by the source YAML that scripts/generate_dbt_sources.py
    writes from the contracts: every contract column is cast to its contract type and handled by its PII class
    (direct: dropped; identifier: kept, or salted-hashed when var hash_identifiers; quasi/none: kept), renamed
    where `renames` says so. Keeps the latest ingested version of each primary key (a key re-sent in a later
    landing partition is a correction). -#}
{% macro stage_source(source_name, table_name, renames={}) %}
  {%- set relation = source(source_name, table_name) -%}
  {%- if not execute -%}
    select * from {{ relation }}
  {%- else -%}
    {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', source_name)
                   | selectattr('name', 'equalto', table_name) | first -%}
    {%- set primary_key = node.meta.primary_key -%}
    {%- set selected = [] -%}
    {%- for column in node.columns.values() if not column.name.startswith('_') and column.name != 'ingest_date' -%}
      {%- set pii = column.meta.pii -%}
      {%- set out_name = renames.get(column.name, column.name) -%}
      {%- set typed = safe_cast(column.name, contract_sql_type(column.data_type)) if column.data_type != 'string' else column.name -%}
      {%- if pii == 'direct' -%}
        {#- dropped: no mart needs names or contact details -#}
      {%- elif pii == 'identifier' and var('hash_identifiers') -%}
        {%- do selected.append(hash_pii(column.name) ~ ' as ' ~ out_name) -%}
      {%- else -%}
        {%- do selected.append(typed ~ ' as ' ~ out_name) -%}
      {%- endif -%}
    {%- endfor %}
with versions as (
    select
        *,
        row_number() over (
            partition by {{ primary_key | join(', ') }}
            order by _ingested_at desc, ingest_date desc, _batch_id desc
        ) as version_rank
    from {{ relation }}
)

select
    {{ selected | join(',\n    ') }},
    _dq_warnings as dq_warnings,
    cast(_ingested_at as timestamp) as ingested_at,
    _batch_id as batch_id,
    cast(ingest_date as date) as ingest_date
from versions
where version_rank = 1
  {%- endif %}
{% endmacro %}
