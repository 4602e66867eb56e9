{#- The fraud classifier's features per transaction (the view features/ml_transaction_features is
    transaction_features() whole): each from what the bank knew at that moment - only trailing windows and lag().
    With `since` (a date literal, usually lookback_start()), the rows at or after it, reading only what their
    windows reach back to: one day of transactions before it for the 1 h / 24 h counts, two for the 48 h credits,
    seven for the device's micro purchases, one of logins. What lies further back - the customer's last
    transaction, last located transaction and the devices seen before - comes from narrow aggregates of the rows
    before that context (hash aggregates of three columns, not window functions over the whole history).
    The caller opens the WITH and writes the final select: the macro's CTEs end with `transaction_features`.
    tests/dbt/test_daily_increments.py checks the windowed rows equal the view's. -#}
{% macro transaction_features(since=none) -%}
{%- set order = 'transaction_at, transaction_id' -%}
{%- set micro = is_micro_purchase() -%}
{%- set context_start = add_days(since, -1) if since is not none else none -%}
{%- set windowed = since is not none %}
transactions as (
    select * from {{ ref('int_transactions_enriched') }}
    {%- if windowed %}
    where transaction_at >= {{ context_start }}
    {%- endif %}
),
{%- if windowed %}

earlier_activity as (
    select customer_id, max(transaction_at) as last_transaction_at
    from {{ ref('int_transactions_enriched') }}
    where transaction_at < {{ context_start }}
    group by customer_id
),

earlier_devices as (
    select customer_id, device_id
    from {{ ref('int_transactions_enriched') }}
    where transaction_at < {{ context_start }} and device_id is not null
    group by customer_id, device_id
),

earlier_location as (
    -- the customer's last located transaction before the context (latest time, then highest id)
    select l.customer_id, l.transaction_at as last_located_at, l.latitude as last_latitude, l.longitude as last_longitude
    from {{ ref('int_transactions_enriched') }} as l
    inner join (
        select t.customer_id, t.transaction_at, max(t.transaction_id) as transaction_id
        from {{ ref('int_transactions_enriched') }} as t
        inner join (
            select customer_id, max(transaction_at) as transaction_at
            from {{ ref('int_transactions_enriched') }}
            where transaction_at < {{ context_start }} and latitude is not null
            group by customer_id
        ) as latest_time
            on t.customer_id = latest_time.customer_id and t.transaction_at = latest_time.transaction_at
        where t.latitude is not null
        group by t.customer_id, t.transaction_at
    ) as latest
        on l.transaction_id = latest.transaction_id
),
{%- endif %}

sequenced as (
    select
        t.*,
        {{ count_in_trailing_window('t.transaction_at', 't.customer_id', order, 3600) }} as transactions_1h,
        {{ count_in_trailing_window('t.transaction_at', 't.customer_id', order, 86400, max_lookback=20) }} as transactions_24h,
        {%- if windowed %}
        {{ seconds_between('coalesce(lag(t.transaction_at) over (partition by t.customer_id order by ' ~ order ~ '), ea.last_transaction_at)', 't.transaction_at') }}
            as seconds_since_previous,
        t.device_id is not null
            and row_number() over (partition by t.customer_id, t.device_id order by {{ order }}) = 1
            and ed.customer_id is null
            and (row_number() over (partition by t.customer_id order by {{ order }}) > 1
                 or ea.last_transaction_at is not null) as is_first_use_of_device,
        {%- else %}
        {{ seconds_between('lag(t.transaction_at) over (partition by t.customer_id order by ' ~ order ~ ')', 't.transaction_at') }}
            as seconds_since_previous,
        t.device_id is not null
            and row_number() over (partition by t.customer_id, t.device_id order by {{ order }}) = 1
            and row_number() over (partition by t.customer_id order by {{ order }}) > 1 as is_first_use_of_device,
        {%- endif %}
        -- the customer's previous located transaction (where the card was last seen)
        {%- for column, name, earlier in [('latitude', 'previous_latitude', 'last_latitude'), ('longitude', 'previous_longitude', 'last_longitude'),
                                     ('transaction_at', 'previous_located_at', 'last_located_at')] %}
        {% if windowed -%}
        coalesce(
            lag(t.{{ column }}) over (partition by t.customer_id, t.latitude is null order by {{ order }}),
            case when t.latitude is not null then el.{{ earlier }} end
        )
        {%- else -%}
        lag(t.{{ column }}) over (partition by t.customer_id, t.latitude is null order by {{ order }})
        {%- endif %} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from transactions as t
    {%- if windowed %}
    left join earlier_activity as ea on t.customer_id = ea.customer_id
    left join earlier_devices as ed on t.customer_id = ed.customer_id and t.device_id = ed.device_id
    left join earlier_location as el on t.customer_id = el.customer_id
    {%- endif %}
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
    from {{ ref('int_transactions_enriched') }}
    where {{ micro }} and device_id is not null
    {%- if windowed %}
      and transaction_at >= {{ add_days(since, -8) }}
    {%- endif %}
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
    {%- if windowed %}
    where t.transaction_at >= {{ since }}
    {%- endif %}
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
    {%- if windowed %}
    where t.transaction_at >= {{ since }} and l.login_at >= {{ context_start }}
    {%- endif %}
    group by t.transaction_id
),

account_credits as (
    -- non-cash money in on the account in the 48 hours before a debit (pass-through)
    select t.transaction_id, sum(c.amount_usd) as credits_usd_48h
    from transactions as t
    inner join {{ ref('int_transactions_enriched') }} as c
        on t.account_id = c.account_id
        and c.transaction_type = 'deposit'
        and c.status = 'completed'
        and coalesce(c.merchant_category <> 'cash', true)
        and c.transaction_at < t.transaction_at
        and c.transaction_at >= {{ dbt.dateadd('hour', -48, 't.transaction_at') }}
    where t.transaction_type in ('transfer', 'withdrawal')
    {%- if windowed %}
      and t.transaction_at >= {{ since }}
      and c.transaction_at >= {{ add_days(since, -2) }}
    {%- endif %}
    group by t.transaction_id
),

transaction_features as (
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
{%- if windowed %}
    and b.activity_date >= {{ since }}
where s.transaction_at >= {{ since }}
{%- endif %}
)
{%- endmacro %}
