"""What the evaluate_* scripts share: they score a dbt mart in the local DuckDB file against a ground-truth CSV of the
synthetic generator (which no model reads), with the same command line, ratios and error messages."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path


def ratio(numerator: int, denominator: int) -> float | None:
    """A precision or recall rounded to 4 places; None when nothing was counted (no claim either way)."""
    return round(numerator / denominator, 4) if denominator else None


def format_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def read_ground_truth(ground_truth: Path, file_name: str) -> list[dict[str, str]]:
    path = ground_truth / file_name
    if not path.exists():
        raise SystemExit(f"no {path}: run `python -m synthetic_bank --out DIR` and pass --ground-truth DIR/ground_truth")
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def query_duckdb(db_path: Path, sql: str) -> list[tuple]:
    import duckdb  # only the scripts' command line needs it; tests pass rows directly

    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def argument_parser(description: str, mart: str) -> argparse.ArgumentParser:
    """The options every evaluate_* script takes; ``mart`` names the model it reads, for the --schema help."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--duckdb", type=Path, required=True, help="DuckDB file the `local` dbt target built")
    parser.add_argument("--ground-truth", type=Path, required=True, help="the generator's ground_truth/ folder")
    parser.add_argument("--schema", default="analytics_marts", help=f"schema holding {mart}")
    parser.add_argument("--json", type=Path, help="also write the report as JSON here")
    return parser


def publish(table: str, report: dict, json_path: Path | None) -> None:
    """Print the report's table; also write the report as JSON when asked (dates as ISO text)."""
    print(table)
    if json_path:
        json_path.write_text(json.dumps(report, indent=2, default=str))


def require_duckdb(db_path: Path) -> None:
    if not db_path.exists():
        raise SystemExit(f"no {db_path}: build it with `dbt build --project-dir dbt --profiles-dir dbt --target local`")
