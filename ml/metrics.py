"""What a model card reports, for the model and for the rules or heuristic beside it on the same rows: ranking
quality (PR-AUC, ROC-AUC), the decision at a threshold (precision, recall, alert volume), lift at the top decile,
calibration, and false-positive rates per group flagged when above 1.5x the overall rate."""

from __future__ import annotations

import numpy as np

GROUP_FLAG_RATIO = 1.5


def ranking(y: np.ndarray, score: np.ndarray) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score

    y, score = np.asarray(y, int), np.asarray(score, float)
    if y.min() == y.max():
        return {"pr_auc": None, "roc_auc": None, "positives": int(y.sum()), "rows": len(y)}
    return {"pr_auc": round(float(average_precision_score(y, score)), 4),
            "roc_auc": round(float(roc_auc_score(y, score)), 4), "positives": int(y.sum()), "rows": len(y)}


def at_threshold(y: np.ndarray, score: np.ndarray, threshold: float) -> dict:
    y, flagged = np.asarray(y, int), np.asarray(score, float) >= threshold
    tp, fp = int((flagged & (y == 1)).sum()), int((flagged & (y == 0)).sum())
    return {"threshold": threshold, "alerts": int(flagged.sum()),
            "precision": round(tp / flagged.sum(), 4) if flagged.any() else None,
            "recall": round(tp / y.sum(), 4) if y.any() else None,
            "false_positive_rate": round(fp / (y == 0).sum(), 6) if (y == 0).any() else None}


def threshold_for_volume(score: np.ndarray, alerts: int) -> float:
    """The score threshold that flags `alerts` rows (the rules' alert volume), ties included."""
    score = np.sort(np.asarray(score, float))[::-1]
    return float(score[min(max(alerts, 1), len(score)) - 1])


def lift_top_decile(y: np.ndarray, score: np.ndarray) -> float | None:
    y, score = np.asarray(y, int), np.asarray(score, float)
    if not y.any():
        return None
    top = np.argsort(-score, kind="stable")[: max(1, len(y) // 10)]
    return round(float(y[top].mean() / y.mean()), 3)


def calibration(y: np.ndarray, score: np.ndarray, bins: int = 10) -> dict:
    """Brier score and, per bin of predicted probability (equal counts), mean predicted vs observed rate."""
    y, score = np.asarray(y, float), np.asarray(score, float)
    order = np.argsort(score, kind="stable")
    table = [{"predicted": round(float(score[part].mean()), 6), "observed": round(float(y[part].mean()), 6),
              "rows": len(part)} for part in np.array_split(order, bins) if len(part)]
    return {"brier": round(float(np.mean((score - y) ** 2)), 6), "bins": table}


def false_positive_rates(y: np.ndarray, flagged: np.ndarray, groups: dict[str, np.ndarray]) -> dict:
    """Per group column and value: the false-positive rate among that group's negatives, flagged when above
    GROUP_FLAG_RATIO x the overall rate."""
    y, flagged = np.asarray(y, int), np.asarray(flagged, bool)
    negatives = y == 0
    overall = float(flagged[negatives].mean()) if negatives.any() else 0.0
    out: dict = {"overall": round(overall, 6), "flag_ratio": GROUP_FLAG_RATIO, "groups": {}}
    for column, values in groups.items():
        values = np.asarray(values, dtype=object)
        rows = {}
        for value in sorted({str(v) for v in values}):
            members = negatives & (values.astype(str) == value)
            if members.any():
                rate = float(flagged[members].mean())
                rows[value] = {"negatives": int(members.sum()), "false_positive_rate": round(rate, 6),
                               "flagged": bool(overall > 0 and rate > GROUP_FLAG_RATIO * overall)}
        out["groups"][column] = rows
    return out
