{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy='delete+insert',
        dist='customer_id',
        sort=['activity_date'],
    )
}}
-- One row per customer per day with any transaction or login attempt. Incremental by whole days: the look-back
-- days are recomputed and replace their rows (delete+insert on activity_date).

{%- set since = lookback_start('activity_date') if is_incremental() else none %}

with transactions as (
    select
        customer_id,
        transaction_date as activity_date,
        count(*) as transaction_count,
        sum(case when status = 'completed' then 1 else 0 end) as completed_transaction_count,
        sum(case when status = 'completed' then amount_usd else 0 end) as completed_amount_usd,
        sum(amount_usd) as amount_usd,
        -- exact decimal: a floating-point sum depends on summation order, and incremental runs must match full ones
        sum(cast(amount_usd * amount_usd as numeric(38, 4))) as amount_usd_sum_of_squares
    from {{ ref('int_transactions_enriched') }}
    {% if is_incremental() -%}
    where transaction_date >= {{ since }}
    {%- endif %}
    group by customer_id, transaction_date
),

logins as (
    select
        customer_id,
        cast(login_at as date) as activity_date,
        sum(case when login_status = 'success' then 1 else 0 end) as successful_logins,
        sum(case when login_status = 'failed' then 1 else 0 end) as failed_logins
    from ({{ staged_rows('stg_auth__login_activity', 'login_at',
                         since) }}) as logins
    group by customer_id, cast(login_at as date)
)

select
    coalesce(t.customer_id, l.customer_id) as customer_id,
    coalesce(t.activity_date, l.activity_date) as activity_date,
    coalesce(t.transaction_count, 0) as transaction_count,
    coalesce(t.completed_transaction_count, 0) as completed_transaction_count,
    coalesce(t.completed_amount_usd, 0) as completed_amount_usd,
    coalesce(t.amount_usd, 0) as amount_usd,
    coalesce(t.amount_usd_sum_of_squares, 0) as amount_usd_sum_of_squares,
    coalesce(l.successful_logins, 0) as successful_logins,
    coalesce(l.failed_logins, 0) as failed_logins
from transactions as t
full outer join logins as l
    on t.customer_id = l.customer_id and t.activity_date = l.activity_date
