"""Score the churn-risk band of the dbt engagement mart against the synthetic generator's churn ground truth.

    python -m scripts.evaluate_churn --duckdb dbt/fintech_analytics.duckdb --ground-truth demo_output/bank/ground_truth

The model never reads the labels; only this script does. A churner is a customer in churn_labels.csv whose churn
started on or before the mart's reporting date (as_of_date): a churn that has not begun cannot show. Per band:
customers and churners in it; for the `high` band (the retention team's call list) and for `medium or high`:
precision = churners in the band / customers in the band, recall = churners in the band / churners.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date
from pathlib import Path

BANDS = ("low", "medium", "high")


def load_churn_labels(ground_truth: Path) -> dict[str, date]:
    path = ground_truth / "churn_labels.csv"
    if not path.exists():
        raise SystemExit(f"no {path}: run `python -m synthetic_bank --out DIR` and pass --ground-truth DIR/ground_truth")
    with path.open(newline="") as f:
        return {r["customer_id"]: date.fromisoformat(r["churn_start_date"]) for r in csv.DictReader(f)}


def load_engagement_duckdb(db_path: Path, schema: str = "analytics_marts") -> list[tuple[str, date, str, int]]:
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(f"select customer_id, as_of_date, churn_risk_band, churn_risk_score "
                           f"from {schema}.fct_customer_engagement").fetchall()


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


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
        report[name] = {"flagged": len(flagged), "precision": _ratio(hits, len(flagged)),
                        "recall": _ratio(hits, len(churners))}
    scores = sorted(((s, c in churners) for c, _, _, s in rows), reverse=True)
    top = scores[:len(churners)]
    # how well the score ranks churners, whatever the band cut-offs: precision among the top-|churners| scores
    report["precision_at_churner_count"] = _ratio(sum(1 for _, is_churner in top if is_churner), len(top))
    return report


def format_table(report: dict) -> str:
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    lines = [f"{'band':<8}{'customers':>10}{'churners':>10}"]
    lines += [f"{band:<8}{b['customers']:>10}{b['churners']:>10}" for band, b in report["bands"].items()]
    for name in ("high", "medium_or_high"):
        r = report[name]
        lines.append(f"{name}: {r['flagged']} flagged, precision {fmt(r['precision'])}, recall {fmt(r['recall'])}")
    lines.append(f"{report['churners']} churners among {report['customers']} customers; precision at the churner "
                 f"count (ranking quality) {fmt(report['precision_at_churner_count'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duckdb", type=Path, required=True, help="DuckDB file the `local` dbt target built")
    parser.add_argument("--ground-truth", type=Path, required=True, help="the generator's ground_truth/ folder")
    parser.add_argument("--schema", default="analytics_marts", help="schema holding fct_customer_engagement")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    args = parser.parse_args(argv)
    if not args.duckdb.exists():
        raise SystemExit(f"no {args.duckdb}: build it with `dbt build --project-dir dbt --profiles-dir dbt --target local`")
    report = evaluate(load_engagement_duckdb(args.duckdb, args.schema), load_churn_labels(args.ground_truth))
    print(format_table(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
