"""A trained model's card (card.json + card.md) and its SQL (model.sql) in one folder: what model-risk reads before a
model is promoted - the data window, features, hyper-parameters, the evaluation on the later weeks beside the
baseline, calibration and false-positive rates per group (flagged above 1.5x the overall rate)."""

from __future__ import annotations

import json
from pathlib import Path


def _fmt(value) -> str:
    return "-" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))


def render_markdown(card: dict) -> str:
    ev, window = card["evaluation"], card["data_window"]
    lines = [f"# Model card: {card['model']} (version {card['version']})", "",
             f"{card['estimator']}, trained on `{card['source']}`, label `{card['label']}`.", "",
             "## Data window",
             f"- training: {window['training'][0]} to {window['training'][1]} ({window['training_rows']:,} rows, "
             f"{window['training_positives']:,} positive)",
             f"- evaluation (later weeks): {window['evaluation'][0]} to {window['evaluation'][1]} "
             f"({window['evaluation_rows']:,} rows, {window['evaluation_positives']:,} positive)",
             f"- not judged: from {window['not_judged_after']} ({window['not_judged_rows']:,} rows): outcomes are booked "
             f"up to {window['label_maturity_days']} days late, so those weeks' labels are not complete yet", "",
             "## Evaluation on the later weeks, beside what runs today", "",
             "| | PR-AUC | ROC-AUC | alerts | precision | recall | lift top decile |", "|---|---|---|---|---|---|---|"]
    for who, label in (("model", "model"), ("baseline", f"baseline (`{ev['baseline']['score']}`)")):
        m = ev[who]
        lines.append(f"| {label} | {_fmt(m['pr_auc'])} | {_fmt(m['roc_auc'])} | {m['alerts']:,} | {_fmt(m['precision'])} "
                     f"| {_fmt(m['recall'])} | {_fmt(m['lift_top_decile'])} |")
    own = ev["model"]["at_model_threshold"]
    lines.append(f"| model at its alert threshold {card['model_threshold']} | | | {own['alerts']:,} | "
                 f"{_fmt(own['precision'])} | {_fmt(own['recall'])} | |")
    both = ev["combined"]
    lines.append(f"| baseline or model (the product's decision) | | | {both['alerts']:,} | {_fmt(both['precision'])} "
                 f"| {_fmt(both['recall'])} | |")
    cal = ev["model"]["calibration"]
    lines += ["", f"At the baseline's alert volume the model's threshold is {ev['model']['threshold']:.6f}; the "
              f"model flags on its own (fraud: reason MODEL; churn: the high propensity band) at "
              f"{card['model_threshold']}. Brier score "
              f"{cal['brier']:.6f}; predicted vs observed by decile of score:", "",
              "| predicted | observed | rows |", "|---|---|---|"]
    lines += [f"| {b['predicted']:.6f} | {b['observed']:.6f} | {b['rows']:,} |" for b in cal["bins"]]
    fpr = card["false_positive_rates"]
    lines += ["", f"## False-positive rate per group (overall {fpr['overall']:.6f}; flagged above "
              f"{fpr['flag_ratio']}x)", ""]
    for column, rows in fpr["groups"].items():
        lines += [f"| {column} | negatives | false-positive rate | flag |", "|---|---|---|---|"]
        lines += [f"| {value} | {r['negatives']:,} | {r['false_positive_rate']:.6f} | {'**ABOVE 1.5x**' if r['flagged'] else ''} |"
                  for value, r in rows.items()]
        lines.append("")
    if card.get("drift_evaluation_window"):
        from ml.drift import ALERT_PSI, status

        lines += [f"## Drift: population stability index, evaluation window vs training (alert above {ALERT_PSI})", "",
                  "| feature | PSI | status |", "|---|---|---|"]
        by_psi = sorted(card["drift_evaluation_window"].items(), key=lambda fv: (-fv[1], fv[0]))
        lines += [f"| {f} | {v:.4f} | {status(v)} |" for f, v in by_psi]
        lines.append("")
    lines += ["## Features and hyper-parameters", "",
              ", ".join(f"`{f}`" for f in card["features"]), "",
              ", ".join(f"{k} = {v}" for k, v in sorted(card["hyperparameters"].items())), ""]
    return "\n".join(lines)


def write_card(trained, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "card.json").write_text(json.dumps(trained.card, indent=2, sort_keys=True))
    (folder / "card.md").write_text(render_markdown(trained.card))
    (folder / "model.sql").write_text(trained.sql + "\n")
    return folder
