"""Score the dbt fraud_alerts mart against the synthetic generator's ground truth, per scenario family.

    python -m scripts.evaluate_fraud --duckdb dbt/fintech_analytics.duckdb --ground-truth demo_output/bank/ground_truth

Definitions (the models never read the labels; only this script does):
- An alert is one row of fraud_alerts: (entity_type, entity_id) = a transaction or a login.
- Each reason code maps to one scenario family (REASON_FAMILY below). AMOUNT_ANOMALY is generic and maps to none.
- recall(scenario) = labelled entities of that scenario that raised an alert (any reason) / labelled entities of
  that scenario. `attributed_recall` additionally requires a reason code of the scenario's own family.
- precision(family) = alerts carrying at least one reason code of that family whose entity is labelled fraud
  (any scenario: a correct fraud alert is correct whichever rule fired) / alerts carrying that family's code.
- overall precision = labelled alerts / all alerts; overall recall = alerted labelled entities / labelled entities.
Goal: recall >= 0.95 and precision >= 0.90 per family (`--check` exits 1 if any is missed).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from scripts.evaluation import argument_parser, format_ratio, publish, query_duckdb, ratio, read_ground_truth, require_duckdb

REASON_FAMILY: dict[str, str | None] = {
    "CARD_TESTING": "card_testing",
    "ATO_TRANSFER": "account_takeover",
    "FAILED_BURST": "account_takeover",
    "NEW_DEVICE": "account_takeover",
    "NEW_COUNTRY": "account_takeover",
    "GEO_VELOCITY": "account_takeover",
    "IMPOSSIBLE_TRAVEL": "impossible_travel",
    "STRUCTURING": "structuring",
    "VELOCITY": "velocity_burst",
    "DORMANT_REACTIVATION": "dormant_reactivation",
    "HIGH_RISK_GEO": "high_risk_geography",
    "AMOUNT_ANOMALY": None,
}
RECALL_GOAL = 0.95
PRECISION_GOAL = 0.90


def load_labels(ground_truth: Path) -> dict[tuple[str, str], str]:
    return {(r["entity_type"], r["entity_id"]): r["scenario"]
            for r in read_ground_truth(ground_truth, "fraud_labels.csv")}


def load_alerts_duckdb(db_path: Path, schema: str = "analytics_marts") -> list[tuple[str, str, str]]:
    return query_duckdb(db_path, f"select entity_type, entity_id, reason_codes from {schema}.fraud_alerts")


def evaluate(alerts: list[tuple[str, str, str]], labels: dict[tuple[str, str], str]) -> dict:
    unknown = sorted({c for _, _, codes in alerts for c in (codes or "").split(",") if c and c not in REASON_FAMILY})
    if unknown:
        raise ValueError(f"reason codes {unknown} have no family: add them to REASON_FAMILY in scripts/evaluate_fraud.py")
    alert_codes = {(t, i): set(filter(None, (codes or "").split(","))) for t, i, codes in alerts}

    by_scenario: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, scenario in labels.items():
        by_scenario[scenario].append(key)

    families = sorted(set(by_scenario) | {f for f in REASON_FAMILY.values() if f})
    report: dict = {"families": {}, "alerts": len(alert_codes), "labelled_entities": len(labels)}
    for family in families:
        members = by_scenario.get(family, [])
        alerted = [k for k in members if k in alert_codes]
        attributed = [k for k in alerted if any(REASON_FAMILY[c] == family for c in alert_codes[k])]
        family_alerts = [k for k, codes in alert_codes.items() if any(REASON_FAMILY[c] == family for c in codes)]
        true_alerts = [k for k in family_alerts if k in labels]
        report["families"][family] = {
            "labelled": len(members),
            "alerted": len(alerted),
            "recall": ratio(len(alerted), len(members)),
            "attributed_recall": ratio(len(attributed), len(members)),
            "family_alerts": len(family_alerts),
            "precision": ratio(len(true_alerts), len(family_alerts)),
        }
    labelled_alerts = sum(1 for k in alert_codes if k in labels)
    report["overall_precision"] = ratio(labelled_alerts, len(alert_codes))
    report["overall_recall"] = ratio(sum(1 for k in labels if k in alert_codes), len(labels))
    report["meets_goals"] = all(
        (f["recall"] is None or f["recall"] >= RECALL_GOAL) and (f["precision"] is None or f["precision"] >= PRECISION_GOAL)
        for f in report["families"].values()
    )
    return report


def format_table(report: dict) -> str:
    lines = [f"{'family':<22}{'labelled':>9}{'alerted':>9}{'recall':>8}{'attrib.':>9}{'alerts':>8}{'precision':>10}"]
    for name, f in report["families"].items():
        lines.append(f"{name:<22}{f['labelled']:>9}{f['alerted']:>9}{format_ratio(f['recall']):>8}"
                     f"{format_ratio(f['attributed_recall']):>9}{f['family_alerts']:>8}{format_ratio(f['precision']):>10}")
    lines.append(f"overall: {report['alerts']} alerts, precision {report['overall_precision']}, recall {report['overall_recall']}"
                 f" -> goals {'met' if report['meets_goals'] else 'NOT met'} (recall >= {RECALL_GOAL}, precision >= {PRECISION_GOAL})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argument_parser(__doc__.splitlines()[0], "fraud_alerts")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    require_duckdb(args.duckdb)
    report = evaluate(load_alerts_duckdb(args.duckdb, args.schema), load_labels(args.ground_truth))
    publish(format_table(report), report, args.json)
    return 1 if args.check and not report["meets_goals"] else 0


if __name__ == "__main__":
    sys.exit(main())
