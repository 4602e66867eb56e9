{{ config(dist='even', sort=['revenue_date']) }}
-- Daily revenue by product, customer segment, customer region (country of residence), channel and revenue type,
-- rounded to the cent per row. The region lets dashboards filter by it and QuickSight row-level security restrict it.

select
    e.revenue_date,
    e.product,
    coalesce(c.customer_segment, 'unknown') as customer_segment,
    coalesce(c.country, 'unknown') as customer_country,
    e.channel,
    e.revenue_type,
    cast(round(sum(e.revenue_usd), 2) as numeric(18, 2)) as revenue_usd,
    cast(count(*) as integer) as event_count
from {{ ref('int_revenue_events') }} as e
left join {{ ref('dim_customers') }} as c on e.customer_id = c.customer_id
group by e.revenue_date, e.product, coalesce(c.customer_segment, 'unknown'), coalesce(c.country, 'unknown'), e.channel,
    e.revenue_type
