{#- The staging models: source table and renames of each, in one place. The staging views and the incremental
    models' slices (staged_rows below) are both built from it, so they cannot drift apart. -#}
{% macro staging_models() %}
  {{ return({
      'stg_core_banking__customers': {'source': 'core_banking', 'table': 'customers',
                                      'renames': {'account_created_date': 'customer_since'}},
      'stg_core_banking__accounts': {'source': 'core_banking', 'table': 'accounts', 'renames': {}},
      'stg_core_banking__transactions': {'source': 'core_banking', 'table': 'transactions',
                                         'renames': {'transaction_date': 'transaction_at'}},
      'stg_auth__login_activity': {'source': 'auth', 'table': 'login_activity',
                                   'renames': {'login_timestamp': 'login_at'}},
      'stg_bureau__credit_scores': {'source': 'bureau', 'table': 'credit_scores',
                                    'renames': {'risk_factors': 'bureau_risk_band'}},
  }) }}
{% endmacro %}

{#- The select of one staging model (its view's whole SQL). -#}
{% macro stage(model_name, where=none) %}
  {%- set spec = staging_models()[model_name] -%}
  {{ return(stage_source(spec.source, spec.table, spec.renames, where)) }}
{% endmacro %}

{#- Rows of staging model `model_name` whose `column` (a staging column name) is >= `since`, exactly as
    `select * from ref(model_name) where column >= since` returns them, but without de-duplicating the whole
    source first: the filter runs BEFORE the latest-version pick. When `column` is part of the primary key the
    filter commutes with the pick (all versions of a key share it); otherwise the pick runs over every version of
    the keys that have a version in range (a semi-join on the key), then the range is applied to the picked
    version. Incremental models call this in their is_incremental() branch; `since` is usually lookback_start().
    With since=none this is simply the staging view. -#}
{% macro staged_rows(model_name, column=none, since=none) %}
  {%- set spec = staging_models()[model_name] -%}
  {#- the view is named on every path (parse-time lineage); the source only when read (a unit test of the
      model, which runs the non-incremental path, then needs no source fixture) -#}
  {%- set view = ref(model_name) -%}
  {%- if since is none or not execute -%}
    {{ return('select * from ' ~ view) }}
  {%- endif -%}
  {%- set relation = source(spec.source, spec.table) -%}
  {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', spec.source)
                 | selectattr('name', 'equalto', spec.table) | first -%}
  {%- set primary_key = node.meta.primary_key -%}
  {%- set source_column = (spec.renames.items() | selectattr(1, 'equalto', column) | map(attribute=0) | first) or column -%}
  {%- set source_node_column = node.columns[source_column] -%}
  {%- set typed = safe_cast(source_column, contract_sql_type(source_node_column.data_type)) -%}
  {#- Filtering on the event timestamp of a source whose rows are never ingested before their event (the ingest
      job quarantines future-dated rows), every row in range and every later version of its key were ingested
      after `since` (a day of slack covers the ingest job's clock tolerance): reads skip the older batches'
      row groups (Parquet min/max statistics, in DuckDB and in Spectrum) instead of scanning the whole lake. -#}
  {%- set recent = '_ingested_at >= ' ~ add_days(since, -1) if source_column == node.meta.event_timestamp
                   and node.meta.ingested_after_event else none -%}
  {%- if source_column in primary_key -%}
    {%- set where = typed ~ ' >= ' ~ since -%}
  {%- else -%}
    {%- if primary_key | length != 1 -%}
      {{ exceptions.raise_compiler_error("staged_rows: " ~ model_name ~ " has a composite key; filter on a key column") }}
    {%- endif -%}
    {%- set where = primary_key[0] ~ ' in (select ' ~ primary_key[0] ~ ' from ' ~ relation ~ ' where ' ~ typed ~ ' >= ' ~ since
                    ~ (' and ' ~ recent if recent else '') ~ ')' -%}
  {%- endif -%}
  {%- if recent -%}
    {#- safe for every version: a key's latest version was ingested no earlier than its in-range one -#}
    {%- set where = recent ~ ' and ' ~ where -%}
  {%- endif -%}
  {{ return('select * from (' ~ stage_source(spec.source, spec.table, spec.renames, where) ~ ') as staged where ' ~ column ~ ' >= ' ~ since) }}
{% endmacro %}

{#- Staging select for one raw source table, driven by the source YAML that scripts/generate_dbt_sources.py
    writes from the contracts: every contract column is cast to its contract type and handled by its PII class
    (direct: dropped; identifier: kept, or salted-hashed when var hash_identifiers; quasi/none: kept), renamed
    where `renames` says so. Keeps the latest ingested version of each primary key (a key re-sent in a later
    landing partition is a correction). `where` (a predicate on source columns) is applied before that
    pick: only staged_rows() passes one, and only one that keeps every version of a key or none. -#}
{% macro stage_source(source_name, table_name, renames={}, where=none) %}
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
    {%- if where %}
    where {{ where }}
    {%- endif %}
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
