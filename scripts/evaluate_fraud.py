"""Score the dbt fraud_alerts mart against the synthetic generator's ground truth, per scenario family, and its
false-positive rate on the hard negatives (legitimate behaviour that looks like fraud).

    python -m scripts.evaluate_fraud --duckdb dbt/fintech_analytics.duckdb --ground-truth demo_output/bank/ground_truth

Definitions (the models never read the labels; only this script does):
- An alert is one row of fraud_alerts: (entity_type, entity_id) = a transaction or a login.
- Each reason code belongs to one rule family (REASON_FAMILY below; AMOUNT_ANOMALY is generic and belongs to
  none). A scenario is caught by its rule family (SCENARIO_RULES: a variant such as card_testing_late_cashout is
  caught by the card_testing rules; otherwise the family of the scenario's own name).
- recall(scenario) = labelled entities of that scenario that raised an alert (any reason) / labelled entities of
  that scenario. `attributed_recall` additionally requires a reason code of the scenario's rule family.
- precision(scenario) = alerts carrying at least one reason code of its rule family whose entity is labelled
  fraud (any scenario: a correct fraud alert is correct whichever rule fired) / alerts carrying such a code. Two
  scenarios caught by the same rules share that figure.
- overall precision = labelled alerts / all alerts; overall recall = alerted labelled entities / labelled entities.
- hard negatives: an episode is one customer's legitimate behaviour of one kind (ground_truth/hard_negatives.csv
  lists its transactions and logins); false_positive_rate(kind) = episodes with at least one alerted entity /
  episodes (each is one investigation an analyst would open for nothing); `entity_false_positive_rate` counts
  entities instead, and `codes` says which rules fired on them.
Goals: recall >= 0.90 and precision >= 0.85 per scenario, false-positive rate <= 0.10 per hard-negative kind
(`--check` exits 1 if any is missed).
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
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
    "MONEY_MULE": "money_mule",
    "AMOUNT_ANOMALY": None,
    # the promoted fraud classifier (fct_transaction_model_scores): learnt from confirmed outcomes, no one typology
    "MODEL": None,
}
# scenario -> the rule family that catches it, where that is not the scenario's own name
SCENARIO_RULES: dict[str, str] = {
    "card_testing_late_cashout": "card_testing",
    "account_takeover_few_guesses": "account_takeover",
}
RECALL_GOAL = 0.90
PRECISION_GOAL = 0.85
FALSE_POSITIVE_GOAL = 0.10


def load_labels(ground_truth: Path) -> dict[tuple[str, str], str]:
    return {(r["entity_type"], r["entity_id"]): r["scenario"]
            for r in read_ground_truth(ground_truth, "fraud_labels.csv")}


def load_hard_negatives(ground_truth: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(entity_type, entity_id) -> (customer_id, kind) of every hard-negative episode's entities."""
    return {(r["entity_type"], r["entity_id"]): (r["customer_id"], r["kind"])
            for r in read_ground_truth(ground_truth, "hard_negatives.csv")}


def load_alerts_duckdb(db_path: Path, schema: str = "analytics_marts") -> list[tuple[str, str, str]]:
    return query_duckdb(db_path, f"select entity_type, entity_id, reason_codes from {schema}.fraud_alerts")


def _codes(alert_codes: set[str], rules: str) -> bool:
    return any(REASON_FAMILY[c] == rules for c in alert_codes)


