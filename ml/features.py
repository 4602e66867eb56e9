"""The models' feature contracts, derived from the dbt models that compute them (dbt/models/features/*.yml), so the
training code, the exported SQL and the warehouse never disagree on a column: every documented column that is not
an identifier, a timestamp or the label is a feature, in the order the model documents them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

FEATURES_DIR = Path(__file__).resolve().parents[1] / "dbt" / "models" / "features"


@dataclass(frozen=True)
class FeatureContract:
    model: str  # the dbt model (relation name) holding one row per scored entity
    key: str  # the row's id
    event_time: str  # the moment the features are taken at: the time split uses it
    label: str  # the outcome the bank booked (never a feature)
    features: tuple[str, ...]
    groups: tuple[str, ...] = ()  # columns of other models the card reports false-positive rates by


def _columns(model: str) -> list[str]:
    for path in sorted(FEATURES_DIR.glob("*.yml")):
        for node in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            if node["name"] == model:
                return [c["name"] for c in node.get("columns", [])]
    raise KeyError(f"no dbt model {model!r} documented under {FEATURES_DIR}")


def contract(model: str, key: str, event_time: str, label: str, not_features: tuple[str, ...] = ()) -> FeatureContract:
    columns = _columns(model)
    missing = [c for c in (key, event_time, label, *not_features) if c not in columns]
    if missing:
        raise KeyError(f"{model} documents no column {missing}")
    excluded = {key, event_time, label, *not_features}
    return FeatureContract(model, key, event_time, label, tuple(c for c in columns if c not in excluded))


FRAUD = contract("ml_transaction_features", key="transaction_id", event_time="transaction_at",
                 label="is_confirmed_fraud", not_features=("customer_id", "transaction_date"))
CHURN = contract("ml_customer_features", key="customer_cutoff_id", event_time="as_of_date", label="is_churned",
                 not_features=("customer_id", "churn_risk_score"))
