"""The product's models, each trained on the local warehouse, judged beside what runs today and gated:

- fraud_classifier: P(operations confirm the transaction as fraud), per transaction (features/ml_transaction_features),
  judged beside the rules' fraud_score at the rules' alert threshold; alerts of its own at fraud_model_threshold.
- churn_propensity: P(no transaction and no login in the next churn_label_days), per customer per weekly cut-off
  (features/ml_customer_features), judged beside the heuristic churn_risk_score at its "high" band.

`train_and_gate(spec, read, models_dir)`: load the frame (`read`: ml.warehouse - DuckDB locally, Redshift on AWS),
train (ml.train), write the card and SQL to
<models_dir>/<name>/, run the promotion gate against what runs today (the model in promoted/, re-scored through
its SQL, else the baseline alone), rewrite promoted/ when the candidate wins, and write what dbt scores with to
<models_dir>/dbt_macros/<name>.sql (the promoted model's SQL, or no model).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from ml.features import CHURN, FRAUD, FeatureContract
from ml.train import LABEL_MATURITY_DAYS, TrainedModel, evaluate_incumbent, train
from ml.warehouse import SCHEMAS, Reader, duckdb_reader

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt" / "dbt_project.yml"


def dbt_var(name: str, project: Path = DBT_PROJECT):
    """A dbt project var: the thresholds the warehouse applies are the ones the models are judged at."""
    return yaml.safe_load(project.read_text())["vars"][name]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    contract: FeatureContract
    frame_sql: str  # the features joined to the baseline score and the groups ({features}, {marts}: schemas)
    baseline: str
    baseline_threshold_var: str
    model_threshold_var: str
    groups: tuple[str, ...]
    eval_days: int
    maturity_days: int
    min_positives: int = 10  # outcomes the training weeks must hold (fewer: no model, a clear error)

    def frame(self, read):
        """The training frame through `read` (ml.warehouse.Reader), or a DuckDB connection."""
        sql = self.frame_sql.format(**SCHEMAS)
        return read.execute(sql).df() if hasattr(read, "execute") else read(sql)


FRAUD_SPEC = ModelSpec(
    name="fraud_classifier", contract=FRAUD,
    frame_sql=f"""
select f.*, t.fraud_score, c.customer_segment, c.age_band
from {{features}}.{FRAUD.model} as f
inner join {{marts}}.fct_transaction_fraud_indicators as t on f.transaction_id = t.transaction_id
left join {{marts}}.dim_customers as c on f.customer_id = c.customer_id
""",
    baseline="fraud_score", baseline_threshold_var="fraud_alert_threshold", model_threshold_var="fraud_model_threshold",
    groups=("customer_segment", "age_band"), eval_days=14, maturity_days=LABEL_MATURITY_DAYS)

CHURN_SPEC = ModelSpec(
    name="churn_propensity", contract=CHURN,
    frame_sql=f"""
select f.*, c.customer_segment, c.age_band
from {{features}}.{CHURN.model} as f
left join {{marts}}.dim_customers as c on f.customer_id = c.customer_id
""",
    # the latest cut-off whose churn_label_days have all passed is judged; every earlier one trains
    baseline="churn_risk_score", baseline_threshold_var="churn_high_score", model_threshold_var="churn_propensity_high",
    groups=("customer_segment", "age_band"), eval_days=7, maturity_days=int(dbt_var("churn_label_days")))

MODELS = {spec.name: spec for spec in (FRAUD_SPEC, CHURN_SPEC)}


def train_and_gate(spec: ModelSpec, read: Reader | Path, models_dir: Path) -> tuple[TrainedModel, object]:
    """-> (TrainedModel, ml.promotion.Decision); see the module's doc. `read` may be a DuckDB file's path."""
    from ml.card import write_card
    from ml.promotion import decide, write_dbt_macros

    baseline_threshold = float(dbt_var(spec.baseline_threshold_var))
    frame = spec.frame(duckdb_reader(read) if isinstance(read, Path) else read)
    trained = train(spec.contract, frame, name=spec.name, baseline=spec.baseline, baseline_threshold=baseline_threshold,
                    model_threshold=float(dbt_var(spec.model_threshold_var)), groups=spec.groups,
                    eval_days=spec.eval_days, maturity_days=spec.maturity_days, min_positives=spec.min_positives)
    folder = write_card(trained, models_dir / spec.name)
    promoted = folder / "promoted"
    incumbent = None
    if (promoted / "card.json").exists():
        incumbent = evaluate_incumbent(json.loads((promoted / "card.json").read_text()),
                                       (promoted / "model.sql").read_text(), spec.contract, frame,
                                       baseline=spec.baseline, baseline_threshold=baseline_threshold,
                                       eval_days=spec.eval_days, maturity_days=spec.maturity_days)
    decision = decide(trained.card, incumbent)
    if decision.promoted:
        shutil.rmtree(promoted, ignore_errors=True)
        write_card(trained, promoted)
    (folder / "promotion.json").write_text(json.dumps(decision.__dict__, indent=2))
    macros = models_dir / "dbt_macros"
    if (promoted / "card.json").exists():
        card = json.loads((promoted / "card.json").read_text())
        write_dbt_macros(macros, spec.name, card["version"], (promoted / "model.sql").read_text(),
                         f"promoted; its card is {spec.name}/promoted/card.md. Last gate: {decision.reason}",
                         reference=card.get("reference"))
    else:
        write_dbt_macros(macros, spec.name, None, None, f"no model promoted: {decision.reason}")
    return trained, decision
