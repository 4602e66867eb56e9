"""The report job end to end under moto: reports.job reads the warehouse through the Redshift Data API (moto's
redshift-data patched to answer each query from the test bank's DuckDB warehouse, typed as Redshift types them,
in pages), writes the PDF and CSVs to S3 and sends one notice naming the key without customer data; its figures
equal the local path's to the cent."""

import json
from datetime import datetime
from decimal import Decimal

import boto3
import duckdb
import pytest
from moto import mock_aws
from moto.redshiftdata.models import RedshiftDataAPIServiceBackend
from moto.redshiftdata.responses import RedshiftDataAPIServiceResponse

from ml.warehouse import duckdb_reader
from reports import job, regulatory
from reports.dataapi import data_api_reader

REGION = "eu-west-1"
PAGE = 100  # records per get_statement_result page: the reader must follow NextToken


def _field(value):
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, datetime):
        return {"stringValue": value.strftime("%Y-%m-%d %H:%M:%S")}
    if hasattr(value, "isoformat"):
        return {"stringValue": value.isoformat()}
    return {"stringValue": str(value)}


def _type_name(duck_type: str) -> str:
    t = str(duck_type).upper()
    return ("numeric" if t.startswith("DECIMAL") else "date" if t == "DATE" else
            "timestamp" if t.startswith("TIMESTAMP") else "int8" if "INT" in t else
            "float8" if t in ("DOUBLE", "FLOAT") else "bool" if t == "BOOLEAN" else "varchar")


@pytest.fixture
def aws(dbt_duckdb_build, monkeypatch):
    calls = []
    original_execute = RedshiftDataAPIServiceResponse.execute_statement

    def execute(self):
        calls.append({k: self._get_param(k) for k in ("WorkgroupName", "Database", "SecretArn", "DbUser")})
        return original_execute(self)

    def describe(self, statement_id):
        statement = self.statements[statement_id]
        statement.status, statement.has_result_set = "FINISHED", True
        return statement

    def result(self):
        statement = self.redshiftdata_backend.statements[self._get_param("Id")]
        with duckdb.connect(str(dbt_duckdb_build.duckdb_path), read_only=True) as con:
            cursor = con.execute(statement.query_string)
            meta = [{"name": d[0], "typeName": _type_name(d[1])} for d in cursor.description]
            rows = cursor.fetchall()
        start = int(self._get_param("NextToken") or 0)
        page = {"ColumnMetadata": meta, "Records": [[_field(v) for v in r] for r in rows[start:start + PAGE]],
                "TotalNumRows": len(rows)}
        if start + PAGE < len(rows):
            page["NextToken"] = str(start + PAGE)
        return 200, {}, json.dumps(page)

    monkeypatch.setattr(RedshiftDataAPIServiceResponse, "execute_statement", execute)
    monkeypatch.setattr(RedshiftDataAPIServiceBackend, "describe_statement", describe)
    monkeypatch.setattr(RedshiftDataAPIServiceResponse, "get_statement_result", result)
    for key, value in {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in ("reports", "raw", "artifacts"):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket="raw", Key="manifests/transactions/b1.json",
                      Body=json.dumps({"table": "transactions", "batch_id": "b1", "status": "succeeded",
                                       "rows_in": 10, "rows_quarantined": 1,
                                       "quarantine_reasons": {"bad amount": 1}}).encode())
        s3.put_object(Bucket="artifacts", Key="dbt-runs/batch-2026-10-31-run01/run_results.json",
                      Body=json.dumps({"results": dbt_duckdb_build.build.results}).encode())
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic = sns.create_topic(Name="notices")["TopicArn"]
        queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        yield {"s3": s3, "sns": sns, "sqs": sqs, "queue": queue, "topic": topic, "calls": calls}


def env(aws, report: str) -> dict:
    return {"REPORT": report, "REPORTS_BUCKET": "reports", "NOTICES_TOPIC_ARN": aws["topic"],
            "NAME_PREFIX": "fintech-dev", "REDSHIFT_WORKGROUP": "fintech-dev", "REDSHIFT_DATABASE": "analytics",
            "RAW_BUCKET": "raw", "ARTIFACTS_BUCKET": "artifacts"}


def test_the_regulatory_job_reads_by_data_api_writes_s3_and_notifies(aws, dbt_duckdb_build):
    read = data_api_reader(boto3.client("redshift-data", region_name=REGION), workgroup="fintech-dev",
                           database="analytics", sleep=lambda s: None)
    result = job.run(env(aws, "regulatory"), s3=aws["s3"], sns=aws["sns"], read=read)

    assert aws["calls"] and all(c["WorkgroupName"] == "fintech-dev" and c["SecretArn"] is None for c in aws["calls"])
    keys = {o["Key"] for o in aws["s3"].list_objects_v2(Bucket="reports")["Contents"]}
    assert result["pdf"] in keys and aws["s3"].get_object(Bucket="reports", Key=result["pdf"])["Body"].read()[:4] == b"%PDF"
    assert f"regulatory/{result['date']}/ctr_candidates.csv" in keys
    # the same figures as the local path (DuckDB directly), to the cent
    local = regulatory.build(duckdb_reader(dbt_duckdb_build.duckdb_path), None, regulatory.QualityInputs([], None, None))
    remote_csv = aws["s3"].get_object(Bucket="reports", Key=f"regulatory/{result['date']}/ctr_candidates.csv")["Body"]
    remote_total = sum(Decimal(line.split(",")[5]) for line in remote_csv.read().decode().splitlines()[1:])
    assert remote_total == Decimal(f"{sum(local.tables['ctr_candidates']['total_usd']):.2f}") > 0
    assert result["rows"]["sar_cases"] == len(local.tables["sar_cases"])
    assert result["rows"]["quarantine_reasons"] == 1 and result["rows"]["dbt_tests"] >= 1  # manifests + dbt run read
    (message,) = [json.loads(m["Body"])["Message"] for m in
                  aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10)["Messages"]]
    assert f"s3://reports/{result['pdf']}" in message and f"{result['pages']} pages" in message
    assert "CUST" not in message and "TXN" not in message  # no customer data in the notice


def test_the_executive_job_and_a_bad_report_name(aws):
    read = data_api_reader(boto3.client("redshift-data", region_name=REGION), workgroup="fintech-dev",
                           database="analytics", sleep=lambda s: None)
    result = job.run(env(aws, "executive"), s3=aws["s3"], sns=aws["sns"], read=read)
    assert result["pdf"].startswith("executive/") and result["pages"] >= 2
    with pytest.raises(ValueError, match="REPORT='weekly': use one of regulatory, executive"):
        job.run({**env(aws, "weekly")}, s3=aws["s3"], sns=aws["sns"], read=read)


def test_a_failed_query_names_itself():
    class Client:
        def execute_statement(self, **kw):
            return {"Id": "s1"}

        def describe_statement(self, Id):
            return {"Status": "FAILED", "Error": "permission denied for schema analytics_marts"}

    with pytest.raises(Exception, match="report query FAILED: permission denied for schema analytics_marts"):
        data_api_reader(Client(), workgroup="w", database="d")("select 1")


def test_missing_configuration_is_one_line(monkeypatch, capsys):
    for key in job.NEEDED:
        monkeypatch.delenv(key, raising=False)
    assert job.main() == 2
    assert "REPORT" in capsys.readouterr().err
