"""Drift: the population stability index (PSI) of each feature and of the score, the latest week against the window
the model was trained on.

`reference(values_by_column)`: per column, bin edges at the training window's deciles (distinct values only, so a
flag has two bins) and the training share of each bin, plus the share of missing values - stored with the promoted
model (card.json and the dbt macro `<model>_reference()`), so the warehouse bins the latest week exactly as the
training rows were binned (dbt model fct_model_drift). PSI = sum over bins of (actual - expected) * ln(actual /
expected), each share floored at EPSILON so an empty bin counts without dividing by zero. Read it as the industry
does: < 0.10 stable, 0.10-0.25 moderate, > 0.25 drifted - ALERT_PSI, where the pipeline alerts.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

EPSILON = 1e-4
ALERT_PSI = 0.25
MODERATE_PSI = 0.10
SCORE = "__score__"  # the model's own probability, beside its features


def _edges(values: np.ndarray, bins: int = 10) -> list[float]:
    present = values[~np.isnan(values)]
    if present.size == 0:
        return []
    return sorted({float(q) for q in np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])})


def bin_index(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """0..len(edges) for a present value (bin i holds edges[i-1] < v <= edges[i]), -1 for a missing one - the
    same rule the dbt model writes as SQL (`case when v is null then -1 when v <= e0 then 0 ...`)."""
    index = np.searchsorted(np.asarray(edges, dtype=float), values, side="left")
    return np.where(np.isnan(values), -1, index)


def _shares(values: np.ndarray, edges: list[float]) -> list[float]:
    """Share of each bin, the missing bin first: [missing, bin 0, ..., bin len(edges)]."""
    index = bin_index(values, edges)
    counts = np.bincount(index + 1, minlength=len(edges) + 2)
    return (counts / max(len(values), 1)).round(10).tolist()


def reference(columns: Mapping[str, np.ndarray]) -> list[dict]:
    """The training window's bins and shares per column (feature name, or SCORE)."""
    out = []
    for name, values in columns.items():
        values = np.asarray(values, dtype=float)
        edges = _edges(values)
        out.append({"feature": name, "edges": edges, "expected": _shares(values, edges)})
    return out


def psi(expected: list[float], actual: list[float]) -> float:
    e = np.maximum(np.asarray(expected, dtype=float), EPSILON)
    a = np.maximum(np.asarray(actual, dtype=float), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def report(ref: list[dict], columns: Mapping[str, np.ndarray]) -> dict[str, float]:
    """PSI per column of `columns` (the later window) against `ref`."""
    return {r["feature"]: round(psi(r["expected"], _shares(np.asarray(columns[r["feature"]], dtype=float),
                                                            r["edges"])), 6)
            for r in ref if r["feature"] in columns}


def status(value: float) -> str:
    return "drifted" if value > ALERT_PSI else "moderate" if value > MODERATE_PSI else "stable"
