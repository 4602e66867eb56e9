"""start_dbt_build: task token stored, CodeBuild started with overrides, a Lambda retry never starts a 2nd build."""

import json
import re

import boto3
import pytest
from moto import mock_aws

from tests.fixtures.lambdas import (
    ACCOUNT,
    REGION,
    create_bucket,
    load_event,
    report_build_statuses,
    requests_sent,
    reset_settings,
)

PROJECT = "fintech-dev-dbt-build"
BUCKET = "artifacts-bucket"


@pytest.fixture
def app(lambda_env):
    lambda_env.setenv("DBT_PROJECT_NAME", PROJECT)
    lambda_env.setenv("ARTIFACTS_BUCKET", BUCKET)
    lambda_env.setenv("DBT_TARGET", "redshift")
    from start_dbt_build import app as module

    reset_settings(module)
    with mock_aws():
        create_bucket(BUCKET)
        boto3.client("codebuild", region_name=REGION).create_project(
            name=PROJECT,
            source={"type": "S3", "location": "assets-bucket/dbt-project.zip"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0", "computeType": "BUILD_GENERAL1_SMALL"},
            serviceRole=f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}",
        )
        yield module
    reset_settings(module)


@pytest.fixture(autouse=True)
def build_statuses(monkeypatch):
    """buildStatus that BatchGetBuilds reports per build id (default IN_PROGRESS)."""
    return report_build_statuses(monkeypatch, {})


@pytest.fixture
def start_build_calls(app):
    """Parameters of every StartBuild request the handler sends (moto drops the overrides, so read them off the
    wire)."""
    return requests_sent("codebuild", "StartBuild")


def builds():
    cb = boto3.client("codebuild", region_name=REGION)
    return cb.list_builds_for_project(projectName=PROJECT)["ids"]


def test_starts_one_build_with_overrides_and_stores_the_token(app, start_build_calls, lambda_context):
    event = load_event("sfn_start_dbt_build.json")
    result = app.handler(event, lambda_context)

    assert builds() == [result["build_id"]]
    ((_, call),) = start_build_calls
    env = {v["name"]: v["value"] for v in call["environmentVariablesOverride"]}
    assert env["PIPELINE_EXECUTION_ID"] == "batch-2026-11-24-run01"
    assert env["INGEST_DATE"] == "2026-11-24"
    assert env["DBT_TARGET"] == "redshift"
    assert env["ARTIFACTS_S3_URI"] == f"s3://{BUCKET}/dbt-runs/batch-2026-11-24-run01"
    assert event["task_token"] not in str(call), "the token itself must not be in the build environment"
    assert call["idempotencyToken"]
    stored = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=env["TASK_TOKEN_S3_KEY"])
    assert stored["Body"].read().decode() == event["task_token"]


def test_lambda_retry_returns_the_first_build(app, start_build_calls, lambda_context):
    event = load_event("sfn_start_dbt_build.json")
    first = app.handler(event, lambda_context)
    second = app.handler(dict(event), lambda_context)
    assert second == first
    assert len(builds()) == 1 and len(start_build_calls) == 1


def test_task_retry_with_a_new_token_reuses_the_build_and_redirects_the_callback(app, start_build_calls, lambda_context):
    event = load_event("sfn_start_dbt_build.json")
    first = app.handler(event, lambda_context)
    retried = app.handler({**event, "task_token": "token-of-the-retry-attempt"}, lambda_context)
    assert retried == first and len(builds()) == 1
    _, first_call = start_build_calls[0]
    key = {v["name"]: v["value"] for v in first_call["environmentVariablesOverride"]}["TASK_TOKEN_S3_KEY"]
    stored = boto3.client("s3", region_name=REGION).get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    assert stored == "token-of-the-retry-attempt"


def test_claim_records_the_build_of_the_execution(app, lambda_context):
    result = app.handler(load_event("sfn_start_dbt_build.json"), lambda_context)
    claim = boto3.client("s3", region_name=REGION).get_object(
        Bucket=BUCKET, Key="dbt-runs/batch-2026-11-24-run01/orchestration/build.json")
    assert json.loads(claim["Body"].read())["build_id"] == result["build_id"]


