"""AWS Glue 5.0 entry point: arguments in, `pipeline.ingest_table` out. The only module that imports awsglue.

Job arguments (all set by CDK as full paths/names):
  --source_table          contract name (customers, accounts, transactions, login_activity, credit_scores)
  --landing_path          s3://<landing bucket>/<table>
  --raw_path              s3://<raw bucket>/raw/<table>
  --quarantine_path       s3://<quarantine bucket>/quarantine/<table>
  --manifest_path         s3://<raw bucket>/manifests/<table>
  --quarantine_threshold  share of quarantined rows that fails the run (e.g. 0.05)
optional (pass per run, e.g. from Step Functions):
  --batch_id              default: the Glue job run id
  --ingest_date           YYYY-MM-DD, comma-separated for several; default: every date found in landing
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

from awsglue.context import GlueContext  # type: ignore[import-not-found]
from awsglue.job import Job  # type: ignore[import-not-found]
from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
from pyspark.context import SparkContext

from glue_jobs.contracts import load_contract
from glue_jobs.ingest.pipeline import as_date_list, ingest_table

REQUIRED = ["JOB_NAME", "source_table", "landing_path", "raw_path", "quarantine_path", "manifest_path",
            "quarantine_threshold"]
OPTIONAL = ["batch_id", "ingest_date", "JOB_RUN_ID"]  # Glue passes --JOB_RUN_ID to every run


def main() -> None:
    present = [o for o in OPTIONAL if f"--{o}" in sys.argv]
    args = getResolvedOptions(sys.argv, REQUIRED + present)
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)
    ingest_table(
        glue_context.spark_session,
        load_contract(args["source_table"]),
        landing_uri=args["landing_path"].rstrip("/"),
        raw_uri=args["raw_path"].rstrip("/"),
        quarantine_uri=args["quarantine_path"].rstrip("/"),
        manifest_uri=args["manifest_path"].rstrip("/"),
        batch_id=args.get("batch_id") or args.get("JOB_RUN_ID") or datetime.now(timezone.utc).strftime("run-%Y%m%dT%H%M%SZ"),
        ingest_dates=as_date_list(args["ingest_date"].split(",")) if args.get("ingest_date") else None,
        quarantine_threshold=float(args["quarantine_threshold"]),
    )
    # Raised QuarantineThresholdExceeded above skips commit: the run fails after writing, and the alarm fires.
    job.commit()


if __name__ == "__main__":
    main()
