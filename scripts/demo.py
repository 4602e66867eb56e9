"""`make demo`: run the platform end to end on this machine, as a sequence of named steps.

    python -m scripts.demo [--steps generate ingest ...] [--customers N --days N --seed N --ranges standard|wide]
                           [--output-dir demo_output]

generate (synthetic bank + the seed's sample extracts into a landing folder) → ingest (the Glue job's transforms on
ONE local SparkSession into a Parquet lake) → dbt (`dbt build` + `dbt docs generate` on DuckDB, target `local`) →
models (the fraud classifier trained, judged beside the rules, promotion gate, every transaction scored in dbt with
what it promoted) → fraud_evaluation (the alerts - rules or model - scored against the generator's ground truth) →
dashboards (the three QuickSight definitions rendered to PNG + HTML) →
synth (dev, staging, prod with the compliance packs; in parallel processes on a machine with a core per
environment).

Each step prints its progress, fails fast with one clear line and a non-zero exit, and contributes a section to
demo_output/summary.json (key = step name); `run` in that file holds each step's status, seconds and peak memory.
A summary table closes the run. Steps read their inputs from fixed places under the output folder, so a subset can
re-run on a previous run's output, e.g. ``--steps dbt fraud_evaluation dashboards``.

Adding a step: write ``def my_step(ctx: DemoContext) -> StepResult`` and insert ``Step("name", "what it does",
my_step)`` into STEPS at its place in the flow. Raise ``DemoError("what failed: what to do")`` for a failure the
user can act on.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import traceback
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from scripts.demo_context import GENERATED_BATCH_ID, OUTPUT_DIR, REPO_ROOT, DemoContext, DemoError, Step, StepResult
from scripts.demo_warehouse import dbt_results_summary, dbt_step, models_step
from scripts.process_memory import PeakMemory

# what tests and bench use through scripts.demo
__all__ = ["DemoContext", "DemoError", "Step", "StepResult", "dbt_results_summary", "run", "main"]


# --- generate -----------------------------------------------------------------------------------------------------


def generate_step(ctx: DemoContext) -> StepResult:
    """Synthetic bank into <out>/bank/landing (+ ground truth), then the seed's sample extracts as their own date."""
    from glue_jobs.local_run import SAMPLES_INGEST_DATE, land_samples, landing_dates
    from synthetic_bank import BankConfig, generate

    overrides = {k: v for k, v in (("customers", ctx.customers), ("days", ctx.days),
                                                     ("seed", ctx.seed), ("ranges", ctx.ranges))
                 if v is not None}
    config = BankConfig(**overrides)
    # A previous run's files would be ingested again next to the new ones: start from an empty landing folder.
    shutil.rmtree(ctx.bank_dir, ignore_errors=True)
    ctx.log(f"generating {config.customers:,} customers over {config.days} days "
            f"(seed {config.seed}, {config.ranges} ranges, last business date {config.end_date}) into {ctx.bank_dir}")
    bank = generate(config, ctx.bank_dir)
    dates = landing_dates(bank.landing)
    if SAMPLES_INGEST_DATE in dates:
        raise DemoError(f"the generated window overlaps the seed samples' date {SAMPLES_INGEST_DATE}: "
                        f"use fewer --days")
    sample_tables = land_samples(bank.landing)
    ctx.log(f"landed the seed samples of {', '.join(sample_tables)} under ingest_date={SAMPLES_INGEST_DATE}")
    rows = dict(bank.rows)
    return StepResult(
        headline=f"{rows.get('transactions', 0):,} transactions, {sum(rows.values()):,} rows in "
                 f"{len(rows)} tables over {len(dates)} days, {sum(bank.labels.values()):,} labelled entities",
        summary={"customers": config.customers, "days": config.days, "seed": config.seed, "ranges": config.ranges,
                 "end_date": str(config.end_date), "ingest_dates": len(dates), "rows": rows,
                 "labels": dict(bank.labels), "hard_negatives": dict(bank.hard_negatives),
                 "seed_sample_tables": sample_tables,
                 "landing": str(bank.landing), "ground_truth": str(bank.ground_truth)},
    )


# --- ingest -------------------------------------------------------------------------------------------------------


