"""The models at 1 M transactions: training (frame read, fit, card, SQL export, gate) and scoring inside the warehouse.

The 1 M bank of bench_dbt (5,000 customers, 60 days) is generated, written as typed raw Parquet (scripts.raw_lake)
and built by dbt once (not measured here: bench_dbt does). Then, as `make demo`'s models step does:
  1. per model, ml.models.train_and_gate on the DuckDB warehouse: read the features frame, fit, write card and SQL,
     gate, write the dbt macros                                                             -> "training"
  2. dbt scores with the promoted models: `dbt run --full-refresh` of fct_transaction_model_scores and
     fct_customer_churn_scores (every transaction / every customer scored by the exported SQL)  -> "scoring"
Goal (issue 14): training + scoring of both models <= 60 s on this machine. dbt's own start-up is part of
"scoring" wall time; its model execution time (run_results.json) is reported beside it.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.bench_dbt import SCALES
from bench.run import Measurement
from scripts.raw_lake import write_raw_lake
from tests.fixtures.dbt import dbt_env, run_dbt

SCORING_MODELS = ("fct_transaction_model_scores", "fct_customer_churn_scores")


def run() -> list[Measurement]:
    from ml.models import MODELS, train_and_gate
    from synthetic_bank import BankConfig, generate

    with tempfile.TemporaryDirectory(prefix="bench_models_") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        bank = generate(BankConfig(seed=11, **SCALES["1m"]), work / "bank")
        counts = write_raw_lake(bank.landing, work / "lake")
        db = work / "fintech_analytics.duckdb"
        env = dbt_env(DBT_RAW_ROOT=str(work / "lake"), DBT_DUCKDB_PATH=str(db))
        for args in (["seed"], ["run"]):
            result = run_dbt(args, target="local", target_path=work / "target", env=env)
            if result.returncode != 0:
                raise RuntimeError(f"dbt {args[0]} failed: {result.output[-500:]}")
        prepare = time.perf_counter() - started

        out: list[Measurement] = []
        training = 0.0
        models_dir = work / "models"
        for name, spec in MODELS.items():
            t0 = time.perf_counter()
            trained, decision = train_and_gate(spec, db, models_dir)
            seconds = time.perf_counter() - t0
            training += seconds
            window = trained.card["data_window"]
            ev = trained.card["evaluation"]
            out.append(Measurement(
                f"{name} training (read, fit, card, SQL, gate)", round(seconds, 1), "s",
                detail=f"{window['training_rows']:,} training rows, {window['evaluation_rows']:,} judged; PR-AUC "
                       f"{ev['model']['pr_auc']} vs baseline {ev['baseline']['pr_auc']}; "
                       f"{'promoted' if decision.promoted else 'not promoted'}"))

        t0 = time.perf_counter()
        result = run_dbt(["run", "--full-refresh", "--select", *SCORING_MODELS], target="local",
                         target_path=work / "scoring",
                         env={**env, "DBT_PROMOTED_MODELS_DIR": str(models_dir / "dbt_macros")})
        scoring = time.perf_counter() - t0
        if result.returncode != 0:
            raise RuntimeError(f"dbt scoring failed: {result.output[-500:]}")
        model_seconds = sum(r["execution_time"] for r in result.results)
        import duckdb

        with duckdb.connect(str(db), read_only=True) as con:
            scored = con.execute("select count(*), count(model_score) from analytics_marts.fct_transaction_model_scores"
                                 ).fetchone()
            customers = con.execute("select count(*) from analytics_marts.fct_customer_churn_scores").fetchone()[0]
        total = training + scoring
        out += [
            Measurement("1m data prep (generate, raw parquet, dbt build)", round(prepare, 1), "s",
                        detail=f"{counts['transactions']:,} transactions"),
            Measurement("scoring in dbt (both models, full refresh)", round(scoring, 1), "s",
                        detail=f"{scored[0]:,} transactions ({scored[1]:,} with a score), {customers:,} customer "
                               f"rows; model execution {model_seconds:.1f} s of it"),
            Measurement("training + scoring, both models", round(total, 1), "s", goal="<= 60", met=total <= 60,
                        detail=f"{counts['transactions']:,} transactions"),
        ]
        return out
