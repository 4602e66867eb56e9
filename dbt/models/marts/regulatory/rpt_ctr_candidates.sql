{{ config(dist='customer_id', sort=['business_date']) }}
-- One CTR to file per customer, business day and direction (rpt_ctr_transactions holds the transactions behind
-- it): the total, how it was made up, and the filing due date (15 calendar days after the business day,
-- 31 CFR 1010.306(a)(1)). Identity details for the filing (name, address, identification) come from the KYC
-- system by customer_id: the warehouse keeps none.

select
    t.ctr_id,
    t.customer_id,
    t.business_date,
    t.direction,
    count(*) as transactions,
    cast(sum(t.amount_usd) as numeric(38, 2)) as total_usd,
    cast(sum(case when t.channel = 'branch' then t.amount_usd else 0 end) as numeric(38, 2)) as branch_usd,
    cast(sum(case when t.channel = 'atm' then t.amount_usd else 0 end) as numeric(38, 2)) as atm_usd,
    count(distinct t.account_id) as accounts,
    min(t.transaction_at) as first_transaction_at,
    max(t.transaction_at) as last_transaction_at,
    {{ add_days('t.business_date', var('ctr_filing_days')) }} as filing_due_date,
    max(c.country) as customer_country,
    max(c.kyc_status) as kyc_status,
    max(c.customer_segment) as customer_segment
from {{ ref('rpt_ctr_transactions') }} as t
left join {{ ref('dim_customers') }} as c on t.customer_id = c.customer_id
group by t.ctr_id, t.customer_id, t.business_date, t.direction
