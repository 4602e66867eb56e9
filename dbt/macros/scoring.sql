{#- Fraud rules in one place: reason code, flag column and weight. The score, the reason-code list and the
    primary reason are all derived from this list (strongest first). -#}
{% macro transaction_fraud_rules() %}
  {{ return([
      {'code': 'CARD_TESTING', 'flag': 'is_card_testing', 'weight': 60},
      {'code': 'IMPOSSIBLE_TRAVEL', 'flag': 'is_impossible_travel', 'weight': 60},
      {'code': 'ATO_TRANSFER', 'flag': 'is_transfer_after_suspicious_login', 'weight': 60},
      {'code': 'STRUCTURING', 'flag': 'is_structuring', 'weight': 60},
      {'code': 'MONEY_MULE', 'flag': 'is_money_mule', 'weight': 60},
      {'code': 'VELOCITY', 'flag': 'is_velocity_burst', 'weight': 50},
      {'code': 'DORMANT_REACTIVATION', 'flag': 'is_dormant_reactivation', 'weight': 50},
      {'code': 'HIGH_RISK_GEO', 'flag': 'is_high_risk_geography', 'weight': 50},
      {'code': 'AMOUNT_ANOMALY', 'flag': 'is_amount_anomaly', 'weight': 30},
  ]) }}
{% endmacro %}

{% macro login_anomaly_rules() %}
  {{ return([
      {'code': 'NEW_DEVICE', 'flag': 'is_new_device', 'weight': 30},
      {'code': 'FAILED_BURST', 'flag': 'is_failed_burst', 'weight': 20},
      {'code': 'GEO_VELOCITY', 'flag': 'is_geo_velocity', 'weight': 20},
      {'code': 'NEW_COUNTRY', 'flag': 'is_new_country', 'weight': 20},
  ]) }}
{% endmacro %}

{% macro rule_score(rules) -%}
  least(100, 0
  {%- for rule in rules %}
    + case when {{ rule.flag }} then {{ rule.weight }} else 0 end
  {%- endfor %})
{%- endmacro %}

{% macro rule_reason_codes(rules) -%}
  ltrim(''
  {%- for rule in rules %}
    || case when {{ rule.flag }} then ',{{ rule.code }}' else '' end
  {%- endfor %}, ',')
{%- endmacro %}

{% macro rule_primary_reason(rules) -%}
  case
  {%- for rule in rules %}
    when {{ rule.flag }} then '{{ rule.code }}'
  {%- endfor %}
  end
{%- endmacro %}

{#- The score (named `score_column`), the reason codes and the primary reason of `rules`, as select columns. -#}
{% macro rule_columns(rules, score_column) -%}
        {{ rule_score(rules) }} as {{ score_column }},
        {{ rule_reason_codes(rules) }} as reason_codes,
        {{ rule_primary_reason(rules) }} as primary_reason_code
{%- endmacro %}

{#- Speed from the previous located event; null when no time elapsed (or there is no previous location). -#}
{% macro speed_kmh(distance_km, seconds) -%}
  case when {{ seconds }} > 0 then {{ distance_km }} / ({{ seconds }} / 3600.0) end
{%- endmacro %}

{#- A move no single traveller can make: at least impossible_travel_min_km from the previous located event, faster
    than impossible_travel_kmh or with no time elapsed (null speed). Transactions (IMPOSSIBLE_TRAVEL) and logins
    (GEO_VELOCITY) judge it alike. -#}
{% macro is_impossible_jump(distance_km, speed) -%}
  coalesce(
            {{ distance_km }} >= {{ var('impossible_travel_min_km') }}
            and ({{ speed }} is null or {{ speed }} > {{ var('impossible_travel_kmh') }}),
            false
        )
{%- endmacro %}

{% macro risk_band(score) -%}
  case when {{ score }} >= 75 then 'critical' when {{ score }} >= 50 then 'high'
       when {{ score }} >= 25 then 'medium' else 'low' end
{%- endmacro %}

{#- Reporting date: var as_of_date, else the latest activity date in the data (stable on historical data). -#}
{% macro reporting_date() -%}
  {%- if var('as_of_date') -%}
    cast('{{ var("as_of_date") }}' as date)
  {%- else -%}
    (select max(activity_date) from {{ ref('int_customer_daily_activity') }})
  {%- endif -%}
{%- endmacro %}

{#- 'a', 'b' for a list var of strings (counterparty names), quotes doubled. -#}
{% macro quoted_list(values) -%}
  {%- for value in values -%}'{{ value | replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor -%}
{%- endmacro %}

{#- A micro card-not-present purchase, the unit of card testing (rules and model features alike). -#}
{% macro is_micro_purchase() -%}
coalesce(transaction_type = 'purchase' and amount_usd <= {{ var('card_testing_max_amount') }} and is_card_not_present, false)
{%- endmacro %}

{#- Physical cash: a deposit or withdrawal at a branch or an ATM (or booked as cash). The structuring rule and the
    currency transaction report (marts/regulatory) count the same movements. -#}
{% macro is_cash_movement() -%}
transaction_type in ('deposit', 'withdrawal')
            and (merchant_category = 'cash' or channel in ('branch', 'atm'))
{%- endmacro %}

{#- The account was dormant at the end of the previous day, or silent for dormant_days before this date. -#}
{% macro account_was_dormant() -%}
(coalesce(prior_day_account_status = 'dormant', false)
            or coalesce({{ days_between('prior_day_last_activity_date', 'transaction_date') }} >= {{ var('dormant_days') }}, false))
{%- endmacro %}

{#- Where an incremental fraud_alerts run starts (macro delete_window): lookback_start per entity type - the
    earlier of its transaction alerts' and its login alerts' latest alert_at, each at most its upstream's own window
    start (an alert is never later than the latest row of its source), so every alert the upstreams rewrote is
    recomputed. Null (a full recompute) on a first build, while either kind has no alert yet, and when the promoted
    fraud model changed (fct_transaction_model_scores then scored every transaction again). -#}
{% macro fraud_alerts_since() -%}
  {%- if not is_incremental() -%}
    {{ return(none) }}
  {%- endif -%}
  {%- if not var('offline_compile', false) -%}
    {%- set version = promoted_model('fraud_classifier').version -%}
    {%- set found = run_query("select count(distinct entity_type), coalesce(sum(case when entity_type = 'transaction' "
                              ~ "and coalesce(model_version, '') <> '" ~ version ~ "' then 1 else 0 end), 0) from " ~ this).rows[0] -%}
    {%- if found[0] < 2 or found[1] > 0 -%}
      {{ return(none) }}
    {%- endif -%}
  {%- endif -%}
  {{ return(lookback_start('alert_at', per='entity_type')) }}
{%- endmacro %}
