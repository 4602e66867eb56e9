{{ config(severity='warn') }}
-- A promoted model whose feature or score has drifted from its training window (PSI > model_drift_alert_psi):
-- each failing row names the model, the feature and its PSI. A warning, not an error: the rules and the other
-- marts stay valid and the dashboards refresh; model risk reviews the model (retrain, or demote it).
select model_name, model_version, feature, psi
from {{ ref('fct_model_drift') }}
where drift_status = 'drifted'
