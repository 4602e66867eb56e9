"""The promotion gate: a newly trained model replaces what runs today only if it beats it on the latest window.

What runs today is the promoted model of the last run (its card's evaluation, re-scored on the same window by the
caller) or, before any model was promoted, the baseline beside it (the rules' fraud_score, the heuristic churn
score). The candidate must beat it on PR-AUC by at least `margin`, and keep the incumbent's recall at the same
alert volume (a model that ranks better overall but catches fewer at today's workload is not promoted). A refusal
says why, in one line, for the alert.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    promoted: bool
    reason: str
    incumbent: str  # "model <version>" or "baseline <score>"


def decide(candidate: dict, incumbent: dict | None = None, margin: float = 0.0) -> Decision:
    """`candidate`: the new model's card; `incumbent`: the promoted model's card evaluated on the same window, or
    None (then the candidate's own baseline figures are what runs today)."""
    new = candidate["evaluation"]["model"]
    if incumbent is None:
        old, who = candidate["evaluation"]["baseline"], f"baseline {candidate['evaluation']['baseline']['score']}"
    else:
        old, who = incumbent["evaluation"]["model"], f"model {incumbent['version']}"
    name = f"{candidate['model']} {candidate['version']}"
    if new["pr_auc"] is None or old["pr_auc"] is None:
        return Decision(False, f"{name} not promoted: no positive outcome in the latest window to judge it on", who)
    if new["pr_auc"] <= old["pr_auc"] + margin:  # a tie (e.g. the same model retrained) keeps what runs
        return Decision(False, f"{name} not promoted: PR-AUC {new['pr_auc']:.4f} on the latest window does not beat "
                               f"{who}'s {old['pr_auc']:.4f}" + (f" by {margin}" if margin else ""), who)
    if old.get("recall") is not None and (new.get("recall") or 0) < old["recall"]:
        return Decision(False, f"{name} not promoted: recall {new['recall']:.4f} at today's alert volume is below "
                               f"{who}'s {old['recall']:.4f}", who)
    return Decision(True, f"{name} promoted: PR-AUC {new['pr_auc']:.4f} vs {who}'s {old['pr_auc']:.4f}, recall "
                          f"{_fmt(new.get('recall'))} vs {_fmt(old.get('recall'))} at the same alert volume", who)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4f}"