def ingest_summary(manifests_by_batch: Mapping[str, Mapping[str, Any]]) -> dict[str, dict]:
    """Per table: rows summed over the batches (generated + seed samples), and each batch's own counts."""
    out: dict[str, dict] = {}
    for batch_id, manifests in manifests_by_batch.items():
        for table, m in manifests.items():
            entry = out.setdefault(table, {"rows_in": 0, "rows_valid": 0, "rows_quarantined": 0, "rows_warned": 0,
                                           "batches": {}})
            for key in ("rows_in", "rows_valid", "rows_quarantined", "rows_warned"):
                entry[key] += getattr(m, key)
            entry["batches"][batch_id] = {"rows_in": m.rows_in, "rows_valid": m.rows_valid,
                                          "rows_quarantined": m.rows_quarantined,
                                          "quarantine_reasons": dict(m.quarantine_reasons)}
    return out


def ingest_batches(landing: str, lake: str) -> dict[str, dict]:
    """Both batches (generated dates, then the seed samples' date) on ONE SparkSession; returns ingest_summary.
    Runs in a worker process so the Spark JVM (~1 GB) exits with it instead of staying up for the later steps."""
    from glue_jobs.ingest.pipeline import QuarantineThresholdExceeded
    from glue_jobs.local_run import SAMPLES_BATCH_ID, SAMPLES_INGEST_DATE, ingest_all, landing_dates, local_spark

    generated_dates = [d for d in landing_dates(landing) if d != SAMPLES_INGEST_DATE]
    sample_tables = tuple(sorted(p.parent.name for p in Path(landing).glob(f"*/ingest_date={SAMPLES_INGEST_DATE}")))
    print("    starting local Spark (pyspark 3.5 = Glue 5.0)", flush=True)
    spark = local_spark(app_name="demo-ingest")
    manifests: dict[str, dict] = {}
    try:
        for batch_id, dates, tables in ((GENERATED_BATCH_ID, generated_dates, None),
                                        (SAMPLES_BATCH_ID, [SAMPLES_INGEST_DATE], sample_tables)):
            if tables == ():
                continue
            started = time.perf_counter()
            try:
                manifests[batch_id] = ingest_all(spark, landing, lake, batch_id, dates,
                                                 **({"tables": tables} if tables else {}))
            except QuarantineThresholdExceeded as err:
                raise DemoError(str(err)) from None
            print(f"    batch {batch_id}: {len(manifests[batch_id])} tables, {len(dates)} ingest date(s) "
                  f"({time.perf_counter() - started:.1f} s)", flush=True)
    finally:
        spark.stop()
    return ingest_summary(manifests)


def ingest_step(ctx: DemoContext) -> StepResult:
    """Every table, both batches, through the Glue job's transforms on one local SparkSession."""
    ctx.require(ctx.landing, "generate")
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and (Path(java_home) / "bin" / "java").exists()):
        raise DemoError("no Java runtime for local Spark: install Java 17 (e.g. apt-get install -y "
                        "openjdk-17-jre-headless) or set JAVA_HOME, then re-run make demo")
    shutil.rmtree(ctx.lake, ignore_errors=True)  # the lake holds exactly this run's landing folder
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        per_table = pool.submit(ingest_batches, str(ctx.landing), str(ctx.lake)).result()
    rows = [[t, f"{v['rows_in']:,}", f"{v['rows_valid']:,}", f"{v['rows_quarantined']:,}", f"{v['rows_warned']:,}"]
            for t, v in per_table.items()]
    total_in = sum(v["rows_in"] for v in per_table.values())
    total_q = sum(v["rows_quarantined"] for v in per_table.values())
    return StepResult(headline=f"{total_in:,} rows in, {total_q:,} quarantined, lake in {ctx.lake}",
                      summary=per_table, table=rows,
                      table_header=["table", "rows_in", "rows_valid", "rows_quarantined", "rows_warned"])


# --- fraud evaluation ---------------------------------------------------------------------------------------------


def fraud_summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """scripts.evaluate_fraud's report as summary.json's section: <scenario>.{precision, recall, ...},
    hard_negatives.<kind>.{false_positive_rate, ...} and overall."""
    out: dict[str, Any] = {name: dict(f) for name, f in report["families"].items()}
    out["hard_negatives"] = {kind: dict(k) for kind, k in report.get("hard_negatives", {}).items()}
    out["overall"] = {"precision": report["overall_precision"], "recall": report["overall_recall"],
                      "alerts": report["alerts"], "labelled_entities": report["labelled_entities"],
                      "model_alerts": report["model_alerts"], "model_alert_precision": report["model_alert_precision"],
                      "meets_goals": report["meets_goals"]}
    return out


