"""The demo's warehouse steps: dbt (build + docs on DuckDB) and models (train, promotion gate, score in dbt)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from scripts.demo_context import DBT_DIR, REPO_ROOT, DemoContext, DemoError, StepResult

# --- dbt ----------------------------------------------------------------------------------------------------------

_DBT_PROGRESS = re.compile(r"\b(\d+) of (\d+) (\S+)")


def dbt_results_summary(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts from run_results.json of a `dbt build`: nodes by kind and status, and the ones that did not pass."""
    kinds: dict[str, dict[str, int]] = {}
    problems: list[str] = []
    for r in results:
        kind = r["unique_id"].split(".", 1)[0]  # model, test, unit_test, seed, snapshot
        status = r["status"]
        kinds.setdefault(kind, {}).setdefault(status, 0)
        kinds[kind][status] += 1
        if status not in ("success", "pass", "warn"):
            problems.append(f"{r['unique_id']} {status}" + (f": {r['message']}" if r.get("message") else ""))
    tests = [kinds.get("test", {}), kinds.get("unit_test", {})]
    return {
        "models": kinds.get("model", {}).get("success", 0),
        "tests_passed": sum(t.get("pass", 0) for t in tests),
        "tests_warned": sum(t.get("warn", 0) for t in tests),
        "tests_failed": sum(t.get("fail", 0) + t.get("error", 0) for t in tests),
        "unit_tests": sum(kinds.get("unit_test", {}).values()),
        "seeds": kinds.get("seed", {}).get("success", 0),
        "snapshots": kinds.get("snapshot", {}).get("success", 0),
        "nodes_by_status": kinds,
        "problems": problems,
    }


def _dbt(ctx: DemoContext, args: list[str], log_name: str, env: dict[str, str]) -> list[dict]:
    """Run the venv's dbt, full output to <out>/dbt/<log_name>, progress every ~20 nodes and every non-OK line."""
    dbt_bin = Path(sys.executable).parent / "dbt"
    ctx.dbt_target.mkdir(parents=True, exist_ok=True)
    results_file = ctx.dbt_target / "run_results.json"
    results_file.unlink(missing_ok=True)  # never read a previous command's results
    log_path = ctx.dbt_target.parent / log_name
    cmd = [str(dbt_bin), "--no-use-colors", *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target", "local",
           "--target-path", str(ctx.dbt_target), "--log-path", str(ctx.dbt_target.parent / "logs")]
    with log_path.open("w") as log, subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                                     stderr=subprocess.STDOUT, text=True) as proc:
        for line in proc.stdout:
            log.write(line)
            match = _DBT_PROGRESS.search(line)
            if match and match[3] != "START" and (
                    "ERROR" in line or "FAIL" in line or int(match[1]) % 25 == 0 or match[1] == match[2]):
                ctx.log(line.strip())
    if proc.returncode != 0 and not results_file.exists():
        raise DemoError(f"dbt {args[0]} failed before running any node: see {log_path}")
    return json.loads(results_file.read_text())["results"] if results_file.exists() else []


def promoted_models_dir(ctx: DemoContext) -> Path:
    """What dbt scores with, as the models step's promotion gate left it (the demo's "artifacts bucket")."""
    return ctx.output_dir / "models" / "dbt_macros"


