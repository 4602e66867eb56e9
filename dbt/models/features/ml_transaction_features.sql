{{ config(materialized='view') }}
{#- One row per transaction with the fraud classifier's features (contract: ml/features.py), each computed from
    what the bank knew at that moment: the transaction itself, the customer's and device's earlier transactions,
    earlier logins and the 90 days before its date. Only trailing windows and lag() - never lead(), never the rule
    flags that look ahead (impossible travel's next leg, a burst's later members) - so a feature cannot use the
    future; tests: ut_transaction_features_point_in_time. A view: read when the model trains or scores. -#}
with {{ transaction_features() }}

select * from transaction_features
