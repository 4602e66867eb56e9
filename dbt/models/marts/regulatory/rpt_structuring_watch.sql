{{ config(dist='customer_id', sort=['customer_id']) }}
-- Structuring watch: customers with repeated cash deposits just under the reporting threshold (the STRUCTURING
-- rule of fct_transaction_fraud_indicators: var structuring_band_low..structuring_threshold in the account's own
-- currency, several within structuring_window_days, most of the customer's cash in that direction), with the
-- pattern a reviewer reads: how many, over which days, the amounts.

with flagged as (
    select customer_id, transaction_id, transaction_date, transaction_at, amount, currency, amount_usd, channel
    from {{ ref('fct_transaction_fraud_indicators') }}
    where is_structuring and transaction_type = 'deposit'
)

select
    customer_id,
    count(*) as deposits,
    count(distinct transaction_date) as deposit_days,
    min(transaction_date) as first_date,
    max(transaction_date) as last_date,
    sum(amount_usd) as total_usd,
    min(amount) as smallest_amount,
    max(amount) as largest_amount,
    max(currency) as currency,
    sum(case when channel = 'branch' then 1 else 0 end) as branch_deposits,
    sum(case when channel = 'atm' then 1 else 0 end) as atm_deposits,
    {{ dbt.listagg("cast(amount as varchar(32))", "', '", 'order by transaction_at, transaction_id') }} as amounts
from flagged
group by customer_id
having count(*) >= 2