def evaluate(alerts: list[tuple[str, str, str]], labels: dict[tuple[str, str], str],
             hard_negatives: dict[tuple[str, str], tuple[str, str]] | None = None) -> dict:
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
        rules = SCENARIO_RULES.get(family, family)
        members = by_scenario.get(family, [])
        alerted = [k for k in members if k in alert_codes]
        attributed = [k for k in alerted if _codes(alert_codes[k], rules)]
        family_alerts = [k for k, codes in alert_codes.items() if _codes(codes, rules)]
        true_alerts = [k for k in family_alerts if k in labels]
        report["families"][family] = {
            "rules": rules,
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
    model = [k for k, codes in alert_codes.items() if "MODEL" in codes]
    report["model_alerts"] = len(model)
    report["model_alert_precision"] = ratio(sum(1 for k in model if k in labels), len(model))
    report["hard_negatives"] = _hard_negatives(alert_codes, hard_negatives or {})
    report["meets_goals"] = all(
        (f["recall"] is None or f["recall"] >= RECALL_GOAL) and (f["precision"] is None or f["precision"] >= PRECISION_GOAL)
        for f in report["families"].values()
    ) and all(k["false_positive_rate"] is None or k["false_positive_rate"] <= FALSE_POSITIVE_GOAL
              for k in report["hard_negatives"].values())
    return report


def _hard_negatives(alert_codes: dict[tuple[str, str], set[str]],
                    negatives: dict[tuple[str, str], tuple[str, str]]) -> dict:
    episodes: dict[str, set[str]] = defaultdict(set)
    alerted_episodes: dict[str, set[str]] = defaultdict(set)
    entities: Counter = Counter()
    alerted_entities: Counter = Counter()
    codes: dict[str, Counter] = defaultdict(Counter)
    for key, (customer, kind) in negatives.items():
        episodes[kind].add(customer)
        entities[kind] += 1
        if key in alert_codes:
            alerted_episodes[kind].add(customer)
            alerted_entities[kind] += 1
            codes[kind].update(alert_codes[key])
    return {kind: {"episodes": len(episodes[kind]), "alerted_episodes": len(alerted_episodes[kind]),
                   "false_positive_rate": ratio(len(alerted_episodes[kind]), len(episodes[kind])),
                   "entities": entities[kind], "alerted_entities": alerted_entities[kind],
                   "entity_false_positive_rate": ratio(alerted_entities[kind], entities[kind]),
                   "codes": dict(sorted(codes[kind].items()))}
            for kind in sorted(episodes)}


def format_table(report: dict) -> str:
    lines = [f"{'scenario':<30}{'labelled':>9}{'alerted':>9}{'recall':>8}{'attrib.':>9}{'alerts':>8}{'precision':>10}"]
    for name, f in report["families"].items():
        lines.append(f"{name:<30}{f['labelled']:>9}{f['alerted']:>9}{format_ratio(f['recall']):>8}"
                     f"{format_ratio(f['attributed_recall']):>9}{f['family_alerts']:>8}{format_ratio(f['precision']):>10}")
    if report.get("hard_negatives"):
        lines.append(f"{'hard negative':<30}{'episodes':>9}{'alerted':>9}{'FPR':>8}  rules that fired")
        for kind, k in report["hard_negatives"].items():
            fired = ", ".join(f"{c} {n}" for c, n in k["codes"].items()) or "-"
            lines.append(f"{kind:<30}{k['episodes']:>9}{k['alerted_episodes']:>9}"
                         f"{format_ratio(k['false_positive_rate']):>8}  {fired}")
    lines.append(f"overall: {report['alerts']} alerts, precision {report['overall_precision']}, recall {report['overall_recall']}"
                 f" -> goals {'met' if report['meets_goals'] else 'NOT met'} (recall >= {RECALL_GOAL}, precision >= "
                 f"{PRECISION_GOAL}, hard-negative false-positive rate <= {FALSE_POSITIVE_GOAL})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argument_parser(__doc__.splitlines()[0], "fraud_alerts")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    require_duckdb(args.duckdb)
    report = evaluate(load_alerts_duckdb(args.duckdb, args.schema), load_labels(args.ground_truth),
                      load_hard_negatives(args.ground_truth))
    publish(format_table(report), report, args.json)
    return 1 if args.check and not report["meets_goals"] else 0


if __name__ == "__main__":
    sys.exit(main())
