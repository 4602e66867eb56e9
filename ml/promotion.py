"""The promotion gate: a newly trained model replaces what runs today only if it beats it on the latest window.

What runs today is the promoted model of the last run (its card's evaluation, re-scored on the same window by the
caller) or, before any model was promoted, the baseline alone (the rules' fraud_score, the heuristic churn score).
The candidate must beat it on PR-AUC by more than `margin`, and then:
- against a promoted model: keep its recall at the same alert volume (a model that ranks better overall but
  catches fewer at today's workload is not promoted);
- against the baseline alone: the model joins it (baseline alerts OR the model's own, reason MODEL), so that
  decision must not lose more than `max_precision_drop` of the baseline's precision (its recall cannot fall).
  The model's recall at the baseline's alert volume is on the card; the rules read a whole batch (a burst's
  first legs are flagged once the burst is seen) while the model's features stop at each event, so the model
  alone can catch fewer at that volume and still be the better ranking.
A refusal says why, in one line, for the alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Decision:
    promoted: bool
    reason: str
    incumbent: str  # "model <version>" or "baseline <score>"


def decide(candidate: dict, incumbent: dict | None = None, margin: float = 0.0,
           max_precision_drop: float = 0.02) -> Decision:
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
    if incumbent is not None:
        if old.get("recall") is not None and (new.get("recall") or 0) < old["recall"]:
            return Decision(False, f"{name} not promoted: recall {new['recall']:.4f} at today's alert volume is below "
                                   f"{who}'s {old['recall']:.4f}", who)
        return Decision(True, f"{name} promoted: PR-AUC {new['pr_auc']:.4f} vs {who}'s {old['pr_auc']:.4f}, recall "
                              f"{_fmt(new.get('recall'))} vs {_fmt(old.get('recall'))} at the same alert volume", who)
    both = candidate["evaluation"].get("combined")
    if both is not None and old.get("precision") is not None and \
            (both["precision"] or 0) < old["precision"] - max_precision_drop:
        return Decision(False, f"{name} not promoted: {who} or the model has precision {both['precision']:.4f}, "
                               f"more than {max_precision_drop} below {who}'s {old['precision']:.4f}", who)
    return Decision(True, f"{name} promoted beside {who}: PR-AUC {new['pr_auc']:.4f} vs {old['pr_auc']:.4f}; "
                          f"both together: precision {_fmt(both and both['precision'])} vs {_fmt(old.get('precision'))}, "
                          f"recall {_fmt(both and both['recall'])} vs {_fmt(old.get('recall'))}", who)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4f}"


NO_MODEL_SCORE = "cast(null as double precision)"


def write_dbt_macros(folder: Path, name: str, version: str | None, sql: str | None, note: str,
                     reference: list | None = None) -> Path:
    """What dbt scores with: `<folder>/<name>.sql` holding the macros `<name>_version()`, `<name>_score()` and
    `<name>_reference()` (the training window's bins and shares per feature and score, ml/drift.py, for the drift
    mart), which dbt/macros/models.sql reads from the directory DBT_PROMOTED_MODELS_DIR names. version None: no
    model promoted (version 'none', a null score, no reference - the rules alone alert), as in the shipped
    dbt/promoted_models/."""
    import json
    if (version is None) != (sql is None):
        raise ValueError("a promoted model needs both its version and its SQL")
    sql = NO_MODEL_SCORE if sql is None else sql.strip()
    if any(token in sql for token in ("{", "}")):  # Jinja would read it as a template
        raise ValueError(f"{name}: the model SQL contains a brace and cannot be a dbt macro")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.sql"
    note = " ".join(note.replace("#}", "# }").split())
    path.write_text(f"{{#- {name} {version or 'none'}: {note} Written by ml/promotion.py - do not edit. -#}}\n"
                    f"{{% macro {name}_version() %}}{version or 'none'}{{% endmacro %}}\n"
                    f"{{% macro {name}_score() %}}{sql}{{% endmacro %}}\n"
                    f"{{% macro {name}_reference() %}}{{{{ return(fromjson('{json.dumps(reference or [])}')) }}}}"
                    f"{{% endmacro %}}\n")
    return path
