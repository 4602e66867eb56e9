"""A fitted scikit-learn pipeline as ONE portable SQL expression: the probability of the positive class.

Supported pipelines (what the product trains): an optional `SimpleImputer` (median, mean or constant: each
feature's fill value becomes a `coalesce`), an optional `StandardScaler`, then a `LogisticRegression` (a linear
sum through the logistic function) or a `GradientBoostingClassifier` with the log loss (the initial log-odds plus
each regression tree as nested `case when` on the raw feature values, through the logistic function) or a
`HistGradientBoostingClassifier` (binary, numeric features: its baseline plus each tree's shrunk leaf values,
a missing value taking the branch the tree learned for it). Anything
else raises UnsupportedModel naming the step, so a model that cannot be scored in the warehouse never ships.

Portability: `double precision` arithmetic, the common ground of DuckDB, PostgreSQL and Redshift. Every constant is
a string cast of its shortest round-trip form (reads back as the same float64) and every feature is cast to double
precision once, so the engines compute the IEEE doubles numpy does, up to the order of the additions (agreement to
1e-12 with scikit-learn and 1e-9 between DuckDB and PostgreSQL in tests/ml/). The logistic function never overflows
or underflows: z clamped to +-700, 1 / (1 + exp(-z)) for z >= 0, exp(z) / (1 + exp(z)) below. Only `case`,
`coalesce`, `least`, `greatest`, `exp`, arithmetic and comparisons are used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class UnsupportedModel(ValueError):
    """The pipeline has a step the exporter cannot write as SQL."""


def literal(value: float) -> str:
    """A float64 as a SQL constant that reads back as the same double: a string cast (a bare 0.1 is NUMERIC in
    PostgreSQL and DECIMAL in DuckDB, converted on use; every engine parses a string to the nearest double)."""
    value = float(value)
    if not np.isfinite(value):
        raise UnsupportedModel(f"cannot write {value} as SQL")
    return f"cast('{value!r}' as double precision)"


def logistic_sql(z: str) -> str:
    """The logistic function of SQL expression `z` (a column name, ideally: it is repeated), overflow-free."""
    one = literal(1.0)
    # clamped to +-700: PostgreSQL raises on exp() underflow, and beyond that the double is 1.0 (or ~1e-304) anyway
    z = f"least(greatest({z}, {literal(-700.0)}), {literal(700.0)})"
    return f"(case when {z} >= 0 then {one} / ({one} + exp(-{z})) else exp({z}) / ({one} + exp({z})) end)"


def _steps(model) -> list:
    return list(model.named_steps.values()) if hasattr(model, "named_steps") else [model]


def _inputs(steps: list, features: Sequence[str]) -> tuple[list[str], list]:
    """Each feature as SQL after the preprocessing steps (imputation, scaling), and the final estimator's steps."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    exprs = [f"cast({name} as double precision)" for name in features]
    rest = list(steps)
    while rest and not hasattr(rest[0], "predict_proba"):
        step = rest.pop(0)
        if isinstance(step, SimpleImputer):
            if step.add_indicator:
                raise UnsupportedModel("SimpleImputer(add_indicator=True) is not exported")
            exprs = [f"coalesce({e}, {literal(fill)})" for e, fill in zip(exprs, step.statistics_)]
        elif isinstance(step, StandardScaler):
            mean = step.mean_ if step.with_mean else np.zeros(len(exprs))
            scale = step.scale_ if step.with_std else np.ones(len(exprs))
            exprs = [f"(({e}) - {literal(m)}) / {literal(s)}" for e, m, s in zip(exprs, mean, scale)]
        else:
            raise UnsupportedModel(f"pipeline step {type(step).__name__} is not exported")
    if len(rest) != 1:
        raise UnsupportedModel("the pipeline must end in one classifier")
    return exprs, rest


def _tree(tree, inputs: list[str], node: int = 0) -> str:
    left, right = tree.children_left[node], tree.children_right[node]
    if left == right:  # a leaf
        return literal(tree.value[node].ravel()[0])
    return (f"case when {inputs[tree.feature[node]]} <= {literal(tree.threshold[node])} "
            f"then {_tree(tree, inputs, left)} else {_tree(tree, inputs, right)} end")


def _hist_tree(nodes, inputs: list[str], node: int = 0) -> str:
    """One HistGradientBoosting tree: a present value goes left when <= the split's threshold (+inf: every present
    value), a missing one where training sent it (missing_go_to_left) - one condition per split, so no subtree is
    written twice."""
    n = nodes[node]
    if n["is_leaf"]:
        return literal(n["value"])
    if n["is_categorical"]:
        raise UnsupportedModel("HistGradientBoostingClassifier with categorical splits is not exported")
    x = inputs[n["feature_idx"]]
    present = f"{x} is not null" if np.isposinf(n["num_threshold"]) else f"{x} <= {literal(n['num_threshold'])}"
    goes_left = f"({present} or {x} is null)" if n["missing_go_to_left"] else present
    return (f"case when {goes_left} then {_hist_tree(nodes, inputs, n['left'])} "
            f"else {_hist_tree(nodes, inputs, n['right'])} end")


def probability_sql(model, features: Sequence[str]) -> str:
    """SQL for P(positive class) of `model` (fitted) whose columns, in training order, are `features`. The raw score
    appears three times; for a large ensemble select `raw_score_sql` as a column first and apply `logistic_sql`."""
    return logistic_sql(f"({raw_score_sql(model, features)})")


def raw_score_sql(model, features: Sequence[str]) -> str:
    """SQL for the model's raw score (log-odds of the positive class)."""
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    inputs, (estimator,) = _inputs(_steps(model), features)
    if getattr(estimator, "n_features_in_", len(features)) != len(features):
        raise UnsupportedModel(f"the model was fitted on {estimator.n_features_in_} features, {len(features)} named")
    if list(getattr(estimator, "classes_", [0, 1])) != [0, 1]:
        raise UnsupportedModel("only binary classifiers with classes 0 and 1 are exported")
    if isinstance(estimator, LogisticRegression):
        terms = [f"{literal(w)} * {x}" for w, x in zip(estimator.coef_.ravel(), inputs) if w != 0]
        z = " + ".join([literal(estimator.intercept_[0])] + terms)
    elif isinstance(estimator, GradientBoostingClassifier):
        if estimator.loss != "log_loss":
            raise UnsupportedModel(f"GradientBoostingClassifier(loss={estimator.loss!r}) is not exported")
        lr = estimator.learning_rate
        # the initial raw score (log-odds of the prior): the decision function of any row minus its trees
        probe = np.zeros((1, len(features)))
        init = estimator.decision_function(probe)[0] - lr * sum(t.predict(probe)[0] for t in estimator.estimators_[:, 0])
        trees = [f"{literal(lr)} * ({_tree(t.tree_, inputs)})" for t in estimator.estimators_[:, 0]]
        z = " + ".join([literal(init)] + trees)
    elif isinstance(estimator, HistGradientBoostingClassifier):
        if estimator.is_categorical_ is not None and estimator.is_categorical_.any():
            raise UnsupportedModel("HistGradientBoostingClassifier with categorical features is not exported")
        trees = [_hist_tree(tree.nodes, inputs) for (tree,) in estimator._predictors]
        z = " + ".join([literal(estimator._baseline_prediction.ravel()[0])] + [f"({t})" for t in trees])
    else:
        raise UnsupportedModel(f"classifier {type(estimator).__name__} is not exported")
    return z
