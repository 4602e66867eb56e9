"""Retraining on AWS: the model-training CodeBuild project runs this monthly (infra/constructs/model_trainer.py).

For each model (ml/models.py): the promoted card and SQL come down from the artifacts bucket (the incumbent), the
frame is read from Redshift with IAM (ml.warehouse.redshift_reader), the candidate is trained and gated exactly as
`make demo` does (ml.models.train_and_gate), and the run goes up (ml.artifacts.push_run: candidate, promoted model,
the dbt macros, the manifest last). Then one message: every model promoted -> the notices topic; any candidate
refused -> the alerts topic, saying why and that the current model stays. Metrics and versions only: no customer
data in a message. A failure (no features, too few outcomes, Redshift or S3 errors) exits non-zero before the
manifest changes, so dbt keeps scoring with what was promoted; the build's FAILED state raises the alert
(EventBridge rule on the project).

    python -m ml.retrain [--duckdb PATH] [--models NAME ...]    # configuration from the environment (below)
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ml.warehouse import Reader

ENVIRONMENT = ("ARTIFACTS_BUCKET", "MODELS_PREFIX", "ALERTS_TOPIC_ARN", "NOTICES_TOPIC_ARN", "NAME_PREFIX")
REDSHIFT_ENVIRONMENT = ("REDSHIFT_WORKGROUP", "REDSHIFT_DATABASE", "AWS_REGION")


@dataclass(frozen=True)
class Outcome:
    name: str
    version: str
    promoted: bool
    reason: str
    pr_auc: float | None
    baseline_pr_auc: float | None


def run(*, read: Reader, s3, sns, bucket: str, prefix: str, run_id: str, alerts_topic: str, notices_topic: str,
        name_prefix: str, names, work_dir: Path) -> tuple[list[Outcome], dict]:
    """One retraining run; -> (an Outcome per model, the manifest written)."""
    from ml.artifacts import pull_promoted, push_run
    from ml.models import MODELS, train_and_gate

    incumbents = pull_promoted(s3, bucket, prefix, work_dir, names)
    outcomes = []
    for name in names:
        trained, decision = train_and_gate(MODELS[name], read, work_dir)
        ev = trained.card["evaluation"]
        outcomes.append(Outcome(name, trained.version, decision.promoted, decision.reason, ev["model"]["pr_auc"],
                                ev["baseline"]["pr_auc"]))
        print(f"{name}: {decision.reason}", flush=True)
    manifest = push_run(s3, bucket, prefix, work_dir, run_id, {o.name: o.promoted for o in outcomes})
    refused = [o for o in outcomes if not o.promoted]
    lines = [f"Model retraining run {run_id}:"]
    for o in outcomes:
        kept = incumbents.get(o.name, "none (rules / heuristic only)")
        lines.append(f"- {o.reason}" + ("" if o.promoted else f". The current model stays: {kept}."))
    lines.append(f"Cards: s3://{bucket}/{prefix}/<model>/runs/{run_id}/card.md. dbt scores with "
                 + ", ".join(f"{n} {m['version']}" for n, m in sorted(manifest["models"].items()))
                 + " from its next build.")
    subject = (f"{name_prefix}: model retraining - current model kept ({', '.join(o.name for o in refused)})"
               if refused else f"{name_prefix}: model retraining - new models promoted")
    sns.publish(TopicArn=alerts_topic if refused else notices_topic, Subject=subject[:100],
                Message="\n".join(lines))
    return outcomes, manifest


def run_id_from_environment() -> str:
    # CODEBUILD_BUILD_ID is "<project>:<uuid>"; the uuid names the run's objects.
    build = os.environ.get("CODEBUILD_BUILD_ID", "")
    return re.sub(r"[^A-Za-z0-9-]", "-", build.split(":")[-1]) or "local"


def main(argv: list[str] | None = None) -> int:
    import boto3

    from ml.models import MODELS
    from ml.warehouse import duckdb_reader, redshift_reader

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duckdb", type=Path, help="read the frames from this DuckDB file instead of Redshift")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    args = parser.parse_args(argv)
    needed = ENVIRONMENT + (() if args.duckdb else REDSHIFT_ENVIRONMENT)
    missing = [k for k in needed if not os.environ.get(k)]
    if missing:
        print(f"ml.retrain: environment variable(s) {', '.join(missing)} not set: the model-training CodeBuild "
              "project sets them (infra/constructs/model_trainer.py)", file=sys.stderr)
        return 2
    env = os.environ
    read = duckdb_reader(args.duckdb) if args.duckdb else redshift_reader(
        workgroup=env["REDSHIFT_WORKGROUP"], database=env["REDSHIFT_DATABASE"], region=env["AWS_REGION"])
    with tempfile.TemporaryDirectory(prefix="retrain-") as work:
        try:
            run(read=read, s3=boto3.client("s3"), sns=boto3.client("sns"), bucket=env["ARTIFACTS_BUCKET"],
                prefix=env["MODELS_PREFIX"], run_id=run_id_from_environment(), alerts_topic=env["ALERTS_TOPIC_ARN"],
                notices_topic=env["NOTICES_TOPIC_ARN"], name_prefix=env["NAME_PREFIX"], names=args.models,
                work_dir=Path(work))
        except (ValueError, FileNotFoundError) as err:
            print(f"ml.retrain: {err}: nothing promoted, dbt keeps the current models", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
