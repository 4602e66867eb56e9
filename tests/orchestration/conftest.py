"""Orchestration tests read synthesized templates.

- ``app_templates``: every stack template of the real app's dev environment (the session ``synth`` fixture).
- ``construct_templates``: the Orchestration construct alone in a minimal stack with five Glue ingest jobs and three
  QuickSight datasets — used only for the Glue / QuickSight paths while the app has no ingestion / QuickSight stack
  wired into the pipeline (``glue_templates``, ``quicksight_templates``).
"""

import json
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _tiny_app_templates() -> dict[str, dict]:
    """The Orchestration construct in a minimal stack, for use before the platform stage wires it in."""
    from aws_cdk import App, Duration, Environment, RemovalPolicy, Stack
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_logs as logs
    from aws_cdk import aws_s3 as s3

    from infra.constructs.orchestration import Orchestration

    app = App(context=json.loads((REPO_ROOT / "cdk.json").read_text())["context"],
              builtin_cloud_formation_validation=False)
    stack = Stack(app, "Orchestration", env=Environment(account="111111111111", region="eu-west-1"))
    vpc = ec2.Vpc(stack, "Vpc", nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
    Orchestration(
        stack, "Orchestration", name_prefix="fintech-dev", vpc=vpc,
        subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        endpoint_security_group=ec2.SecurityGroup(stack, "Endpoints", vpc=vpc),
        data_key=kms.Key(stack, "DataKey"), logs_key=kms.Key(stack, "LogsKey"),
        artifacts_bucket=s3.Bucket(stack, "Artifacts"), raw_bucket=s3.Bucket(stack, "Raw"),
        access_logs_bucket=s3.Bucket(stack, "AccessLogs"), workgroup_name="fintech-dev",
        workgroup_arn="arn:aws:redshift-serverless:eu-west-1:111111111111:workgroup/0000",
        workgroup_security_group=ec2.SecurityGroup(stack, "Workgroup", vpc=vpc), database_name="analytics",
        dbt_target="dev",
        ingest_jobs={t: f"ingest-{t}" for t in ("customers", "accounts", "transactions", "login_activity",
                                                "credit_scores")},
        quicksight_dataset_ids=["fraud-dataset", "customer-dataset", "revenue-dataset"],
        alert_emails=["ops@example.com"], schedule_expression="cron(0 3 * * ? *)", schedule_enabled=True,
        usage_limit_rpu_hours=200, usage_limit_period="monthly", retrain_schedule_expression="cron(0 6 1 * ? *)",
        retrain_enabled=True, training_compute="medium", training_timeout=Duration.minutes(120),
        executive_schedule_expression="cron(0 7 1 * ? *)", executive_enabled=True, regulatory_after_pipeline=True,
        reports_object_lock_days=0, noncurrent_version_expiry_days=90,
        log_retention=logs.RetentionDays.ONE_YEAR,
        removal_policy=RemovalPolicy.RETAIN,
    )
    assembly = app.synth()
    return {s.stack_name: s.template for s in assembly.stacks}


@pytest.fixture(scope="session")
def construct_templates() -> dict[str, dict]:
    return _tiny_app_templates()


@pytest.fixture(scope="session")
def app_templates(synth) -> dict[str, dict]:
    dev = synth["dev"]
    return {stack_id: dev.template(stack_id) for stack_id in dev.stack_ids}


def _definition_mentions(templates: dict[str, dict], text: str) -> bool:
    return any(text in json.dumps(r.get("Properties", {}).get("DefinitionString", ""))
               for t in templates.values() for r in t.get("Resources", {}).values()
               if r["Type"] == "AWS::StepFunctions::StateMachine")


@pytest.fixture(scope="session")
def glue_templates(app_templates, construct_templates) -> dict[str, dict]:
    """The app's templates once its pipeline ingests with Glue; until then the construct-level synthesis."""
    return app_templates if _definition_mentions(app_templates, "glue:startJobRun") else construct_templates


@pytest.fixture(scope="session")
def quicksight_templates(app_templates, construct_templates) -> dict[str, dict]:
    """The app's templates once its pipeline refreshes QuickSight datasets; until then the construct-level one."""
    return app_templates if _definition_mentions(app_templates, "createIngestion") else construct_templates


# --- the synthesized state machine under moto (harness.py): one per test, on the templates above -------------------
def _harness(templates, monkeypatch):
    from tests.orchestration.harness import PipelineHarness, stack_with_state_machine

    return PipelineHarness(stack_with_state_machine(templates), list(templates.values()), monkeypatch)


@pytest.fixture
def harness(app_templates, monkeypatch):
    return _harness(app_templates, monkeypatch)


@pytest.fixture
def glue_harness(glue_templates, monkeypatch):
    return _harness(glue_templates, monkeypatch)


@pytest.fixture
def quicksight_harness(quicksight_templates, monkeypatch):
    return _harness(quicksight_templates, monkeypatch)
