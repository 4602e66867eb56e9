{{
    config(
        materialized='incremental',
        unique_key='account_id',
        incremental_strategy='delete+insert',
        dist='customer_id',
        sort=['account_id'],
    )
}}
-- The latest daily snapshot row of every account. Incremental runs read only the look-back days' snapshots
-- (filtered before de-duplication, see staged_rows) and replace the accounts that have one: an account's
-- latest snapshot is then among them, so the result equals a full build.
with ranked as (
    select
        *,
        row_number() over (partition by account_id order by as_of_date desc) as snapshot_rank
    from ({{ staged_rows('stg_core_banking__accounts', 'as_of_date',
                         lookback_start('as_of_date') if is_incremental() else none) }}) as snapshots
)

select
    account_id,
    customer_id,
    as_of_date,
    account_type,
    product_name,
    account_status,
    open_date,
    close_date,
    currency,
    balance,
    interest_rate,
    credit_limit,
    overdraft_limit,
    card_network,
    monthly_fee,
    last_activity_date
from ranked
where snapshot_rank = 1