def fraud_evaluation_step(ctx: DemoContext) -> StepResult:
    """fraud_alerts mart vs the generator's labels (which no model reads), per scenario family."""
    from scripts.evaluate_fraud import (
        FALSE_POSITIVE_GOAL,
        PRECISION_GOAL,
        RECALL_GOAL,
        evaluate,
        format_table,
        load_alerts_duckdb,
        load_hard_negatives,
        load_labels,
    )

    ctx.require(ctx.duckdb_path, "dbt")
    ctx.require(ctx.ground_truth / "fraud_labels.csv", "generate")
    try:
        report = evaluate(load_alerts_duckdb(ctx.duckdb_path), load_labels(ctx.ground_truth),
                          load_hard_negatives(ctx.ground_truth))
    except ValueError as err:
        raise DemoError(f"fraud evaluation: {err}") from None
    for line in format_table(report).splitlines():
        ctx.log(line)
    summary = fraud_summary(report)
    # Below-goal quality is reported, not a failure: the demo shows the product; tests/dbt gate the goals.
    verdict = "goals met" if report["meets_goals"] else "GOALS MISSED"
    return StepResult(
        headline=f"{report['alerts']:,} alerts, precision {report['overall_precision']}, recall "
                 f"{report['overall_recall']} ({verdict}: recall >= {RECALL_GOAL}, precision >= {PRECISION_GOAL}, "
                 f"hard-negative false-positive rate <= {FALSE_POSITIVE_GOAL})",
        summary=summary,
        table=[[name, str(f["labelled"]), str(f["recall"]), str(f["precision"]), "-"]
               for name, f in report["families"].items()]
              + [[f"hard negative: {kind}", str(k["episodes"]), "-", "-", str(k["false_positive_rate"])]
                 for kind, k in report["hard_negatives"].items()],
        table_header=["scenario", "labelled", "recall", "precision", "false-positive rate"])


# --- dashboards ---------------------------------------------------------------------------------------------------


def dashboards_step(ctx: DemoContext) -> StepResult:
    """The three QuickSight dashboard definitions rendered from the DuckDB marts (PNG + offline HTML)."""
    from quicksight import fieldcheck
    from quicksight.render import render

    ctx.require(ctx.duckdb_path, "dbt")
    out = ctx.output_dir / "dashboards"
    try:
        rendered = render(ctx.duckdb_path, out)
    except fieldcheck.FieldCheckError as err:
        raise DemoError(str(err)) from None
    for r in rendered:
        ctx.log(f"{r.dashboard.name}: {r.png_path.name} + {r.html_path.name}, {len(r.rows)} visuals "
                f"({r.seconds:.1f} s)")
    empty = [f"{r.dashboard.name}/{visual}" for r in rendered for visual, n in r.rows.items() if n == 0]
    if empty:
        raise DemoError(f"dashboard visuals with no data: {', '.join(empty)}: check the marts in {ctx.duckdb_path}")
    # summary.json's `dashboards` is the list of PNGs; the per-dashboard facts go next to it.
    ctx.summary["dashboards_detail"] = [r.as_summary() for r in rendered]
    return StepResult(headline=f"{len(rendered)} dashboards in {out}", summary=[str(r.png_path) for r in rendered])


# --- reports ------------------------------------------------------------------------------------------------------


def reports_step(ctx: DemoContext) -> StepResult:
    """The daily regulatory report (reports/regulatory.py) for the latest business day and the executive pack
    (reports/executive.py) for its month, as the report job writes them: reports/<report>/<date>.pdf and one CSV
    per table in reports/<report>/<date>/."""
    from ml.warehouse import duckdb_reader
    from reports import executive, regulatory
    from reports.run import churn_bands, local_quality, write

    ctx.require(ctx.duckdb_path, "dbt")
    out = ctx.output_dir / "reports"
    read = duckdb_reader(ctx.duckdb_path)
    summary, headlines = {}, []
    for report in (regulatory.build(read, None, local_quality(ctx.lake / "manifests", ctx.dbt_target)),
                   executive.build(read, None, **churn_bands())):
        written = write(report, out)
        rows = written["rows"]
        ctx.log(f"{report.name} {report.report_date}: {written['pages']} pages, "
                + ", ".join(f"{n} {t}" for t, n in rows.items()) + f" -> {written['path']}")
        summary[report.name] = {"pages": written["pages"], "rows": sum(rows.values()), "tables": rows,
                                "path": written["path"], "csv": written["csv"], "date": report.report_date.isoformat()}
        headlines.append(f"{report.name} {written['pages']} pages")
    regulatory_rows = summary["regulatory"]["tables"]
    return StepResult(headline=", ".join(headlines) + f" ({regulatory_rows['ctr_candidates']} CTRs, "
                               f"{regulatory_rows['sar_cases']} SAR cases) in {out}", summary=summary)


