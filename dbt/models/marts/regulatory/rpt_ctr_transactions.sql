{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window('business_date', lookback_start('business_date')) }}",
        dist='customer_id',
        sort=['business_date'],
    )
}}
-- Currency transaction report (CTR) candidates, the transactions behind each: a customer's physical cash in one
-- business day, cash in and cash out each aggregated on its own (never netted), over var ctr_threshold_usd
-- (31 CFR 1010.311: more than 10,000; 1010.313: multiple transactions by or for one person in one business day are
-- one). Cash as the structuring rule counts it (macro is_cash_movement), in any currency (a foreign-currency
-- deposit is currency too), valued in USD; cash that changed hands only: completed or pending, not declined,
-- failed or reversed. The business day is the UTC calendar day (a bank with a cut-off time changes
-- transaction_date upstream). Daily runs replace the business days from the latest one on record minus lookback_days
-- (macro delete_window; never later than int_transactions_enriched's own window start), not every day of history.
{%- set since = lookback_start('business_date') if is_incremental() else none %}

with cash as (
    select
        transaction_id,
        customer_id,
        account_id,
        transaction_date as business_date,
        transaction_at,
        case when transaction_type = 'deposit' then 'cash_in' else 'cash_out' end as direction,
        channel,
        amount,
        currency,
        amount_usd,
        merchant_city as location_city,
        merchant_country as location_country,
        status
    from {{ ref('int_transactions_enriched') }}
    where {{ is_cash_movement() }}
        and status in ('completed', 'pending')
        {%- if since is not none %}
        and transaction_at >= {{ since }}
        {%- endif %}
),

over_threshold as (
    select customer_id, business_date, direction
    from cash
    group by customer_id, business_date, direction
    having sum(amount_usd) > {{ var('ctr_threshold_usd') }}
)

select
    c.customer_id || ':' || cast(c.business_date as varchar(10)) || ':' || c.direction as ctr_id,
    c.*
from cash as c
inner join over_threshold as o
    on c.customer_id = o.customer_id and c.business_date = o.business_date and c.direction = o.direction
