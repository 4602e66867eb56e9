{{
    config(
        materialized='incremental',
        unique_key='transaction_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        dist='customer_id',
        sort=['transaction_at'],
    )
}}
{#- Rules, weights and thresholds: macros/scoring.sql and the vars in dbt_project.yml; described in
    _fraud__models.yml. Incremental runs recompute the look-back window, reading as context the rows just before
    it that the short windowed rules can reach back to (velocity, a card-testing burst spanning the window's
    start), derived from those rules' windows; what lies further back - the customer's last transaction
    (dormancy) and last located transaction with its jump flag (travel) - is read from the rows already built.
    The rules with longer windows read only their own few rows over their own window: structuring its cash
    movements, the card-testing cash-out the test authorisations of the days before, the money-mule rule the
    large credits and the debits after them. -#}
{%- set order = 'transaction_at, transaction_id' -%}
{%- set rules = transaction_fraud_rules() -%}
{%- set context_minutes = [var('velocity_window_minutes'), var('card_testing_window_minutes')] | max -%}
{%- set since = lookback_start('transaction_at') if is_incremental() else none -%}
{%- set context_start = dbt.dateadd('minute', -context_minutes, since) if is_incremental() else none -%}
{#- cash just under the reporting threshold, judged in the transaction currency (each jurisdiction's threshold is
    10,000 of its own currency); only cash in the account's own currency: an ATM withdrawal abroad (9,500 yen is
    $64) is not cash the bank reports against its threshold -#}
{%- set cash_movement -%}
coalesce(
            {{ is_cash_movement() }}
            and coalesce(currency = account_currency, true),
            false
        )
{%- endset -%}
{%- set structuring_candidate -%}
({{ cash_movement }} and coalesce(amount >= {{ var('structuring_band_low') }} and amount < {{ var('structuring_threshold') }}, false))
{%- endset -%}
{%- set card_testing_candidate = is_micro_purchase() -%}

with transactions as (
    select
        *,
        latitude is not null and longitude is not null as has_location,
        {{ card_testing_candidate }} as is_card_testing_candidate,
        {{ structuring_candidate }} as is_structuring_candidate
    from {{ ref('int_transactions_enriched') }}
    {% if is_incremental() %}
    where transaction_at >= {{ context_start }}
    {% endif %}
),

{% if is_incremental() %}
earlier_activity as (
    -- dormancy looks further back than the context window: the customer's last transaction before it
    select customer_id, max(transaction_at) as last_transaction_at
    from {{ this }}
    where transaction_at < {{ context_start }}
    group by customer_id
),

earlier_location as (
    -- likewise the customer's last located transaction before it (latest time, then highest id), so travel speed
    -- has its previous leg, and whether that one was itself a jump (from its stored distance and speed, as `jumps`
    -- below decides it). Two aggregations and joins instead of a row_number() over the whole table: a hash
    -- aggregate is far cheaper than sorting every located transaction on each daily run.
    select
        l.customer_id,
        l.transaction_at as last_located_transaction_at,
        l.latitude as last_located_latitude,
        l.longitude as last_located_longitude,
        {{ is_impossible_jump('l.distance_from_previous_km', 'l.speed_from_previous_kmh') }} as last_located_was_jump
    from {{ this }} as l
    inner join (
        select t.customer_id, t.transaction_at, max(t.transaction_id) as transaction_id
        from {{ this }} as t
        inner join (
            select customer_id, max(transaction_at) as transaction_at
            from {{ this }}
            where transaction_at < {{ context_start }}
              and latitude is not null and longitude is not null
            group by customer_id
        ) as latest_time
            on t.customer_id = latest_time.customer_id and t.transaction_at = latest_time.transaction_at
        where t.latitude is not null and t.longitude is not null
        group by t.customer_id, t.transaction_at
    ) as latest
        on l.transaction_id = latest.transaction_id
),
{% endif %}