# --- synth --------------------------------------------------------------------------------------------------------


def synth_environment(env: str, outdir: str) -> dict[str, Any]:
    """One environment, in a worker process: plain data back (the CDK objects stay in the worker)."""
    from infra.config import ConfigError
    from infra.synthesis import synthesize_environment

    started = time.perf_counter()
    try:
        result = synthesize_environment(env, Path(outdir))
    except ConfigError as err:
        return {"error": f"config of {env}: {err}"}
    per_stack = {s: len(result.template(s).get("Resources", {})) for s in result.stack_ids}
    first = result.unacknowledged[0] if result.unacknowledged else None
    return {
        "stacks": len(per_stack),
        "resources": sum(per_stack.values()),
        "nag_unacknowledged": len(result.unacknowledged),
        "nag_acknowledged": len(result.raw_findings) - len(result.unacknowledged),
        "resources_per_stack": per_stack,
        "seconds": round(time.perf_counter() - started, 1),
        "first_unacknowledged": f"{first.rule} on {first.path}" if first else None,
        "synth_error": result.synth_error,
        "validation_report": str(Path(outdir) / "validation-report.json"),
    }


def synthesize_all(envs: Iterable[str], out_root: Path, processes: int | None = None) -> dict[str, dict[str, Any]]:
    """Every environment, in parallel processes when the machine has a core per environment, else one after
    another in this process. Each synth is one Python thread driving one Node (jsii) runtime; a worker process pays
    the jsii + aws-cdk-lib start-up again (measured: 45 CPU-s for three workers vs 20 CPU-s sequential in one
    process), so on 2 cores parallel workers are slower than sequential. `make bench` (bench_demo) times this."""
    envs = list(envs)
    if processes is None:
        processes = len(envs) if (os.cpu_count() or 1) >= len(envs) else 1
    if processes <= 1:
        return {env: synth_environment(env, str(out_root / env)) for env in envs}
    # spawn: a fresh interpreter per worker (jsii's Node child and pyspark's JVM must not be forked).
    with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn")) as pool:
        futures = {env: pool.submit(synth_environment, env, str(out_root / env)) for env in envs}
        return {env: future.result() for env, future in futures.items()}


def synth_step(ctx: DemoContext) -> StepResult:
    """Synthesize dev, staging and prod with the AwsSolutions, PCI DSS 3.2.1 and NIST 800-53 R5 packs on."""
    from infra.config import ENVIRONMENT_NAMES

    how = "in parallel processes" if (os.cpu_count() or 1) >= len(ENVIRONMENT_NAMES) else "one after another (< 3 cores)"
    ctx.log(f"{', '.join(ENVIRONMENT_NAMES)} {how} (templates in {ctx.output_dir / 'cdk.out'})")
    per_env = synthesize_all(ENVIRONMENT_NAMES, ctx.output_dir / "cdk.out")
    rows = []
    for env, result in per_env.items():
        if "error" in result:
            raise DemoError(result["error"])
        ctx.log(f"{env}: {result['stacks']} stacks, {result['resources']} resources, "
                f"{result['nag_unacknowledged']} unacknowledged findings ({result['seconds']} s)")
        if result["nag_unacknowledged"]:
            raise DemoError(f"{env}: {result['nag_unacknowledged']} unacknowledged cdk-nag finding(s), first "
                            f"{result['first_unacknowledged']}: fix it or acknowledge it in infra/compliance.py")
        if result["synth_error"]:
            raise DemoError(f"{env}: synthesis failed ({result['synth_error']}): see {result['validation_report']}")
        rows += [[env, stack, str(n)] for stack, n in result["resources_per_stack"].items()]
    total = sum(v["resources"] for v in per_env.values())
    return StepResult(
        headline=f"{len(per_env)} environments, {total} resources, 0 unacknowledged findings",
        summary={env: {k: v for k, v in r.items() if k not in ("first_unacknowledged", "validation_report")}
                 for env, r in per_env.items()},
        table=rows,
        table_header=["env", "stack", "resources"],
    )


