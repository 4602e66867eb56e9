"""Write the reports (regulatory for --date, executive for --date's month): `python -m reports.run --duckdb PATH --out DIR [--date YYYY-MM-DD] [--manifests DIR]
[--dbt-target DIR]` -> DIR/<report>/<date>.pdf and DIR/<report>/<date>/<table>.csv; prints pages and rows."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from reports import executive, pdf, regulatory


def write(report: regulatory.Report, out_dir: Path) -> dict:
    """PDF + one CSV per table; -> {pages, rows, path, csv}."""
    folder = out_dir / report.name
    stem = report.report_date.isoformat()
    pages = pdf.render(report.document, folder / f"{stem}.pdf")
    csv_dir = folder / stem
    csv_dir.mkdir(parents=True, exist_ok=True)
    rows = {}
    for name, frame in report.tables.items():
        frame.to_csv(csv_dir / f"{name}.csv", index=False)
        rows[name] = len(frame)
    return {"pages": pages, "rows": rows, "path": str(folder / f"{stem}.pdf"), "csv": str(csv_dir)}


def local_quality(manifests: Path | None, dbt_target: Path | None) -> regulatory.QualityInputs:
    def load(path: Path | None):
        return json.loads(path.read_text()) if path and path.is_file() else None

    found = sorted(manifests.rglob("*.json")) if manifests and manifests.is_dir() else []
    return regulatory.QualityInputs([json.loads(p.read_text()) for p in found],
                                    load(dbt_target / "run_results.json") if dbt_target else None,
                                    load(dbt_target / "sources.json") if dbt_target else None)


def churn_bands() -> dict:
    """The heuristic churn bands' thresholds, as the engagement mart applies them (dbt vars)."""
    import yaml

    project = Path(__file__).resolve().parents[1] / "dbt" / "dbt_project.yml"
    variables = yaml.safe_load(project.read_text())["vars"]
    return {"churn_medium": float(variables["churn_medium_score"]), "churn_high": float(variables["churn_high_score"])}


def main(argv: list[str] | None = None) -> int:
    from ml.warehouse import duckdb_reader

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duckdb", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--date", type=date.fromisoformat)
    parser.add_argument("--manifests", type=Path)
    parser.add_argument("--dbt-target", type=Path)
    args = parser.parse_args(argv)
    read = duckdb_reader(args.duckdb)
    reports = [regulatory.build(read, args.date, local_quality(args.manifests, args.dbt_target)),
               executive.build(read, args.date, **churn_bands())]
    print(json.dumps({r.name: write(r, args.out) for r in reports}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
