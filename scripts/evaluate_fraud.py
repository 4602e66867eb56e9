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

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

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
    path = ground_truth / "fraud_labels.csv"
    if not path.exists():
        raise SystemExit(f"no {path}: run `python -m synthetic_bank --out DIR` and pass --ground-truth DIR/ground_truth")
    with path.open(newline="") as f:
        return {(r["entity_type"], r["entity_id"]): r["scenario"] for r in csv.DictReader(f)}


def load_alerts_duckdb(db_path: Path, schema: str = "analytics_marts") -> list[tuple[str, str, str]]:
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(f"select entity_type, entity_id, reason_codes from {schema}.fraud_alerts").fetchall()


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
            "recall": round(len(alerted) / len(members), 4) if members else None,
            "attributed_recall": round(len(attributed) / len(members), 4) if members else None,
            "family_alerts": len(family_alerts),
            "precision": round(len(true_alerts) / len(family_alerts), 4) if family_alerts else None,
        }
    labelled_alerts = sum(1 for k in alert_codes if k in labels)
    report["overall_precision"] = round(labelled_alerts / len(alert_codes), 4) if alert_codes else None
    report["overall_recall"] = round(sum(1 for k in labels if k in alert_codes) / len(labels), 4) if labels else None
    report["meets_goals"] = all(
        (f["recall"] is None or f["recall"] >= RECALL_GOAL) and (f["precision"] is None or f["precision"] >= PRECISION_GOAL)
        for f in report["families"].values()
    )
    return report


def format_table(report: dict) -> str:
    lines = [f"{'family':<22}{'labelled':>9}{'alerted':>9}{'recall':>8}{'attrib.':>9}{'alerts':>8}{'precision':>10}"]
    for name, f in report["families"].items():
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        lines.append(f"{name:<22}{f['labelled']:>9}{f['alerted']:>9}{fmt(f['recall']):>8}{fmt(f['attributed_recall']):>9}"
                     f"{f['family_alerts']:>8}{fmt(f['precision']):>10}")
    lines.append(f"overall: {report['alerts']} alerts, precision {report['overall_precision']}, recall {report['overall_recall']}"
                 f" -> goals {'met' if report['meets_goals'] else 'NOT met'} (recall >= {RECALL_GOAL}, precision >= {PRECISION_GOAL})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duckdb", type=Path, required=True, help="DuckDB file the `local` dbt target built")
    parser.add_argument("--ground-truth", type=Path, required=True, help="the generator's ground_truth/ folder")
    parser.add_argument("--schema", default="analytics_marts", help="schema holding fraud_alerts")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    if not args.duckdb.exists():
        raise SystemExit(f"no {args.duckdb}: build it with `dbt build --project-dir dbt --profiles-dir dbt --target local`")
    report = evaluate(load_alerts_duckdb(args.duckdb, args.schema), load_labels(args.ground_truth))
    print(format_table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if args.check and not report["meets_goals"] else 0


if __name__ == "__main__":
    sys.exit(main())