STEPS: list[Step] = [
    Step("generate", "synthetic bank + seed sample extracts into the landing folder", generate_step),
    Step("ingest", "Glue ingest transforms on local Spark: landing CSV -> raw Parquet lake", ingest_step),
    Step("dbt", "dbt build + docs generate on DuckDB (target local)", dbt_step),
    Step("models", "train the fraud classifier, judge it beside the rules, promotion gate, score in dbt", models_step),
    Step("fraud_evaluation", "score fraud alerts against the generator's ground truth", fraud_evaluation_step),
    Step("dashboards", "render the three QuickSight dashboards to PNG + HTML", dashboards_step),
    Step("reports", "write the regulatory report (CTR, SAR queue, structuring, data quality) and the executive "
                    "pack as PDF + CSV", reports_step),
    Step("synth", "synthesize every environment with the compliance packs", synth_step),
]


# --- driver -------------------------------------------------------------------------------------------------------


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = "  ".join("{:<%d}" % w for w in widths)
    print(line.format(*header).rstrip())
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row).rstrip())


def run(steps: list[Step], output_dir: Path, ctx: DemoContext | None = None) -> int:
    output_dir.mkdir(parents=True, exist_ok=True)
    ctx = ctx or DemoContext(output_dir=output_dir)
    outcomes: list[list[str]] = []
    details: list[StepResult] = []
    timings: dict[str, dict[str, Any]] = {}
    exit_code = 0
    demo_started = time.perf_counter()
    for index, step in enumerate(steps, 1):
        print(f"[{index}/{len(steps)}] {step.name}: {step.description}", flush=True)
        started = time.perf_counter()
        failure = None
        with PeakMemory() as peak:
            try:
                result = step.run(ctx)
            except DemoError as err:
                failure = str(err)
            except Exception as err:  # a bug, not a user error: one line here, the traceback in a file
                log = output_dir / "demo_error.log"
                log.write_text(traceback.format_exc())
                failure = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''} " \
                          f"(traceback in {log})"
        seconds = round(time.perf_counter() - started, 1)
        timings[step.name] = {"status": "failed" if failure else "ok", "seconds": seconds, "peak_rss_mb": peak.peak_mb}
        if failure:
            outcomes.append([step.name, "FAILED", f"{seconds:.1f}", f"{peak.peak_mb:,.0f}", failure])
            print(f"    FAILED: {step.name}: {failure}", file=sys.stderr, flush=True)
            exit_code = 1
            break
        ctx.summary[step.name] = result.summary
        details.append(result)
        outcomes.append([step.name, "ok", f"{seconds:.1f}", f"{peak.peak_mb:,.0f}", result.headline])
    ctx.summary["run"] = {"steps": timings, "seconds": round(time.perf_counter() - demo_started, 1),
                          "status": "failed" if exit_code else "ok"}
    (output_dir / "summary.json").write_text(json.dumps(ctx.summary, indent=2, sort_keys=True) + "\n")
    for result in details:
        if result.table:
            print()
            _print_table(result.table_header or [], result.table)
    print()
    _print_table(["step", "status", "seconds", "peak MB", "result"], outcomes)
    print(f"\ntotal {ctx.summary['run']['seconds']:.1f} s; summary: {output_dir / 'summary.json'}")
    return exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", nargs="+", choices=[s.name for s in STEPS], help="run only these steps")
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR)
    parser.add_argument("--customers", type=int, help="synthetic bank customers (default: the generator's, 2,500)")
    parser.add_argument("--days", type=int, help="days of history (default: the generator's, 60)")
    parser.add_argument("--seed", type=int, help="generator seed (same seed and scale = same data)")
    from synthetic_bank.scenarios.ranges import PRESETS

    parser.add_argument("--ranges", choices=PRESETS,
                        help="the fraud scenarios' parameter ranges (default standard; wide = the second bank the rules are judged on)")
    args = parser.parse_args(argv)
    # Same offline, quiet toolchain as the Makefile, however the demo is started (the workers inherit it).
    node_bin = REPO_ROOT / "node_modules" / ".bin"
    if node_bin.is_dir() and str(node_bin) not in os.environ.get("PATH", ""):
        os.environ["PATH"] = f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}"
    for key, value in (("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20"), ("SPARK_LOCAL_IP", "127.0.0.1"),
                       ("CDK_DISABLE_CLI_TELEMETRY", "true"), ("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")):
        os.environ.setdefault(key, value)
    selected = [s for s in STEPS if not args.steps or s.name in args.steps]
    ctx = DemoContext(output_dir=args.output_dir.resolve(), customers=args.customers, days=args.days, seed=args.seed,
                      ranges=args.ranges)
    return run(selected, ctx.output_dir, ctx)


if __name__ == "__main__":
    sys.exit(main())
