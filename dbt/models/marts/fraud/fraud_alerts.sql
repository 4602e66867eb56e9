{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window('alert_at', fraud_alerts_since()) }}",
        dist='customer_id',
        sort=['alert_at'],
    )
}}
-- One row per alert: transactions whose rules' score reaches var fraud_alert_threshold or whose promoted model's
-- probability reaches var fraud_model_threshold (reason code MODEL), and logins whose score reaches the threshold.
-- Daily runs replace the alerts from fraud_alerts_since() on (macros/scoring.sql): the window the indicators,
-- the model scores and the login anomalies rewrote, not every alert of history.
{%- set since = fraud_alerts_since() %}

with transaction_alerts as (
    select
        'transaction:' || t.transaction_id as alert_id,
        'transaction' as entity_type,
        t.transaction_id as entity_id,
        t.customer_id,
        t.transaction_at as alert_at,
        t.transaction_date as alert_date,
        t.fraud_score,
        -- the rules' band when they alert; an alert the model alone raised is high, critical when it is near-certain
        case
            when t.fraud_score >= {{ var('fraud_alert_threshold') }} then t.risk_band
            when m.model_score >= {{ var('fraud_model_critical_threshold') }} then 'critical'
            else 'high'
        end as risk_band,
        case
            when not coalesce(m.is_model_alert, false) then t.reason_codes
            when t.reason_codes = '' then 'MODEL'
            else t.reason_codes || ',MODEL'
        end as reason_codes,
        case when t.fraud_score >= {{ var('fraud_alert_threshold') }} then t.primary_reason_code else 'MODEL' end
            as primary_reason_code,
        m.model_score,
        m.model_version,
        t.amount_usd,
        t.merchant_country as country,
        t.is_confirmed_fraud
    from {{ ref('fct_transaction_fraud_indicators') }} as t
    left join {{ ref('fct_transaction_model_scores') }} as m
        on t.transaction_id = m.transaction_id
        {%- if since is not none %}
        and m.transaction_at >= {{ since }}
        {%- endif %}
    where (t.fraud_score >= {{ var('fraud_alert_threshold') }} or coalesce(m.is_model_alert, false))
    {%- if since is not none %}
      and t.transaction_at >= {{ since }}
    {%- endif %}
),

login_alerts as (
    select
        'login:' || login_id as alert_id,
        'login' as entity_type,
        login_id as entity_id,
        customer_id,
        login_at as alert_at,
        login_date as alert_date,
        anomaly_score as fraud_score,
        risk_band,
        reason_codes,
        primary_reason_code,
        cast(null as double precision) as model_score,
        cast(null as varchar(64)) as model_version,
        cast(null as numeric(18, 2)) as amount_usd,
        location_country as country,
        cast(null as boolean) as is_confirmed_fraud
    from {{ ref('fct_login_anomalies') }}
    where anomaly_score >= {{ var('fraud_alert_threshold') }}
    {%- if since is not none %}
      and login_at >= {{ since }}
    {%- endif %}
)

select * from transaction_alerts
union all
select * from login_alerts