sequenced as (
    select
        t.*,
        {% if is_incremental() -%}
        coalesce(
            lag(t.transaction_at) over (partition by t.customer_id order by {{ order }}), earlier.last_transaction_at
        ) as previous_transaction_at,
        {%- else -%}
        lag(t.transaction_at) over (partition by t.customer_id order by {{ order }}) as previous_transaction_at,
        {%- endif %}
        {%- for column in ['transaction_at', 'latitude', 'longitude'] %}
        {% if is_incremental() -%}
        coalesce(
            lag(t.{{ column }}) over (partition by t.customer_id, t.has_location order by {{ order }}),
            case when t.has_location then earlier_location.last_located_{{ column }} end
        )
        {%- else -%}
        lag(t.{{ column }}) over (partition by t.customer_id, t.has_location order by {{ order }})
        {%- endif %} as previous_{{ 'located_at' if column == 'transaction_at' else column }},
        {%- endfor %}
        {% if is_incremental() -%}
        case when t.has_location then earlier_location.last_located_was_jump end as earlier_located_was_jump,
        {%- endif %}
        {{ count_in_trailing_window('t.transaction_at', 't.customer_id', order, var('velocity_window_minutes') * 60) }}
            as transactions_in_velocity_window,
        {{ in_burst('t.transaction_at', 't.customer_id', order, var('velocity_min_transactions'), var('velocity_window_minutes') * 60) }}
            as in_velocity_burst,
        {{ in_burst('t.transaction_at', 't.customer_id, t.is_card_testing_candidate', order, var('card_testing_min_transactions'), var('card_testing_window_minutes') * 60) }}
            as in_card_testing_burst
    from transactions as t
    {% if is_incremental() -%}
    left join earlier_activity as earlier on t.customer_id = earlier.customer_id
    left join earlier_location on t.customer_id = earlier_location.customer_id
    {%- endif %}
),

cash_movements as (
    select transaction_id, customer_id, transaction_type, transaction_at, {{ structuring_candidate }} as is_candidate
    from {{ ref('int_transactions_enriched') }}
    where {{ cash_movement }}
    {% if is_incremental() -%}
    and transaction_at >= {{ add_days(since, -(var('structuring_window_days') + 1)) }}
    {%- endif %}
),

structuring_runs as (
    -- a candidate with another one of the customer within structuring_window_days either side, the candidates
    -- being at least structuring_min_share of the customer's cash movements that way (in or out) around it
    select
        c.transaction_id,
        sum(case when nearby.is_candidate then 1 else 0 end) >= 2
            and sum(case when nearby.is_candidate then 1 else 0 end) >= {{ var('structuring_min_share') }} * count(*)
            as in_structuring_run
    from cash_movements as c
    inner join cash_movements as nearby
        on c.customer_id = nearby.customer_id
        and c.transaction_type = nearby.transaction_type
        and nearby.transaction_at >= {{ dbt.dateadd('day', -var('structuring_window_days'), 'c.transaction_at') }}
        and nearby.transaction_at <= {{ dbt.dateadd('day', var('structuring_window_days'), 'c.transaction_at') }}
    where c.is_candidate
    group by c.transaction_id
),

suspicious_login_transfers as (
    select t.transaction_id
    from transactions as t
    inner join {{ ref('fct_login_anomalies') }} as l
        on t.customer_id = l.customer_id
        and l.login_at <= t.transaction_at
        and l.login_at >= {{ dbt.dateadd('hour', -var('ato_window_hours'), 't.transaction_at') }}
    where t.transaction_type in ('transfer', 'withdrawal')
      and l.is_suspicious
      and l.login_status = 'success'
    group by t.transaction_id
),

card_testing_tests as (
    -- the micro authorisations of the cash-out window before the recomputed rows, and the burst window before that
    select customer_id, device_id, transaction_id, transaction_at
    from {{ ref('int_transactions_enriched') }}
    where {{ card_testing_candidate }}
    {% if is_incremental() -%}
    and transaction_at >= {{ dbt.dateadd('minute', -(var('card_testing_cashout_hours') * 60 + var('card_testing_window_minutes')), since) }}
    {%- endif %}
),

card_testing_bursts as (
    select customer_id, device_id, transaction_at
    from (
        select
            customer_id, device_id, transaction_at,
            {{ in_burst('transaction_at', 'customer_id', order, var('card_testing_min_transactions'), var('card_testing_window_minutes') * 60) }}
                as in_card_testing_burst
        from card_testing_tests
    ) as tests
    where in_card_testing_burst and device_id is not null
),

card_testing_cashouts as (
    -- a purchase from the device that ran a burst of tests on the customer's card in the hours before it
    select t.transaction_id
    from transactions as t
    inner join card_testing_bursts as b
        on t.customer_id = b.customer_id
        and t.device_id = b.device_id
        and b.transaction_at <= t.transaction_at
        and b.transaction_at >= {{ dbt.dateadd('hour', -var('card_testing_cashout_hours'), 't.transaction_at') }}
    where t.transaction_type = 'purchase' and not t.is_card_testing_candidate
    group by t.transaction_id
),

