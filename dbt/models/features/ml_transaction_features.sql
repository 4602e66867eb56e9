{{ config(materialized='view') }}
{#- One row per transaction with the fraud classifier's features (contract: ml/features.py), each computed from
    what the bank knew at that moment: the transaction itself, the customer's and device's earlier transactions,
    earlier logins and the 90 days before its date. Only trailing windows and lag() - never lead(), never the rule
    flags that look ahead (impossible travel's next leg, a burst's later members) - so a feature cannot use the
    future; tests: ut_transaction_features_point_in_time. A view: read when the model trains or scores. -#}
{%- set order = 'transaction_at, transaction_id' -%}
{%- set micro = is_micro_purchase() %}

with transactions as (
    select * from {{ ref('int_transactions_enriched') }}
),

sequenced as (
    select
        t.*,
        {{ count_in_trailing_window('t.transaction_at', 't.customer_id', order, 3600) }} as transactions_1h,
        {{ count_in_trailing_window('t.transaction_at', 't.customer_id', order, 86400, max_lookback=20) }} as transactions_24h,
        {{ seconds_between('lag(t.transaction_at) over (partition by t.customer_id order by ' ~ order ~ ')', 't.transaction_at') }}
            as seconds_since_previous,
        t.device_id is not null
            and row_number() over (partition by t.customer_id, t.device_id order by {{ order }}) = 1
            and row_number() over (partition by t.customer_id order by {{ order }}) > 1 as is_first_use_of_device,
        -- the customer's previous located transaction (where the card was last seen)
        lag(t.latitude) over (partition by t.customer_id, t.latitude is null order by {{ order }}) as previous_latitude,
        lag(t.longitude) over (partition by t.customer_id, t.latitude is null order by {{ order }}) as previous_longitude,
        lag(t.transaction_at) over (partition by t.customer_id, t.latitude is null order by {{ order }}) as previous_located_at
    from transactions as t
),

located as (
    select
        s.*,
        case when s.latitude is not null then
            {{ haversine_km('s.previous_latitude', 's.previous_longitude', 's.latitude', 's.longitude') }} end as km_from_previous_location
    from sequenced as s
),

micro_purchases as (
    select customer_id, device_id, transaction_id, transaction_at
    from transactions
    where {{ micro }} and device_id is not null
),

device_tests as (
    -- micro purchases from the same device in the week before (a card being tested)
    select t.transaction_id, count(*) as micro_purchases_on_device_7d
    from transactions as t
    inner join micro_purchases as m
        on t.customer_id = m.customer_id
        and t.device_id = m.device_id
        and m.transaction_at < t.transaction_at
        and m.transaction_at >= {{ dbt.dateadd('day', -7, 't.transaction_at') }}
    group by t.transaction_id
),

recent_logins as (
    -- attempts in the day before the transaction: the riskiest, and how long since a suspicious success
    select
        t.transaction_id,
        max(l.anomaly_score) as max_login_anomaly_24h,
        sum(case when l.login_status = 'failed' then 1 else 0 end) as failed_logins_24h,
        min(case when l.is_suspicious and l.login_status = 'success'
                 then {{ seconds_between('l.login_at', 't.transaction_at') }} end) / 60.0 as minutes_since_suspicious_login
    from transactions as t
    inner join {{ ref('fct_login_anomalies') }} as l
        on t.customer_id = l.customer_id
        and l.login_at <= t.transaction_at
        and l.login_at >= {{ dbt.dateadd('hour', -24, 't.transaction_at') }}
    group by t.transaction_id
),

account_credits as (
    -- non-cash money in on the account in the 48 hours before a debit (pass-through)
    select t.transaction_id, sum(c.amount_usd) as credits_usd_48h
    from transactions as t
    inner join transactions as c
        on t.account_id = c.account_id
        and c.transaction_type = 'deposit'
        and c.status = 'completed'
        and coalesce(c.merchant_category <> 'cash', true)
        and c.transaction_at < t.transaction_at
        and c.transaction_at >= {{ dbt.dateadd('hour', -48, 't.transaction_at') }}
    where t.transaction_type in ('transfer', 'withdrawal')
    group by t.transaction_id
)

select
    s.transaction_id,
    s.customer_id,
    s.transaction_at,
    s.transaction_date,
    cast(s.amount_usd as double precision) as amount_usd,
    case when s.transaction_type in ('transfer', 'withdrawal') then 1 else 0 end as is_money_out,
    case when s.transaction_type = 'deposit' then 1 else 0 end as is_deposit,
    case when s.is_card_not_present then 1 else 0 end as is_card_not_present,
    case when s.merchant_country is not null and s.merchant_country <> s.home_country then 1 else 0 end as is_foreign,
    case when s.country_risk_level = 'high' then 1 else 0 end as is_high_risk_country,
    case when {{ micro }} then 1 else 0 end as is_micro_purchase,
    cast(extract(hour from s.transaction_at) as integer) as hour_of_day,
    cast(s.transactions_1h as integer) as transactions_1h,
    cast(s.transactions_24h as integer) as transactions_24h,
    cast(s.seconds_since_previous as double precision) / 86400.0 as days_since_previous,
    case when s.is_first_use_of_device then 1 else 0 end as is_first_use_of_device,
    cast(coalesce(d.micro_purchases_on_device_7d, 0) as integer) as micro_purchases_on_device_7d,
    case when b.transactions_90d >= 5 then cast(s.amount_usd as double precision) * b.transactions_90d / nullif(b.amount_usd_90d, 0) end
        as amount_vs_90d_mean,
    cast(coalesce(b.transactions_90d, 0) as integer) as transactions_90d,
    cast(coalesce(l.max_login_anomaly_24h, 0) as integer) as max_login_anomaly_24h,
    cast(coalesce(l.failed_logins_24h, 0) as integer) as failed_logins_24h,
    l.minutes_since_suspicious_login,
    case when c.credits_usd_48h > 0 then cast(s.amount_usd as double precision) / c.credits_usd_48h end as share_of_recent_credits,
    case when {{ account_was_dormant() }} then 1 else 0 end as is_after_dormancy,
    s.km_from_previous_location,
    -- at least a minute apart: two places in the same second is as impossible as it gets, not a division by zero
    {{ speed_kmh('s.km_from_previous_location', 'greatest(' ~ seconds_between('s.previous_located_at', 's.transaction_at') ~ ', 60)') }}
        as kmh_from_previous_location,
    s.is_confirmed_fraud
from located as s
left join device_tests as d on s.transaction_id = d.transaction_id
left join recent_logins as l on s.transaction_id = l.transaction_id
left join account_credits as c on s.transaction_id = c.transaction_id
left join {{ ref('int_customer_trailing_activity') }} as b
    on s.customer_id = b.customer_id and s.transaction_date = b.activity_date
