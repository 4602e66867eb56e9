"""The report job in the synthesized Orchestration stack (infra/constructs/report_job.py): its bucket (KMS, TLS
only, versioned, access-logged, object lock in prod), the rule after each successful pipeline run, the monthly
schedule, the failure alert, least privilege, the shipped source and pins, and the bootstrap's read-only user."""

import importlib.metadata
import json
from pathlib import Path

import pytest

from infra.config import ENVIRONMENT_NAMES, REPORT_RETENTION_DAYS
from tests.orchestration.test_dbt_runner import _pins
from tests.orchestration.test_model_trainer_template import listed, role_statements, staged_files
from tests.orchestration.test_orchestration_template import resources

REPO_ROOT = Path(__file__).resolve().parents[2]


def report_project(template: dict) -> tuple[str, dict]:
    (found,) = [(k, r["Properties"]) for k, r in resources(template, "AWS::CodeBuild::Project").items()
                if "ReportJob" in k]
    return found


def reports_bucket(template: dict) -> dict:
    (found,) = [r for k, r in resources(template, "AWS::S3::Bucket").items() if "ReportJobReportsBucket" in k]
    return found


@pytest.mark.parametrize("env", list(ENVIRONMENT_NAMES))
def test_the_reports_bucket_is_encrypted_private_versioned_logged_and_locked_in_prod(synth, env):
    template, config = synth[env].template("Orchestration"), synth[env].config
    bucket = reports_bucket(template)
    props = bucket["Properties"]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert rule["SSEAlgorithm"] == "aws:kms" and rule["KMSMasterKeyID"]
    assert props["VersioningConfiguration"]["Status"] == "Enabled" and props["LoggingConfiguration"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    (policy,) = [r["Properties"] for r in resources(template, "AWS::S3::BucketPolicy").values()
                 if "ReportJobReportsBucket" in json.dumps(r["Properties"]["Bucket"])]
    assert any(st["Effect"] == "Deny" and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
               for st in policy["PolicyDocument"]["Statement"])
    if config.production:
        assert config.reports.object_lock_days >= REPORT_RETENTION_DAYS
        assert props["ObjectLockEnabled"] is True
        assert props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {
            "Mode": "COMPLIANCE", "Days": config.reports.object_lock_days}
        assert bucket["DeletionPolicy"] == "Retain"
    else:
        assert "ObjectLockConfiguration" not in props


@pytest.mark.parametrize("env", list(ENVIRONMENT_NAMES))
def test_regulatory_after_each_published_batch_and_the_pack_monthly(synth, env):
    template, config = synth[env].template("Orchestration"), synth[env].config
    project_id, _ = report_project(template)
    (machine,) = resources(template, "AWS::StepFunctions::StateMachine")
    (after,) = [r["Properties"] for k, r in resources(template, "AWS::Events::Rule").items() if "AfterPipeline" in k]
    assert after["EventPattern"]["source"] == ["aws.states"]
    assert after["EventPattern"]["detail"] == {"stateMachineArn": [{"Ref": machine}], "status": ["SUCCEEDED"]}
    assert after["State"] == ("ENABLED" if config.reports.regulatory_after_pipeline else "DISABLED")
    (target,) = after["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [project_id, "Arn"]} and target["DeadLetterConfig"]["Arn"]
    overrides = json.dumps(target["InputTransformer"])
    assert "REPORT" in overrides and "regulatory" in overrides and "dbt-runs/<detail-name>" in overrides
    (schedule,) = [r["Properties"] for k, r in resources(template, "AWS::Scheduler::Schedule").items()
                   if "ReportJob" in k]
    assert schedule["ScheduleExpression"] == config.reports.executive_schedule_expression
    assert schedule["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:codebuild:startBuild"
    assert '"EnvironmentVariablesOverride": [{"Name": "REPORT", "Value": "executive"' in json.dumps(
        schedule["Target"]["Input"]).replace('\\"', '"')
    (failure,) = [r["Properties"] for k, r in resources(template, "AWS::Events::Rule").items()
                  if "ReportJobFailureEvents" in k]
    assert failure["EventPattern"]["detail"]["project-name"] == [{"Ref": project_id}]
    (alerts,) = [k for k in resources(template, "AWS::SNS::Topic") if "Alerts" in k]
    assert failure["Targets"][0]["Arn"] == {"Ref": alerts}


def test_the_job_writes_only_its_report_prefixes_and_reads_by_data_api(synth):
    template = synth["prod"].template("Orchestration")
    _, project = report_project(template)
    statements = role_statements(template, project)
    writes = [st for st in statements if any(a.startswith(("s3:Put", "s3:Delete")) for a in listed(st["Action"]))]
    (write,) = writes
    assert write["Action"] == "s3:PutObject"
    assert sorted(r["Fn::Join"][1][-1] for r in write["Resource"]) == ["/executive/*", "/regulatory/*"]
    by_sid = {st.get("Sid"): st for st in statements}
    assert by_sid["DataApiExecute"]["Resource"] != "*"
    assert by_sid["DataApiOwnStatements"]["Condition"] == {
        "StringEquals": {"redshift-data:statement-owner-iam-userid": "${aws:userid}"}}
    assert not [st for st in statements if "secretsmanager:GetSecretValue" in listed(st["Action"])]
    env = {v["Name"] for v in project["Environment"]["EnvironmentVariables"]}
    assert {"REPORT", "REPORTS_BUCKET", "NOTICES_TOPIC_ARN", "REDSHIFT_WORKGROUP", "RAW_BUCKET"} <= env
    assert json.loads(project["Source"]["BuildSpec"])["phases"]["build"]["commands"] == ["python -m reports.job"]


def test_the_job_ships_the_reports_and_chart_code_only_with_the_tested_pins(synth):
    dev = synth["dev"]
    _, project = report_project(dev.template("Orchestration"))
    files = staged_files(dev, project)
    assert "reports/job.py" in files and "quicksight/render.py" in files and "dbt/dbt_project.yml" in files
    assert all(f.startswith(("reports/", "quicksight/", "dbt/dbt_project.yml", "infra/assets/report_job/"))
               for f in files), files
    pins = _pins(REPO_ROOT / "infra/assets/report_job/requirements.txt")
    assert {"reportlab", "pandas", "altair", "vl-convert-python", "boto3"} <= set(pins)
    assert {n: v for n, v in pins.items() if importlib.metadata.version(n) != v} == {}


def test_the_bootstrap_grants_the_report_user_read_on_marts_and_features(synth):
    template = synth["dev"].template("WarehouseBootstrap")
    (bootstrap,) = [r["Properties"] for r in resources(template, "Custom::RedshiftBootstrap").values()]
    plan = {s["name"]: s["sql"] if isinstance(s["sql"], str) else json.dumps(s["sql"]) for s in bootstrap["Statements"]}
    assert plan["create role report_reader"] == "create role report_reader"
    assert "ReportJobRole" in plan["grant role report_reader to report job user"]
    for schema in ("analytics_marts", "analytics_features"):
        assert plan[f"grant select {schema} to report_reader"] == \
            f"grant select on all tables in schema {schema} to role report_reader"
    assert not [sql for name, sql in plan.items() if "report_reader" in sql and ("insert" in sql or "create table" in sql)]
