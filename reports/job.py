"""The report job on AWS (infra/constructs/report_job.py runs it in CodeBuild): `python -m reports.job`.

Configuration from the environment: REPORT (regulatory | executive), REPORT_DATE (optional; default the latest
day / month in the warehouse), REPORTS_BUCKET, NOTICES_TOPIC_ARN, NAME_PREFIX, REDSHIFT_WORKGROUP,
REDSHIFT_DATABASE; for the regulatory report's data quality also RAW_BUCKET (the ingest manifests under
manifests/<table>/: the latest of each table) and ARTIFACTS_BUCKET (dbt-runs/<execution>/run_results.json and
sources.json of DBT_RUN_PREFIX, the pipeline execution that just succeeded, else the latest run).
Writes <report>/<date>.pdf and <report>/<date>/<table>.csv to the reports bucket (KMS, versioned, object lock in
prod), then one notice naming the S3 key, the page count and row counts - no customer data in the message. Any
failure exits non-zero before the notice: the build's FAILED state raises the alert (EventBridge rule).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

from reports import executive, regulatory
from reports.run import churn_bands, write

NEEDED = ("REPORT", "REPORTS_BUCKET", "NOTICES_TOPIC_ARN", "NAME_PREFIX", "REDSHIFT_WORKGROUP", "REDSHIFT_DATABASE")
REPORTS = ("regulatory", "executive")


def _json(s3, bucket: str, key: str):
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def _latest(s3, bucket: str, prefix: str, suffix: str) -> list[dict]:
    """The newest object ending in `suffix` under each first-level folder of `prefix` ([] when none)."""
    newest: dict[str, dict] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(suffix):
                folder = obj["Key"][len(prefix):].split("/", 1)[0]
                if folder not in newest or obj["LastModified"] > newest[folder]["LastModified"]:
                    newest[folder] = obj
    return list(newest.values())


def aws_quality(s3, env) -> regulatory.QualityInputs:
    manifests = []
    if env.get("RAW_BUCKET"):
        manifests = [_json(s3, env["RAW_BUCKET"], o["Key"]) for o in _latest(s3, env["RAW_BUCKET"], "manifests/", ".json")]
    run_results = sources = None
    if env.get("ARTIFACTS_BUCKET"):
        prefix = env.get("DBT_RUN_PREFIX", "").strip("/")
        if not prefix:  # started by the schedule, not by a pipeline execution: the newest dbt run
            runs = _latest(s3, env["ARTIFACTS_BUCKET"], "dbt-runs/", "/run_results.json")
            newest = max(runs, key=lambda o: o["LastModified"], default=None)
            prefix = newest["Key"].rsplit("/", 1)[0] if newest else ""
        if prefix:
            run_results = _json(s3, env["ARTIFACTS_BUCKET"], f"{prefix}/run_results.json")
            sources = _json(s3, env["ARTIFACTS_BUCKET"], f"{prefix}/sources.json")
    return regulatory.QualityInputs([m for m in manifests if m], run_results, sources)


def run(env, *, s3, sns, read) -> dict:
    name = env["REPORT"]
    if name not in REPORTS:
        raise ValueError(f"REPORT={name!r}: use one of {', '.join(REPORTS)}")
    when = date.fromisoformat(env["REPORT_DATE"]) if env.get("REPORT_DATE") else None
    report = (regulatory.build(read, when, aws_quality(s3, env)) if name == "regulatory"
              else executive.build(read, when, **churn_bands()))
    bucket = env["REPORTS_BUCKET"]
    with tempfile.TemporaryDirectory(prefix="report-") as tmp:
        written = write(report, Path(tmp))
        local_root = Path(tmp)
        keys = []
        for path in sorted(p for p in local_root.rglob("*") if p.is_file()):
            key = path.relative_to(local_root).as_posix()
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(),
                          ContentType="application/pdf" if key.endswith(".pdf") else "text/csv")
            keys.append(key)
    pdf_key = f"{report.name}/{report.report_date.isoformat()}.pdf"
    counts = ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in written["rows"].items())
    sns.publish(TopicArn=env["NOTICES_TOPIC_ARN"],
                Subject=f"{env['NAME_PREFIX']}: {report.document.title}"[:100],
                Message=f"{report.document.title} is ready: s3://{bucket}/{pdf_key} ({written['pages']} pages; "
                        f"{counts}). CSV per table under s3://{bucket}/{report.name}/{report.report_date}/.")
    return {"report": report.name, "date": report.report_date.isoformat(), "pdf": pdf_key, "keys": keys,
            "pages": written["pages"], "rows": written["rows"]}


def main() -> int:
    import boto3

    from reports.dataapi import data_api_reader

    missing = [k for k in NEEDED if not os.environ.get(k)]
    if missing:
        print(f"reports.job: environment variable(s) {', '.join(missing)} not set: the report CodeBuild project "
              "sets them (infra/constructs/report_job.py)", file=sys.stderr)
        return 2
    env = dict(os.environ)
    read = data_api_reader(boto3.client("redshift-data"), workgroup=env["REDSHIFT_WORKGROUP"],
                           database=env["REDSHIFT_DATABASE"])
    result = run(env, s3=boto3.client("s3"), sns=boto3.client("sns"), read=read)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
