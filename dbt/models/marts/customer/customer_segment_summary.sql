select
    customer_segment,
    rfm_segment,
    cast(count(*) as integer) as customer_count,
    avg(cast(tenure_months as double precision)) as avg_tenure_months,
    avg(cast(credit_score as double precision)) as avg_credit_score,
    avg(cast(product_count as double precision)) as avg_product_count,
    cast(sum(deposit_balance_usd) as numeric(18, 2)) as deposit_balance_usd,
    cast(sum(credit_balance_usd) as numeric(18, 2)) as credit_balance_usd,
    cast(sum(monetary_90d_usd) as numeric(18, 2)) as monetary_90d_usd,
    avg(case when has_credit_card then 1.0 else 0.0 end) as credit_card_penetration
from {{ ref('dim_customers') }}
group by customer_segment, rfm_segment
