{{
    config(
        materialized='incremental',
        unique_key='activity_date',
        incremental_strategy='delete+insert',
        dist='customer_id',
        sort=['activity_date'],
    )
}}
-- For every customer-day with transactions: count, sum and sum of squares of USD amounts over the 90 days
-- before that day (the baseline for the amount z-score). A join on the sparse daily table, because Redshift
-- has no RANGE window frames with an interval.

{%- set since = lookback_start('activity_date') if is_incremental() else none %}

with days as (
    select customer_id, activity_date, transaction_count, amount_usd, amount_usd_sum_of_squares
    from {{ ref('int_customer_daily_activity') }}
    where transaction_count > 0
    {% if is_incremental() -%}
    -- the recomputed days plus the 90 days before them
    and activity_date >= {{ add_days(since, -90) }}
    {%- endif %}
)

select
    d.customer_id,
    d.activity_date,
    sum(p.transaction_count) as transactions_90d,
    sum(p.amount_usd) as amount_usd_90d,
    sum(p.amount_usd_sum_of_squares) as amount_usd_sum_of_squares_90d
from days as d
inner join days as p
    on d.customer_id = p.customer_id
    and p.activity_date < d.activity_date
    and p.activity_date >= {{ add_days('d.activity_date', -90) }}
{% if is_incremental() -%}
where d.activity_date >= {{ since }}
{%- endif %}
group by d.customer_id, d.activity_date
