-- The latest daily snapshot row of every account.
with ranked as (
    select
        *,
        row_number() over (partition by account_id order by as_of_date desc) as snapshot_rank
    from {{ ref('stg_core_banking__accounts') }}
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
