"""The demo's shared vocabulary: where things are (DemoContext), what a step returns (StepResult), the one error a
user can act on (DemoError). scripts/demo.py runs the steps; scripts/demo_warehouse.py holds the warehouse's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUT_DIR = REPO_ROOT / "demo_output"
DBT_DIR = REPO_ROOT / "dbt"
GENERATED_BATCH_ID = "synthetic-001"


class DemoError(Exception):
    """A failure the user can act on: the message says what failed and what to do, in one line."""


@dataclass
class StepResult:
    headline: str  # one line for the summary table
    summary: Any  # JSON-serializable section of summary.json under the step's name
    table: list[list[str]] | None = None  # optional detail rows printed after the summary table
    table_header: list[str] | None = None


@dataclass
class DemoContext:
    output_dir: Path
    customers: int | None = None  # synthetic bank scale; None = the generator's defaults
    days: int | None = None
    seed: int | None = None
    ranges: str | None = None  # the scenarios' parameter ranges preset (synthetic_bank/scenarios/ranges.py)
    summary: dict[str, Any] = field(default_factory=dict)

    # Fixed places under the output folder: every step finds its inputs without state from earlier steps.
    @property
    def bank_dir(self) -> Path:
        return self.output_dir / "bank"

    @property
    def landing(self) -> Path:
        return self.bank_dir / "landing"

    @property
    def ground_truth(self) -> Path:
        return self.bank_dir / "ground_truth"

    @property
    def lake(self) -> Path:
        return self.output_dir / "lake"

    @property
    def duckdb_path(self) -> Path:
        return self.output_dir / "fintech_analytics.duckdb"

    @property
    def dbt_target(self) -> Path:
        return self.output_dir / "dbt" / "target"

    def log(self, message: str) -> None:
        print(f"    {message}", flush=True)

    def require(self, path: Path, made_by: str) -> None:
        if not path.exists():
            raise DemoError(f"{path} does not exist: run the {made_by} step first "
                            f"(python -m scripts.demo, or --steps {made_by} ...)")


@dataclass(frozen=True)
class Step:
    name: str
    description: str
    run: Callable[[DemoContext], StepResult]