mule_credits as (
    -- money coming in that is not cash (cash is the structuring rule's) nor the customer's regular income, large
    -- enough to matter
    select transaction_id, account_id, transaction_at, amount_usd
    from {{ ref('int_transactions_enriched') }}
    where transaction_type = 'deposit' and status = 'completed'
      and not {{ cash_movement }}
      and coalesce(merchant_name not in ({{ quoted_list(var('regular_income_payers')) }}), true)
      and amount_usd >= {{ var('mule_min_credit_usd') }}
    {% if is_incremental() -%}
      and transaction_at >= {{ dbt.dateadd('hour', -var('mule_window_hours'), since) }}
    {%- endif %}
),

mule_debits as (
    select transaction_id, account_id, transaction_at, amount_usd
    from {{ ref('int_transactions_enriched') }}
    where transaction_type in ('transfer', 'withdrawal') and status = 'completed'
      -- money moved to the customer's own accounts has not left them
      and coalesce(merchant_name not in ({{ quoted_list(var('own_account_counterparties')) }}), true)
    {% if is_incremental() -%}
      and transaction_at >= {{ dbt.dateadd('hour', -var('mule_window_hours'), since) }}
    {%- endif %}
),

mule_pass_through as (
    -- each credit with the debits of its account within mule_window_hours after it that could be moving it on
    -- (each at least mule_min_leg_share of it: the customer's coffee money taken out the same day is not)
    select c.transaction_id as credit_id, c.amount_usd as credit_usd, d.transaction_id as debit_id, d.amount_usd as debit_usd
    from mule_credits as c
    inner join mule_debits as d
        on c.account_id = d.account_id
        and d.transaction_at > c.transaction_at
        and d.transaction_at <= {{ dbt.dateadd('hour', var('mule_window_hours'), 'c.transaction_at') }}
        and d.amount_usd >= {{ var('mule_min_leg_share') }} * c.amount_usd
),

mule_later_credits as (
    -- what else came in over the same window (a mule often receives several credits in a row)
    select c.transaction_id as credit_id, sum(later.amount_usd) as later_credit_usd
    from mule_credits as c
    inner join mule_credits as later
        on c.account_id = later.account_id
        and later.transaction_at > c.transaction_at
        and later.transaction_at <= {{ dbt.dateadd('hour', var('mule_window_hours'), 'c.transaction_at') }}
    group by c.transaction_id
),

mule_credits_moved_out as (
    -- most of it, and not much more than came in (a mule keeps a cut; paying well over what arrived is the
    -- customer's own money moving, e.g. rent after a friend paid back a loan)
    select p.credit_id
    from mule_pass_through as p
    left join mule_later_credits as later on p.credit_id = later.credit_id
    group by p.credit_id, p.credit_usd
    having sum(p.debit_usd) >= {{ var('mule_outflow_share') }} * p.credit_usd
       and sum(p.debit_usd) <= {{ var('mule_max_outflow_ratio') }} * (p.credit_usd + coalesce(max(later.later_credit_usd), 0))
),

money_mule_legs as (
    -- the credit and the debits that moved it on
    select credit_id as transaction_id from mule_credits_moved_out
    union
    select p.debit_id
    from mule_pass_through as p
    inner join mule_credits_moved_out as m on p.credit_id = m.credit_id
),

measured as (
    select
        s.*,
        case when s.has_location then {{ haversine_km('s.previous_latitude', 's.previous_longitude', 's.latitude', 's.longitude') }} end
            as distance_from_previous_km,
        case when s.has_location then {{ seconds_between('s.previous_located_at', 's.transaction_at') }} end
            as seconds_from_previous,
        {{ days_between('s.previous_transaction_at', 's.transaction_at') }} as days_since_previous_transaction,
        case
            when baseline.transactions_90d >= 5 then
                (cast(s.amount_usd as double precision) - baseline.amount_usd_90d / baseline.transactions_90d)
                / nullif(sqrt(greatest(
                    (baseline.amount_usd_sum_of_squares_90d
                     - cast(baseline.amount_usd_90d as double precision) * baseline.amount_usd_90d / baseline.transactions_90d)
                    / (baseline.transactions_90d - 1), 0)), 0)
        end as amount_zscore_90d,
        ato.transaction_id is not null as is_transfer_after_suspicious_login,
        cashout.transaction_id is not null as is_card_testing_cashout,
        mule.transaction_id is not null as is_money_mule,
        coalesce(structuring.in_structuring_run, false) as in_structuring_run
    from sequenced as s
    left join {{ ref('int_customer_trailing_activity') }} as baseline
        on s.customer_id = baseline.customer_id and s.transaction_date = baseline.activity_date
    left join suspicious_login_transfers as ato
        on s.transaction_id = ato.transaction_id
    left join card_testing_cashouts as cashout
        on s.transaction_id = cashout.transaction_id
    left join money_mule_legs as mule
        on s.transaction_id = mule.transaction_id
    left join structuring_runs as structuring
        on s.transaction_id = structuring.transaction_id
),

jumps as (
    select
        *,
        {{ is_impossible_jump('distance_from_previous_km', speed_kmh('distance_from_previous_km', 'seconds_from_previous')) }}
            as is_jump_from_previous
    from measured
),

travel as (
    select
        *,
        {% if is_incremental() -%}
        coalesce(
            lag(is_jump_from_previous) over (partition by customer_id, has_location order by {{ order }}),
            earlier_located_was_jump
        )
        {%- else -%}
        lag(is_jump_from_previous) over (partition by customer_id, has_location order by {{ order }})
        {%- endif %} as previous_was_jump,
        lead(is_jump_from_previous) over (partition by customer_id, has_location order by {{ order }}) as next_is_jump,
        -- the account was dormant at the end of the previous day, or this ends a long silence
        {{ account_was_dormant() }}
            or coalesce(days_since_previous_transaction >= {{ var('dormant_days') }}, false) as ends_dormancy
    from jumps
),

flagged as (
    select
        *,
        -- both legs of the first impossible jump (either card may be the cloned one); the jump straight back
        -- to where the customer was is the same anomaly's return, not a new pair
        (is_jump_from_previous and not coalesce(previous_was_jump, false))
            or (coalesce(next_is_jump, false) and not is_jump_from_previous) as is_impossible_travel,
        {{ speed_kmh('distance_from_previous_km', 'seconds_from_previous') }} as speed_from_previous_kmh,
        in_velocity_burst as is_velocity_burst,
        coalesce(amount_zscore_90d >= {{ var('zscore_threshold') }}, false) as is_amount_anomaly,
        (is_card_testing_candidate and in_card_testing_burst) or is_card_testing_cashout as is_card_testing,
        is_structuring_candidate and in_structuring_run as is_structuring,
        -- money leaving an account as it wakes up: the transaction ending the dormancy, or one of the next
        -- (up to dormant_drain_followups) within dormant_drain_hours of it - a drain spread over the next day
        coalesce(transaction_type in ('transfer', 'withdrawal', 'purchase', 'payment'), false)
            and (ends_dormancy
            {%- for k in range(1, var('dormant_drain_followups') + 1) %}
                 or coalesce(lag(ends_dormancy, {{ k }}) over (partition by customer_id order by {{ order }})
                             and {{ seconds_between('lag(transaction_at, ' ~ k ~ ') over (partition by customer_id order by ' ~ order ~ ')', 'transaction_at') }}
                                 <= {{ var('dormant_drain_hours') * 3600 }}, false)
            {%- endfor %})
            as is_dormant_reactivation,
        coalesce(country_risk_level = 'high', false) and coalesce(merchant_country <> home_country, true)
            as is_high_risk_geography
    from travel
),

scored as (
    select
        *,
{{ rule_columns(rules, 'fraud_score') }}
    from flagged
)

select
    transaction_id,
    customer_id,
    account_id,
    transaction_at,
    transaction_date,
    transaction_type,
    amount,
    currency,
    amount_usd,
    merchant_category,
    channel,
    merchant_country,
    country_risk_level,
    status,
    latitude,
    longitude,
    cast(transactions_in_velocity_window as integer) as transactions_in_velocity_window,
    amount_zscore_90d,
    distance_from_previous_km,
    speed_from_previous_kmh,
    cast(days_since_previous_transaction as integer) as days_since_previous_transaction,
    is_velocity_burst,
    is_amount_anomaly,
    is_impossible_travel,
    is_card_testing,
    is_structuring,
    is_transfer_after_suspicious_login,
    is_dormant_reactivation,
    is_high_risk_geography,
    is_money_mule,
    cast(fraud_score as integer) as fraud_score,
    {{ risk_band('fraud_score') }} as risk_band,
    reason_codes,
    primary_reason_code,
    is_confirmed_fraud
from scored
{% if is_incremental() -%}
where transaction_at >= {{ since }}
{%- endif %}
