{{
    config(
        materialized='incremental',
        unique_key='transaction_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        dist='customer_id',
        sort=['transaction_at'],
    )
}}
{#- The promoted fraud classifier's probability per transaction, computed in the warehouse from its point-in-time
    features (features/ml_transaction_features) by the SQL ml/sql_export.py wrote for it (macros/models.sql finds
    it). Incremental runs score the look-back window; when the promoted version changed, every row is scored
    again by the new one, so the table never mixes versions. No model promoted yet: version 'none', null scores. -#}
{%- set model = promoted_model('fraud_classifier') -%}
{%- set since = none -%}
{%- if is_incremental() -%}
  {%- set since = lookback_start('transaction_at') -%}
  {%- if execute and not var('offline_compile', false) -%}
    {%- set other = run_query("select count(*) from " ~ this ~ " where model_version <> '" ~ model.version ~ "'").columns[0].values()[0] -%}
    {%- if other > 0 %}{% set since = none %}{% endif -%}
  {%- endif -%}
{%- endif %}

with features as (
    select * from {{ ref('ml_transaction_features') }}
    {%- if since is not none %}
    where transaction_at >= {{ since }}
    {%- endif %}
),

scored as (
    select
        transaction_id,
        customer_id,
        transaction_at,
        transaction_date,
        {{ model.score }} as model_score
    from features
)

select
    transaction_id,
    customer_id,
    transaction_at,
    transaction_date,
    cast(model_score as double precision) as model_score,
    cast('{{ model.version }}' as varchar(64)) as model_version,
    coalesce(model_score >= {{ var('fraud_model_threshold') }}, false) as is_model_alert
from scored
