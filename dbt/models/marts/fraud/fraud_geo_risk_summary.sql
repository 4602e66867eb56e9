{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window('transaction_date', lookback_start('transaction_date')) }}",
        dist='even',
        sort=['transaction_date'],
    )
}}
{%- set since = lookback_start('transaction_date') if is_incremental() else none %}
-- Transactions, alerts and scores per merchant country and transaction date: the date grain lets dashboard date
-- controls filter it (counts and amounts add up over dates; sum_fraud_score / transaction_count gives the mean
-- score of any date range, because a mean of daily means would weight quiet days like busy ones). Daily runs replace
-- the days the fraud indicators rewrote (macro delete_window), not every day of history.
with transactions as (
    select
        coalesce(merchant_country, 'unknown') as country,
        transaction_date,
        country_risk_level,
        amount_usd,
        fraud_score,
        case when fraud_score >= {{ var('fraud_alert_threshold') }} then 1 else 0 end as is_alert,
        case when is_confirmed_fraud then 1 else 0 end as is_confirmed,
        latitude,
        longitude
    from {{ ref('fct_transaction_fraud_indicators') }}
    {%- if since is not none %}
    where transaction_at >= {{ since }}
    {%- endif %}
)

select
    t.country,
    t.transaction_date,
    max(t.country_risk_level) as country_risk_level,
    cast(count(*) as integer) as transaction_count,
    cast(sum(t.amount_usd) as numeric(18, 2)) as amount_usd,
    cast(sum(t.is_alert) as integer) as alert_count,
    cast(sum(t.is_alert) as double precision) / count(*) as alert_rate,
    cast(sum(t.fraud_score) as bigint) as sum_fraud_score,
    avg(cast(t.fraud_score as double precision)) as avg_fraud_score,
    cast(sum(t.is_confirmed) as integer) as confirmed_fraud_count,
    -- averaged as decimals: an exact sum, so the same whatever order the rows are read in (a day-by-day build and a
    -- full build agree to the last bit)
    coalesce(cast(avg(cast(t.latitude as numeric(12, 6))) as double precision), max(r.latitude)) as latitude,
    coalesce(cast(avg(cast(t.longitude as numeric(12, 6))) as double precision), max(r.longitude)) as longitude
from transactions as t
left join {{ ref('ref_country_risk') }} as r on t.country = r.country
group by t.country, t.transaction_date
