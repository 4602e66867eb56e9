"""Score the churn-risk band of the dbt engagement mart against the synthetic generator's churn ground truth.

    python -m scripts.evaluate_churn --duckdb dbt/fintech_analytics.duckdb --ground-truth demo_output/bank/ground_truth

The model never reads the labels; only this script does. A churner is a customer in churn_labels.csv whose churn
started on or before the mart's reporting date (as_of_date): a churn that has not begun cannot show. Per band:
customers and churners in it; for the `high` band (the retention team's call list) and for `medium or high`:
precision = churners in the band / customers in the band, recall = churners in the band / churners.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from scripts.evaluation import argument_parser, format_ratio, publish, query_duckdb, ratio, read_ground_truth, require_duckdb

BANDS = ("low", "medium", "high")


def load_churn_labels(ground_truth: Path) -> dict[str, date]:
    return {r["customer_id"]: date.fromisoformat(r["churn_start_date"])
            for r in read_ground_truth(ground_truth, "churn_labels.csv")}


def load_engagement_duckdb(db_path: Path, schema: str = "analytics_marts") -> list[tuple[str, date, str, int]]:
    return query_duckdb(db_path, f"select customer_id, as_of_date, churn_risk_band, churn_risk_score "
                                 f"from {schema}.fct_customer_engagement")


def evaluate(rows: list[tuple[str, date, str, int]], labels: dict[str, date]) -> dict:
    unknown = sorted({band for _, _, band, _ in rows} - set(BANDS))
    if unknown:
        raise ValueError(f"bands {unknown} are not {BANDS}: update BANDS in scripts/evaluate_churn.py")
    churners = {c for c, as_of, _, _ in rows if c in labels and labels[c] <= as_of}
    report: dict = {"customers": len(rows), "churners": len(churners), "bands": {}}
    for band in BANDS:
        members = [c for c, _, b, _ in rows if b == band]
        report["bands"][band] = {"customers": len(members), "churners": sum(1 for c in members if c in churners)}
    for name, bands in (("high", {"high"}), ("medium_or_high", {"medium", "high"})):
        flagged = {c for c, _, b, _ in rows if b in bands}
        hits = len(flagged & churners)
        report[name] = {"flagged": len(flagged), "precision": ratio(hits, len(flagged)),
                        "recall": ratio(hits, len(churners))}
    scores = sorted(((s, c in churners) for c, _, _, s in rows), reverse=True)
    top = scores[:len(churners)]
    # how well the score ranks churners, whatever the band cut-offs: precision among the top-|churners| scores
    report["precision_at_churner_count"] = ratio(sum(1 for _, is_churner in top if is_churner), len(top))
    return report


def format_table(report: dict) -> str:
    lines = [f"{'band':<8}{'customers':>10}{'churners':>10}"]
    lines += [f"{band:<8}{b['customers']:>10}{b['churners']:>10}" for band, b in report["bands"].items()]
    for name in ("high", "medium_or_high"):
        r = report[name]
        lines.append(f"{name}: {r['flagged']} flagged, precision {format_ratio(r['precision'])}, "
                     f"recall {format_ratio(r['recall'])}")
    lines.append(f"{report['churners']} churners among {report['customers']} customers; precision at the churner "
                 f"count (ranking quality) {format_ratio(report['precision_at_churner_count'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = argument_parser(__doc__.splitlines()[0], "fct_customer_engagement").parse_args(argv)
    require_duckdb(args.duckdb)
    report = evaluate(load_engagement_duckdb(args.duckdb, args.schema), load_churn_labels(args.ground_truth))
    publish(format_table(report), report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