def test_another_execution_gets_its_own_build(app, lambda_context):
    event = load_event("sfn_start_dbt_build.json")
    app.handler(event, lambda_context)
    app.handler({**event, "execution_id": "batch-2026-11-24-run02"}, lambda_context)
    assert len(builds()) == 2


def test_payload_without_token_says_how_to_invoke(app, lambda_context):
    event = load_event("sfn_start_dbt_build.json")
    del event["task_token"]
    with pytest.raises(ValueError, match="waitForTaskToken"):
        app.handler(event, lambda_context)
    assert builds() == []


def test_missing_setting_names_the_variable(app, lambda_env, lambda_context):
    from common.settings import SettingsError

    lambda_env.delenv("ARTIFACTS_BUCKET")
    reset_settings(app)
    with pytest.raises(SettingsError, match="ARTIFACTS_BUCKET"):
        app.handler(load_event("sfn_start_dbt_build.json"), lambda_context)


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED", "STOPPED", "TIMED_OUT"])
def test_a_retry_after_the_stored_build_ended_starts_a_new_build(app, start_build_calls, build_statuses, status,
                                                                 lambda_context):
    """A redrive or retry after the build finished: its callback answered an earlier attempt, so waiting on it would
    only end at the heartbeat timeout. A second build starts, with its own idempotency token."""
    event = load_event("sfn_start_dbt_build.json")
    first = app.handler(event, lambda_context)
    build_statuses[first["build_id"]] = status
    second = app.handler({**event, "task_token": "token-of-the-redrive"}, lambda_context)

    assert second["build_id"] != first["build_id"] and len(builds()) == 2
    (_, call1), (_, call2) = start_build_calls
    assert call1["idempotencyToken"] != call2["idempotencyToken"]
    claim = boto3.client("s3", region_name=REGION).get_object(
        Bucket=BUCKET, Key="dbt-runs/batch-2026-11-24-run01/orchestration/build.json")
    stored = json.loads(claim["Body"].read())
    assert (stored["build_id"], stored["build_number"]) == (second["build_id"], 2)
    # and the running second build is trusted by the next retry
    assert app.handler({**event, "task_token": "t3"}, lambda_context) == second and len(builds()) == 2


@pytest.mark.parametrize("code", ["ThrottlingException", "AccountLimitExceededException"])
def test_codebuild_refusing_to_start_now_is_a_retryable_error(app, monkeypatch, code, lambda_context):
    from botocore.exceptions import ClientError
    from common.aws import client

    def refuse(**kwargs):
        raise ClientError({"Error": {"Code": code, "Message": "Cannot have more than 1 builds in queue"}},
                          "StartBuild")

    monkeypatch.setattr(client("codebuild"), "start_build", refuse)
    with pytest.raises(app.BuildNotStarted, match=code):
        app.handler(load_event("sfn_start_dbt_build.json"), lambda_context)


def test_claim_race_whose_object_is_not_readable_yet_is_a_retryable_error(app, monkeypatch, lambda_context):
    """409 ConditionalRequestConflict: another attempt's conditional write is in flight; reading its claim can still
    answer NoSuchKey."""
    from botocore.exceptions import ClientError
    from common.aws import client

    s3 = client("s3")

    def put_object(**kwargs):
        if kwargs.get("IfNoneMatch"):
            raise ClientError({"Error": {"Code": "ConditionalRequestConflict", "Message": "conflict"}}, "PutObject")
        return original_put(**kwargs)

    original_put = s3.put_object
    monkeypatch.setattr(s3, "put_object", put_object)
    with pytest.raises(app.BuildNotStarted, match="claim"):
        app.handler(load_event("sfn_start_dbt_build.json"), lambda_context)
    assert builds() == []


@pytest.mark.parametrize("change, message", [
    ({"ingest_date": "../../x"}, "ingest_date '../../x' is not YYYY-MM-DD"),
    ({"execution_id": "../../etc"}, "execution_id '../../etc' is not a pipeline execution name"),
    ({"select": "$(curl x)"}, "is not a dbt node selection"),
])
def test_values_reaching_s3_keys_and_the_build_are_validated(app, change, message, lambda_context):
    from common.events import BadEvent

    with pytest.raises(BadEvent, match=re.escape(message)):
        app.handler({**load_event("sfn_start_dbt_build.json"), **change}, lambda_context)
    assert builds() == []
