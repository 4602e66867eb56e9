"""ml.train, ml.metrics, ml.card, ml.features: a model trained on earlier weeks, judged on later ones beside the
baseline, deterministic, with a card that says where it fails; the feature contract is the dbt model's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml import metrics
from ml.card import render_markdown, write_card
from ml.features import FRAUD, FeatureContract
from ml.train import split, train

CONTRACT = FeatureContract(model="toy", key="id", event_time="at", label="label", features=("signal", "noise"))


def _frame(seed: int = 5, n: int = 6000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    label = rng.random(n) < 1 / (1 + np.exp(-(-4 + 2.5 * signal)))
    segment = np.where(rng.random(n) < 0.2, "premium", "mass")
    signal = np.where(segment == "premium", signal + 0.8, signal)  # the model over-flags premium customers
    return pd.DataFrame({
        "id": np.arange(n), "at": pd.Timestamp("2026-09-01") + pd.to_timedelta(rng.integers(0, 60 * 86400, n), "s"),
        "label": label, "signal": signal, "noise": rng.normal(size=n),
        "rules": rng.integers(0, 101, n).astype(float),  # a baseline that knows nothing
        "segment": segment,
    })


def test_the_split_puts_every_training_row_before_every_evaluation_row():
    frame = _frame()
    train_rows, eval_rows, cut, end = split(frame, "at", 14)
    assert len(train_rows) + len(eval_rows) == len(frame)
    assert train_rows["at"].max() < cut <= eval_rows["at"].min()
    assert eval_rows["at"].max().normalize() - cut == pd.Timedelta(days=13)
    # outcomes still being booked: the last 21 days are neither trained nor judged on
    train_rows, eval_rows, cut, end = split(frame, "at", 14, maturity_days=21)
    assert end - cut == pd.Timedelta(days=14) and eval_rows["at"].max() < end <= frame["at"].max()
    assert (frame["at"].max().normalize() + pd.Timedelta(days=1)) - end == pd.Timedelta(days=21)
    assert train_rows["at"].max() < cut and len(frame[frame["at"] >= end]) > 0


def test_training_is_deterministic_and_judged_against_the_baseline_on_later_weeks():
    frame = _frame()
    first = train(CONTRACT, frame, name="toy", baseline="rules", baseline_threshold=90, groups=("segment",))
    again = train(CONTRACT, frame.sample(frac=1, random_state=1), name="toy", baseline="rules",
                  baseline_threshold=90, groups=("segment",))
    assert first.version == again.version and first.sql == again.sql
    ev = first.card["evaluation"]
    assert ev["model"]["pr_auc"] > ev["baseline"]["pr_auc"] + 0.05 and ev["model"]["roc_auc"] > 0.85
    assert ev["model"]["alerts"] >= ev["baseline"]["alerts"]  # same volume, ties included
    assert ev["model"]["lift_top_decile"] > 3
    window = first.card["data_window"]
    assert window["training_rows"] + window["evaluation_rows"] + window["not_judged_rows"] == len(frame)
    assert window["not_judged_rows"] > 0 and window["label_maturity_days"] == 21
    groups = first.card["false_positive_rates"]["groups"]["segment"]
    assert groups["premium"]["flagged"] and not groups["mass"]["flagged"]


def test_the_card_and_sql_are_written_and_say_what_model_risk_reads(tmp_path):
    trained = train(CONTRACT, _frame(), name="toy", baseline="rules", baseline_threshold=90, groups=("segment",))
    folder = write_card(trained, tmp_path / "toy")
    card = json.loads((folder / "card.json").read_text())
    for key in ("data_window", "features", "hyperparameters", "evaluation", "false_positive_rates", "version"):
        assert key in card
    text = (folder / "card.md").read_text()
    assert "ABOVE 1.5x" in text and "baseline (`rules`)" in text and "Brier score" in text
    assert render_markdown(card) == text
    assert (folder / "model.sql").read_text().startswith("(case when")


def test_too_few_outcomes_is_one_clear_error():
    frame = _frame()
    frame["label"] = False
    with pytest.raises(ValueError, match="too few positive outcomes"):
        train(CONTRACT, frame, name="toy", baseline="rules", baseline_threshold=90)
    with pytest.raises(ValueError, match="lacks"):
        train(CONTRACT, frame.drop(columns="noise"), name="toy", baseline="rules", baseline_threshold=90)


def test_metrics_on_known_cases():
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    score = np.array([0.9, 0.8, 0.7, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert metrics.at_threshold(y, score, 0.7) == {"threshold": 0.7, "alerts": 3, "precision": 0.6667, "recall": 1.0,
                                                   "false_positive_rate": 0.125}
    assert metrics.lift_top_decile(y, score) == 5.0  # the top row is a positive: 1 / 0.2
    assert metrics.threshold_for_volume(score, 2) == 0.8
    fpr = metrics.false_positive_rates(y, score >= 0.7, {"g": np.array(list("ab") * 5)})
    assert fpr["overall"] == 0.125 and fpr["groups"]["g"]["b"]["flagged"] and not fpr["groups"]["g"]["a"]["flagged"]


def test_the_fraud_contract_is_the_dbt_models_columns(duckdb_marts):
    columns = [r[0] for r in duckdb_marts.execute(
        "select column_name from information_schema.columns where table_schema = 'analytics_features' "
        f"and table_name = '{FRAUD.model}' order by ordinal_position").fetchall()]
    assert columns == [FRAUD.key, "customer_id", FRAUD.event_time, "transaction_date", *FRAUD.features, FRAUD.label]
    assert FRAUD.label not in FRAUD.features and "customer_id" not in FRAUD.features


def _card(pr_auc, recall, version="v2", baseline_pr_auc=0.30, baseline_recall=0.90, combined_precision=0.55):
    return {"model": "fraud_classifier", "version": version,
            "evaluation": {"model": {"pr_auc": pr_auc, "recall": recall},
                           "baseline": {"score": "fraud_score", "pr_auc": baseline_pr_auc, "recall": baseline_recall,
                                        "precision": 0.56},
                           "combined": {"precision": combined_precision, "recall": 0.93}}}


def test_the_promotion_gate_both_ways():
    from ml.promotion import decide

    better = decide(_card(0.40, 0.95))
    assert better.promoted and better.incumbent == "baseline fraud_score" and "PR-AUC 0.4000 vs 0.3000" in better.reason
    worse = decide(_card(0.28, 0.95))
    assert not worse.promoted and "does not beat baseline fraud_score's 0.3000" in worse.reason
    # beside the rules: their alerts plus the model's must keep the rules' precision (within 0.02)
    noisy = decide(_card(0.40, 0.95, combined_precision=0.53))
    assert not noisy.promoted and "precision 0.5300, more than 0.02 below" in noisy.reason
    assert decide(_card(0.40, 0.80)).promoted  # ranks better; the rules still catch what it misses
    # against the promoted model of the last run: better ranking and no fewer caught at today's workload
    incumbent = _card(0.38, 0.95, version="v1")
    fewer = decide(_card(0.40, 0.80), incumbent)
    assert not fewer.promoted and "recall 0.8000 at today's alert volume is below model v1's 0.9500" in fewer.reason
    assert not decide(_card(0.40, 0.95), incumbent, margin=0.05).promoted
    assert decide(_card(0.45, 0.96), incumbent, margin=0.05).promoted
    assert not decide(_card(None, None)).promoted
    assert not decide(_card(0.38, 0.95, version="v1"), incumbent).promoted  # a tie keeps what runs


def test_the_incumbent_is_rejudged_on_the_new_window_through_its_sql():
    from ml.train import evaluate_incumbent

    frame = _frame()
    trained = train(CONTRACT, frame, name="toy", baseline="rules", baseline_threshold=90)
    again = evaluate_incumbent(trained.card, trained.sql, CONTRACT, frame, baseline="rules", baseline_threshold=90)
    # the same model on the same window through its SQL: the same figures as its own card
    for key in ("pr_auc", "roc_auc", "alerts", "precision", "recall"):
        assert again["evaluation"]["model"][key] == trained.card["evaluation"]["model"][key], key


def test_each_model_is_judged_at_the_thresholds_the_warehouse_applies():
    import yaml

    from ml.models import MODELS, dbt_var

    project = yaml.safe_load((Path(__file__).resolve().parents[2] / "dbt" / "dbt_project.yml").read_text())
    for spec in MODELS.values():
        for var in (spec.baseline_threshold_var, spec.model_threshold_var):
            assert dbt_var(var) == project["vars"][var], (spec.name, var)
    assert MODELS["churn_propensity"].maturity_days == project["vars"]["churn_label_days"]
