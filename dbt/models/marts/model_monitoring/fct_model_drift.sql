{{ config(materialized='table') }}
{#- Drift of each promoted model: the population stability index (ml/drift.py) of every feature and of the score
    (feature '__score__') in the latest window - the fraud classifier's last 7 days of transactions, the churn
    model's latest cut-off - against the training window the model was fitted on. The bins and the training
    shares come with the promoted model (macro <model>_reference(), written by ml/promotion.py), so the warehouse
    bins exactly as training did: a value v falls in bin i when edges[i-1] < v <= edges[i], a missing one in -1.
    PSI = sum((actual - expected) * ln(actual / expected)), shares floored at 0.0001; status stable < 0.10 <=
    moderate <= model_drift_alert_psi < drifted (tests/assert_model_drift_below_alert warns the run). No model
    promoted: no rows for it. -#}
{%- set specs = [
    {'name': 'fraud_classifier', 'features': ref('ml_transaction_features'), 'scores': ref('fct_transaction_model_scores'),
     'key': 'transaction_id', 'score': 'model_score', 'time': 'transaction_at', 'days': 7},
    {'name': 'churn_propensity', 'features': ref('ml_customer_features'), 'scores': ref('fct_customer_churn_scores'),
     'key': 'customer_id', 'score': 'churn_propensity', 'time': 'as_of_date', 'days': 0},
] -%}
{%- set floor = 0.0001 -%}
{%- set active = [] -%}
{%- for spec in specs -%}
  {%- set model = promoted_model(spec.name) -%}
  {%- if model.reference | length > 0 -%}
    {%- do active.append({'spec': spec, 'model': model}) -%}
  {%- endif -%}
{%- endfor %}

with no_model as (
    select
        cast(null as varchar(64)) as model_name,
        cast(null as varchar(64)) as model_version,
        cast(null as varchar(128)) as feature,
        cast(null as double precision) as psi,
        cast(null as integer) as latest_rows,
        cast(null as date) as window_start,
        cast(null as date) as window_end
    where 1 = 0
)
{%- for item in active %}
{%- set spec, model, name = item.spec, item.model, item.spec.name %},

{{ name }}_latest as (
    -- the latest window: the last {{ spec.days }} days before the newest row ({{ 'its cut-off' if spec.days == 0 else 'the week' }})
    select f.*, s.{{ spec.score }} as drift_score
    from {{ spec.features }} as f
    left join {{ spec.scores }} as s on f.{{ spec.key }} = s.{{ spec.key }}
    where f.{{ spec.time }} >= (select {{ dbt.dateadd('day', -spec.days, 'max(' ~ spec.time ~ ')') if spec.days else 'max(' ~ spec.time ~ ')' }}
                               from {{ spec.features }})
),

{{ name }}_binned as (
    {%- for r in model.reference %}
    {%- set column = 'drift_score' if r.feature == '__score__' else r.feature %}
    select '{{ r.feature }}' as feature,
        case when {{ column }} is null then -1
        {%- for edge in r.edges %}
            when {{ column }} <= cast('{{ edge }}' as double precision) then {{ loop.index0 }}
        {%- endfor %}
            else {{ r.edges | length }} end as bin
    from {{ name }}_latest
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

{{ name }}_expected as (
    {%- for r in model.reference %}
    {%- set feature = r.feature %}
    {%- for share in r.expected %}
    select '{{ feature }}' as feature, {{ loop.index0 - 1 }} as bin, cast('{{ share }}' as double precision) as expected_share
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

{{ name }}_actual as (
    select feature, bin, count(*) as n
    from {{ name }}_binned
    group by feature, bin
),

{{ name }}_psi as (
    select
        '{{ name }}' as model_name,
        cast('{{ model.version }}' as varchar(64)) as model_version,
        e.feature,
        sum((greatest(coalesce(cast(a.n as double precision), 0) / nullif(t.total, 0), {{ floor }}) - greatest(e.expected_share, {{ floor }}))
            * ln(greatest(coalesce(cast(a.n as double precision), 0) / nullif(t.total, 0), {{ floor }}) / greatest(e.expected_share, {{ floor }})))
            as psi,
        max(t.total) as latest_rows,
        max(t.window_start) as window_start,
        max(t.window_end) as window_end
    from {{ name }}_expected as e
    cross join (select cast(count(*) as double precision) as total, cast(min({{ spec.time }}) as date) as window_start,
                       cast(max({{ spec.time }}) as date) as window_end from {{ name }}_latest) as t
    left join {{ name }}_actual as a on e.feature = a.feature and e.bin = a.bin
    group by e.feature
)
{%- endfor %}

select
    model_name,
    model_version,
    feature,
    psi,
    case when psi > {{ var('model_drift_alert_psi') }} then 'drifted' when psi >= 0.1 then 'moderate' else 'stable' end as drift_status,
    cast(latest_rows as integer) as latest_rows,
    window_start,
    window_end
from (
    select * from no_model
    {%- for item in active %}
    union all
    select * from {{ item.spec.name }}_psi
    {%- endfor %}
) as drift
