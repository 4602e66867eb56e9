"""Train a model on a time split and judge it on the later weeks against what runs today.

`train(contract, frame, baseline=..., groups=...)`: outcomes are booked late (a fraud is confirmed days to weeks
after it happened), so the last `maturity_days` days are not judged - their labels are still filling in - and
the `eval_days` before them are the evaluation window; every earlier row trains the model. The estimator is a
gradient-boosted tree ensemble (scikit-learn's HistGradientBoostingClassifier: missing values handled by the trees,
fixed iterations, no early stopping, so training is deterministic), judged on the window beside the baseline score
(the rules' fraud_score, or the heuristic churn score) on the same rows: at the baseline's alert volume
(`baseline_threshold` gives it), so the card says what the model would do at today's workload, and at the
model's own alert threshold (`model_threshold`, the probability at which it raises an alert of its own).
Returns a TrainedModel: the fitted model, its SQL (ml.sql_export), a version (hash of the SQL) and the card's
content (ml.card writes it).

    python -m ml.train --duckdb demo_output/fintech_analytics.duckdb --out demo_output/models [--models NAME ...]

(the models, their frames and gates: ml/models.py)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ml import drift, metrics
from ml.features import FeatureContract
from ml.sql_export import probability_sql

# Chosen on two banks (demo seed 42 standard, seed 7 wide) from 24 settings (min_samples_leaf 20/50/100, learning
# rate 0.05/0.1, 100/300 iterations, 8/16 leaves): every one beat the rules' PR-AUC by >= 0.09 on both; small
# leaves matter because confirmed cases are few (a few hundred legs a month).
HYPERPARAMETERS = {"max_iter": 100, "learning_rate": 0.05, "max_leaf_nodes": 16, "min_samples_leaf": 20,
                   "l2_regularization": 1.0}
# Outcomes booked later than this are rare (the delay's 90th percentile is ~3 weeks): the judged window ends here.
LABEL_MATURITY_DAYS = 21


@dataclass
class TrainedModel:
    name: str
    version: str
    pipeline: object
    sql: str
    card: dict = field(default_factory=dict)


def _estimator(seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(**HYPERPARAMETERS, early_stopping=False, random_state=seed)


def split(frame: pd.DataFrame, event_time: str, eval_days: int,
          maturity_days: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp, pd.Timestamp]:
    """(training rows, evaluation rows, the first evaluation moment, the end of the judged data): the last
    `maturity_days` whole days are left out (their outcomes are not all booked yet), the `eval_days` whole days
    before them evaluate, and every training row is earlier than every evaluation row."""
    times = pd.to_datetime(frame[event_time])
    end = times.max().normalize() + timedelta(days=1) - timedelta(days=maturity_days)
    cut = end - timedelta(days=eval_days)
    return frame[times < cut], frame[(times >= cut) & (times < end)], cut, end


def judged_split(contract: FeatureContract, frame: pd.DataFrame, eval_days: int, maturity_days: int):
    """split() of the frame in its one canonical row order (event time, key): the solver's last bits, and so the SQL
    and the version, depend on the order; the candidate and the incumbent are judged on the same rows."""
    frame = frame.sort_values([contract.event_time, contract.key], kind="stable")
    return split(frame, contract.event_time, eval_days, maturity_days)


def train(contract: FeatureContract, frame: pd.DataFrame, *, name: str, baseline: str, baseline_threshold: float,
          model_threshold: float = 0.5, groups: tuple[str, ...] = (), eval_days: int = 14,
          maturity_days: int = LABEL_MATURITY_DAYS, seed: int = 42, min_positives: int = 10) -> TrainedModel:
    missing = [c for c in (contract.key, contract.event_time, contract.label, baseline, *contract.features, *groups)
               if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: the training frame lacks {missing}")
    train_rows, eval_rows, cut, end = judged_split(contract, frame, eval_days, maturity_days)
    y_train = train_rows[contract.label].fillna(False).astype(int).to_numpy()
    y_eval = eval_rows[contract.label].fillna(False).astype(int).to_numpy()
    if y_train.sum() < min_positives or y_eval.sum() < 1:
        raise ValueError(f"{name}: too few positive outcomes to train and judge a model "
                         f"({int(y_train.sum())} before {cut.date()}, {int(y_eval.sum())} after)")
    features = list(contract.features)
    model = _estimator(seed).fit(train_rows[features].to_numpy(float), y_train)
    score = model.predict_proba(eval_rows[features].to_numpy(float))[:, 1]
    rules = eval_rows[baseline].to_numpy(float)
    rules_alerts = int((rules >= baseline_threshold).sum())
    threshold = metrics.threshold_for_volume(score, rules_alerts)
    sql = probability_sql(model, features)
    card = {
        "model": name, "estimator": "gradient-boosted trees (scikit-learn HistGradientBoostingClassifier)",
        "hyperparameters": {**HYPERPARAMETERS, "seed": seed},
        "features": features, "label": contract.label, "source": contract.model,
        "data_window": {"training": [str(pd.to_datetime(train_rows[contract.event_time]).min()), str(cut)],
                        "evaluation": [str(cut), str(end)], "not_judged_after": str(end),
                        "label_maturity_days": maturity_days,
                        "training_rows": len(train_rows), "training_positives": int(y_train.sum()),
                        "evaluation_rows": len(eval_rows), "evaluation_positives": int(y_eval.sum()),
                        "not_judged_rows": len(frame) - len(train_rows) - len(eval_rows)},
        "evaluation": {
            "model": {**metrics.ranking(y_eval, score), **metrics.at_threshold(y_eval, score, threshold),
                      "lift_top_decile": metrics.lift_top_decile(y_eval, score),
                      "calibration": metrics.calibration(y_eval, score),
                      "at_model_threshold": metrics.at_threshold(y_eval, score, model_threshold)},
            "baseline": {"score": baseline, **metrics.ranking(y_eval, rules),
                         **metrics.at_threshold(y_eval, rules, baseline_threshold),
                         "lift_top_decile": metrics.lift_top_decile(y_eval, rules)},
            # the decision the product takes: the baseline's alerts plus the model's own (reason MODEL)
            "combined": metrics.at_threshold(
                y_eval, np.maximum((rules >= baseline_threshold), (score >= model_threshold)).astype(float), 1.0),
        },
        "false_positive_rates": metrics.false_positive_rates(
            y_eval, score >= threshold, {g: eval_rows[g].to_numpy() for g in groups}),
        "model_threshold": model_threshold,
        "trees": len(model._predictors),
    }
    # the training window's distribution of each feature and of the score: the drift mart's reference
    train_score = model.predict_proba(train_rows[features].to_numpy(float))[:, 1]
    columns = {f: train_rows[f].to_numpy(float) for f in features}
    card["reference"] = drift.reference({**columns, drift.SCORE: train_score})
    card["drift_evaluation_window"] = drift.report(
        card["reference"], {**{f: eval_rows[f].to_numpy(float) for f in features}, drift.SCORE: score})
    version = hashlib.sha256(sql.encode()).hexdigest()[:12]
    card["version"] = version
    return TrainedModel(name=name, version=version, pipeline=model, sql=sql, card=card)


def score_with_sql(sql: str, rows: pd.DataFrame) -> np.ndarray:
    """Score `rows` with a model's exported SQL (as the warehouse would), in an in-memory DuckDB."""
    import duckdb

    con = duckdb.connect()
    con.register("scored_rows", rows)
    return np.array([p for (p,) in con.execute(f"select {sql} from scored_rows").fetchall()], dtype=float)


