"""ml.drift: bins from the training window, PSI of a later window against them."""

from __future__ import annotations

import numpy as np

from ml import drift


def test_the_same_population_is_stable_and_a_shifted_one_drifts():
    rng = np.random.default_rng(0)
    train = rng.normal(size=20_000)
    ref = drift.reference({"x": train, "flag": (rng.random(20_000) < 0.1).astype(float)})
    same = drift.report(ref, {"x": rng.normal(size=5_000), "flag": (rng.random(5_000) < 0.1).astype(float)})
    shifted = drift.report(ref, {"x": rng.normal(1.0, 1, 5_000), "flag": (rng.random(5_000) < 0.5).astype(float)})
    assert same["x"] < 0.01 and same["flag"] < 0.01
    assert shifted["x"] > drift.ALERT_PSI and shifted["flag"] > drift.ALERT_PSI
    assert drift.status(same["x"]) == "stable" and drift.status(shifted["x"]) == "drifted"
    flag = next(r for r in ref if r["feature"] == "flag")
    assert len(flag["edges"]) <= 2 and abs(sum(flag["expected"]) - 1) < 1e-9  # a flag has few bins


def test_missing_values_have_their_own_bin_and_the_bins_are_the_sqls():
    values = np.array([np.nan, 0.0, 1.0, 1.0, 2.0, 5.0])
    assert drift.bin_index(values, [1.0, 2.0]).tolist() == [-1, 0, 0, 0, 1, 2]  # edges[i-1] < v <= edges[i]
    ref = drift.reference({"x": values})
    assert ref[0]["expected"][0] == round(1 / 6, 10)  # the missing share comes first
    assert drift.psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert abs(drift.psi([0.5, 0.5], [0.9, 0.1]) - (0.4 * np.log(1.8) - 0.4 * np.log(0.2))) < 1e-12