def _dbt_env(ctx: DemoContext) -> dict[str, str]:
    env = {**os.environ, "DBT_RAW_ROOT": str(ctx.lake), "DBT_DUCKDB_PATH": str(ctx.duckdb_path),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    env.pop("DBT_PROMOTED_MODELS_DIR", None)
    if promoted_models_dir(ctx).exists():  # else dbt's shipped state: no model promoted, rules only
        env["DBT_PROMOTED_MODELS_DIR"] = str(promoted_models_dir(ctx))
    return env


def dbt_step(ctx: DemoContext) -> StepResult:
    """`dbt build` (seeds, snapshot, models, data and unit tests) and the docs site, on DuckDB over the lake, scoring
    with the models a previous run promoted (none on a first run)."""
    ctx.require(ctx.lake / "raw", "ingest")
    env = _dbt_env(ctx)
    for stale in (ctx.duckdb_path, ctx.duckdb_path.with_name(ctx.duckdb_path.name + ".wal")):
        stale.unlink(missing_ok=True)  # a full build, not an incremental run on a previous demo's tables
    counts = dbt_results_summary(_dbt(ctx, ["build"], "build.log", env))
    if counts["problems"]:
        raise DemoError(f"dbt build: {len(counts['problems'])} node(s) did not pass, first {counts['problems'][0]}"
                        f" (full log {ctx.dbt_target.parent / 'build.log'})")
    _dbt(ctx, ["docs", "generate", "--static"], "docs.log", env)
    docs = ctx.dbt_target / "static_index.html"
    if not docs.exists():
        raise DemoError(f"dbt docs generate wrote no {docs}: see {ctx.dbt_target.parent / 'docs.log'}")
    site = ctx.output_dir / "dbt_docs"
    site.mkdir(exist_ok=True)
    # static_index.html embeds manifest and catalog: it opens from disk (index.html would fetch them, which
    # browsers refuse for file:// URLs).
    shutil.copyfile(docs, site / "index.html")
    ctx.log(f"docs site: {site / 'index.html'}")
    summary = {k: v for k, v in counts.items() if k != "problems"}
    summary.update(duckdb=str(ctx.duckdb_path), docs=str(site / "index.html"))
    return StepResult(headline=f"{counts['models']} models, {counts['tests_passed']} tests passed "
                               f"({counts['unit_tests']} unit), {counts['tests_failed']} failed; docs in {site}",
                      summary=summary)



# --- models -------------------------------------------------------------------------------------------------------


def models_step(ctx: DemoContext) -> StepResult:
    """Each model (ml/models.py: the fraud classifier, the churn propensity) trained on the earlier weeks and judged
    on later ones beside what runs today, its card and SQL in models/<name>/, the promotion gate against the model
    an earlier run promoted (re-scored through its SQL) or else the rules / heuristic: models/<name>/promoted/
    holds the winner and models/dbt_macros/ what dbt scores with; then dbt scores the warehouse with them and
    rebuilds what reads the scores (fct_transaction_model_scores, fct_customer_churn_scores and everything
    downstream, their tests included)."""
    import duckdb

    from ml.models import MODELS, train_and_gate

    ctx.require(ctx.duckdb_path, "dbt")
    summary: dict[str, Any] = {}
    headlines = []
    for name, spec in MODELS.items():
        ctx.log(f"{name}: training on {spec.contract.model} before the judged window, judging the latest "
                f"{spec.eval_days} days whose outcomes have matured ({spec.maturity_days} days)")
        try:
            trained, decision = train_and_gate(spec, ctx.duckdb_path, ctx.output_dir / "models")
        except ValueError as err:
            raise DemoError(f"models: {err}") from None
        ctx.log(decision.reason)
        ev = trained.card["evaluation"]
        summary[name] = {"version": trained.version, "pr_auc": ev["model"]["pr_auc"], "roc_auc": ev["model"]["roc_auc"],
                         "baseline_pr_auc": ev["baseline"]["pr_auc"], "lift_top_decile": ev["model"]["lift_top_decile"],
                         "baseline_lift_top_decile": ev["baseline"]["lift_top_decile"],
                         "recall_at_baseline_volume": ev["model"]["recall"], "baseline_recall": ev["baseline"]["recall"],
                         "baseline_precision": ev["baseline"]["precision"],
                         "combined_precision": ev["combined"]["precision"], "combined_recall": ev["combined"]["recall"],
                         "promoted": decision.promoted, "reason": decision.reason,
                         "card": str(ctx.output_dir / "models" / name / "card.md")}
        headlines.append(f"{name} PR-AUC {ev['model']['pr_auc']} vs {ev['baseline']['pr_auc']} "
                         f"({'promoted' if decision.promoted else 'not promoted'})")
    ctx.log(f"scoring in dbt with {promoted_models_dir(ctx)}")
    counts = dbt_results_summary(_dbt(ctx, ["build", "--select", "fct_transaction_model_scores+ fct_customer_churn_scores+"],
                                      "models.log", _dbt_env(ctx)))
    if counts["problems"]:
        raise DemoError(f"models: dbt scoring: {len(counts['problems'])} node(s) did not pass, first "
                        f"{counts['problems'][0]} (full log {ctx.dbt_target.parent / 'models.log'})")
    with duckdb.connect(str(ctx.duckdb_path), read_only=True) as con:
        version, scored, model_alerts, model_only = con.execute(
            "select max(s.model_version), count(*), sum(case when s.is_model_alert then 1 else 0 end), "
            "sum(case when a.primary_reason_code = 'MODEL' then 1 else 0 end) "
            "from analytics_marts.fct_transaction_model_scores as s "
            "left join analytics_marts.fraud_alerts as a on a.entity_id = s.transaction_id").fetchone()
        churn_version, churn_scored, bands = con.execute(
            "select max(model_version), count(churn_propensity), "
            "string_agg(churn_propensity_band || ' ' || n, ', ' order by churn_propensity_band) from ("
            "select model_version, churn_propensity, churn_propensity_band, "
            "count(*) over (partition by churn_propensity_band) as n "
            "from analytics_marts.fct_customer_churn_scores) as s").fetchone()
    ctx.log(f"fraud: {scored:,} transactions scored by {version}; {model_alerts:,} over the model's threshold, "
            f"{model_only:,} of them alerts the rules did not raise")
    ctx.log(f"churn: {churn_scored:,} customers scored by {churn_version}; bands {bands}")
    summary["fraud_classifier"].update(scoring_version=version, scored_transactions=scored, model_alerts=model_alerts,
                                       model_only_alerts=model_only)
    summary["churn_propensity"].update(scoring_version=churn_version, scored_customers=churn_scored)
    return StepResult(headline="; ".join(headlines) + f"; scored in dbt by {version} and {churn_version}",
                      summary=summary)