def evaluate_incumbent(card: dict, sql: str, contract: FeatureContract, frame: pd.DataFrame, *, baseline: str,
                       baseline_threshold: float, eval_days: int = 14, maturity_days: int = LABEL_MATURITY_DAYS) -> dict:
    """The promoted model's card re-judged on this run's evaluation window: its SQL scores the same rows at the
    same alert volume as the candidate is judged at."""
    _, eval_rows, _, _ = judged_split(contract, frame, eval_days, maturity_days)
    y = eval_rows[contract.label].fillna(False).astype(int).to_numpy()
    score = score_with_sql(sql, eval_rows)
    alerts = int((eval_rows[baseline].to_numpy(float) >= baseline_threshold).sum())
    threshold = metrics.threshold_for_volume(score, alerts)
    return {"model": card["model"], "version": card["version"],
            "evaluation": {"model": {**metrics.ranking(y, score), **metrics.at_threshold(y, score, threshold),
                                     "lift_top_decile": metrics.lift_top_decile(y, score)}}}


def main(argv: list[str] | None = None) -> int:
    from ml.models import MODELS, train_and_gate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duckdb", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True,
                        help="writes <out>/<model>/{card.md,card.json,model.sql,promotion.json,promoted/} and "
                             "<out>/dbt_macros/<model>.sql")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=sorted(MODELS))
    args = parser.parse_args(argv)
    for name in args.models:
        trained, decision = train_and_gate(MODELS[name], args.duckdb, args.out)
        print(name, json.dumps({k: trained.card["evaluation"][k].get("pr_auc") for k in ("model", "baseline")}),
              decision.reason)
    return 0


if __name__ == "__main__":
    sys.exit(main())
