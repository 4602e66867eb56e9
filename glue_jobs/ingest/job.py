"""AWS Glue 5.0 entry point: arguments in, `pipeline.ingest_table` out. The only module that imports awsglue.

Job arguments (all set by CDK as full paths/names):
  --source_table          contract name (customers, accounts, transactions, login_activity, credit_scores)
  --landing_path          s3://<landing bucket>/<table>
  --raw_path              s3://<raw bucket>/raw/<table>
  --quarantine_path       s3://<quarantine bucket>/quarantine/<table>
  --manifest_path         s3://<raw bucket>/manifests/<table>
  --quarantine_threshold  share of quarantined rows that fails the run (e.g. 0.05)
  --catalog_database, --catalog_table   raw table to register the written ingest dates in (Spectrum reads
                          registered partitions only)
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

from glue_jobs.contracts import INGEST_PARTITION, load_contract
from glue_jobs.ingest.pipeline import Manifest, QuarantineThresholdExceeded, as_date_list, ingest_table

REQUIRED = ["JOB_NAME", "source_table", "landing_path", "raw_path", "quarantine_path", "manifest_path",
            "quarantine_threshold"]
OPTIONAL = ["batch_id", "ingest_date", "catalog_database", "catalog_table", "JOB_RUN_ID"]  # Glue passes --JOB_RUN_ID to every run


def main() -> None:
    present = [o for o in OPTIONAL if f"--{o}" in sys.argv]
    args = getResolvedOptions(sys.argv, REQUIRED + present)
    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)
    try:
        manifest = ingest_table(
            glue_context.spark_session,
            load_contract(args["source_table"]),
            landing_uri=args["landing_path"].rstrip("/"),
            raw_uri=args["raw_path"].rstrip("/"),
            quarantine_uri=args["quarantine_path"].rstrip("/"),
            manifest_uri=args["manifest_path"].rstrip("/"),
            batch_id=args.get("batch_id") or args.get("JOB_RUN_ID")
            or datetime.now(timezone.utc).strftime("run-%Y%m%dT%H%M%SZ"),
            ingest_dates=as_date_list(args["ingest_date"].split(",")) if args.get("ingest_date") else None,
            quarantine_threshold=float(args["quarantine_threshold"]),
        )
    except QuarantineThresholdExceeded as exceeded:
        _register_partitions(args, exceeded.manifest)  # the rows were written: make them queryable, then fail
        raise
    _register_partitions(args, manifest)
    # Raised QuarantineThresholdExceeded above skips commit: the run fails after writing, and the alarm fires.
    job.commit()


def _register_partitions(args: dict, manifest: Manifest) -> None:
    """Add the catalog partitions for the ingest dates that received valid rows (existing ones are kept)."""
    if not args.get("catalog_database") or not args.get("catalog_table"):
        return
    import boto3

    glue = boto3.client("glue")
    table = glue.get_table(DatabaseName=args["catalog_database"], Name=args["catalog_table"])["Table"]
    descriptor = table["StorageDescriptor"]
    dates = [d for d, counts in manifest.per_ingest_date.items() if counts["rows_valid"] > 0]
    for start in range(0, len(dates), 100):  # BatchCreatePartition takes at most 100 partitions per call
        inputs = [{"Values": [d], "StorageDescriptor": {**descriptor,
                   "Location": f"{descriptor['Location'].rstrip('/')}/{INGEST_PARTITION}={d}/"}}
                  for d in dates[start:start + 100]]
        result = glue.batch_create_partition(DatabaseName=args["catalog_database"],
                                             TableName=args["catalog_table"], PartitionInputList=inputs)
        failed = [e for e in result.get("Errors", []) if e["ErrorDetail"]["ErrorCode"] != "AlreadyExistsException"]
        if failed:
            raise RuntimeError(f"registering partitions of {args['catalog_table']} failed: {failed[:3]}; "
                               "check the job role's glue:BatchCreatePartition permission")


if __name__ == "__main__":
    main()
