{{ config(dist='customer_id', sort=['alert_at']) }}
-- One row per alert: transactions and logins whose score reaches var fraud_alert_threshold.

with transaction_alerts as (
    select
        'transaction:' || transaction_id as alert_id,
        'transaction' as entity_type,
        transaction_id as entity_id,
        customer_id,
        transaction_at as alert_at,
        transaction_date as alert_date,
        fraud_score,
        risk_band,
        reason_codes,
        primary_reason_code,
        amount_usd,
        merchant_country as country,
        is_confirmed_fraud
    from {{ ref('fct_transaction_fraud_indicators') }}
    where fraud_score >= {{ var('fraud_alert_threshold') }}
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
        cast(null as numeric(18, 2)) as amount_usd,
        location_country as country,
        cast(null as boolean) as is_confirmed_fraud
    from {{ ref('fct_login_anomalies') }}
    where anomaly_score >= {{ var('fraud_alert_threshold') }}
)

select * from transaction_alerts
union all
select * from login_alerts
