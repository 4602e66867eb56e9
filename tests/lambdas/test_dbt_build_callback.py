"""dbt_build_callback: EventBridge CodeBuild events → heartbeat / SendTaskSuccess / SendTaskFailure + metric."""

import copy
import json
import re
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from tests.fixtures.lambdas import REGION, create_bucket, load_event, requests_sent, reset_settings

PROJECT = "fintech-dev-dbt-build"
BUCKET = "artifacts-bucket"
PREFIX = "dbt-runs/batch-2026-11-24-run01"
TOKEN = "token-of-the-waiting-task"


@pytest.fixture
def app(lambda_env):
    lambda_env.setenv("DBT_PROJECT_NAME", PROJECT)
    lambda_env.setenv("ARTIFACTS_BUCKET", BUCKET)
    from dbt_build_callback import app as module

    reset_settings(module)
    with mock_aws():
        create_bucket(BUCKET)
        event = load_event("codebuild_build_state_succeeded.json")
        token_key = next(
            v["value"]
            for v in event["detail"]["additional-information"]["environment"]["environment-variables"]
            if v["name"] == "TASK_TOKEN_S3_KEY"
        )
        boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=token_key, Body=TOKEN.encode())
        yield module
    reset_settings(module)


@pytest.fixture
def sfn_calls(app):
    """What the handler sends to Step Functions (outside an execution moto accepts any token silently)."""
    return requests_sent("stepfunctions")


def upload(name: str, fixture: str) -> None:
    body = json.dumps(load_event(fixture)).encode()
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=f"{PREFIX}/{name}", Body=body)


def state_event(status: str) -> dict:
    event = load_event("codebuild_build_state_succeeded.json")
    event["detail"]["build-status"] = status
    return event


def metric_values(capsys, name: str) -> list:
    """Powertools prints EMF JSON to stdout; the values of one metric across printed blobs."""
    values = []
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blob = json.loads(line)
            if name in blob:
                value = blob[name]
                values += value if isinstance(value, list) else [value]
    return values


def test_passing_build_sends_success_with_summary_and_zero_failure_metric(app, sfn_calls, lambda_context, capsys):
    upload("run_results.json", "run_results_passed.json")
    result = app.handler(state_event("SUCCEEDED"), lambda_context)

    assert result["outcome"] == "passed"
    ((call, params),) = sfn_calls
    assert call == "SendTaskSuccess" and params["taskToken"] == TOKEN
    output = json.loads(params["output"])
    assert output["outcome"] == "passed" and output["tests"] == {"pass": 2, "warn": 1}
    assert output["execution_id"] == "batch-2026-11-24-run01"
    assert output["artifacts"] == f"s3://{BUCKET}/{PREFIX}/"
    assert metric_values(capsys, "DbtTestFailures") == [0.0]


def test_failed_tests_send_success_summary_naming_tests_for_the_choice(app, sfn_calls, lambda_context, capsys):
    # dbt exits non-zero on failing tests, so the build ends FAILED but dbt did run: the Choice decides.
    upload("run_results.json", "run_results_tests_failed.json")
    app.handler(state_event("FAILED"), lambda_context)

    ((call, params),) = sfn_calls
    assert call == "SendTaskSuccess"
    output = json.loads(params["output"])
    assert output["outcome"] == "tests_failed" and output["tests_failed"] == 2
    assert "unique_stg_core_banking__customers_customer_id (3 failing rows)" in output["message"]
    assert metric_values(capsys, "DbtTestFailures") == [2.0]


def test_model_error_sends_failure_naming_the_model(app, sfn_calls, lambda_context):
    upload("run_results.json", "run_results_model_error.json")
    app.handler(state_event("FAILED"), lambda_context)
    ((call, params),) = sfn_calls
    assert call == "SendTaskFailure" and params["error"] == "DbtBuildFailed"
    assert "fct_transactions" in params["cause"]


def test_stale_sources_send_failure_naming_the_source(app, sfn_calls, lambda_context):
    upload("sources.json", "sources_stale.json")
    app.handler(state_event("FAILED"), lambda_context)
    ((call, params),) = sfn_calls
    assert call == "SendTaskFailure" and "raw.transactions" in params["cause"]


def test_timed_out_build_without_results_points_to_the_logs(app, sfn_calls, lambda_context):
    app.handler(state_event("TIMED_OUT"), lambda_context)
    ((call, params),) = sfn_calls
    assert call == "SendTaskFailure"
    assert "TIMED_OUT" in params["cause"] and f"s3://{BUCKET}/{PREFIX}/logs/" in params["cause"]


def test_a_runner_stopped_by_a_broken_model_artifact_names_it_in_the_failure(app, sfn_calls, lambda_context):
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=BUCKET, Key=f"{PREFIX}/runner_error.txt",
        Body=b"promoted models: fraud_classifier 0123abcd: s3://b/models/dbt_macros/r1/fraud_classifier.sql does "
             b"not match the manifest's SHA-256\n")
    app.handler(state_event("FAILED"), lambda_context)
    ((call, params),) = sfn_calls
    assert call == "SendTaskFailure"
    assert params["cause"].startswith("promoted models: fraud_classifier 0123abcd:")
    assert "SHA-256" in params["cause"] and f"s3://{BUCKET}/{PREFIX}/logs/" in params["cause"]


def test_stopped_build_fails_even_if_partial_results_passed(app, sfn_calls, lambda_context):
    upload("run_results.json", "run_results_passed.json")
    app.handler(state_event("STOPPED"), lambda_context)
    assert sfn_calls[0][0] == "SendTaskFailure"


def test_phase_change_sends_a_heartbeat(app, sfn_calls, lambda_context):
    assert app.handler(load_event("codebuild_build_phase_change.json"), lambda_context) == {"heartbeat": True}
    assert sfn_calls == [("SendTaskHeartbeat", {"taskToken": TOKEN})]


def test_in_progress_state_change_is_ignored(app, sfn_calls, lambda_context):
    assert app.handler(state_event("IN_PROGRESS"), lambda_context) == {"ignored": "IN_PROGRESS"}
    assert sfn_calls == []


def test_other_projects_and_manual_builds_are_ignored(app, sfn_calls, lambda_context):
    other = state_event("SUCCEEDED")
    other["detail"]["project-name"] = "someone-elses-project"
    assert app.handler(other, lambda_context) == {"ignored": "someone-elses-project"}
    manual = state_event("SUCCEEDED")
    manual["detail"]["additional-information"]["environment"]["environment-variables"] = []
    assert "ignored" in app.handler(manual, lambda_context)
    assert sfn_calls == []


def test_token_of_an_ended_task_is_logged_not_retried(app, lambda_context):
    from common.aws import client

    def timed_out(**_):
        return SimpleNamespace(status_code=400, headers={}), {"Error": {"Code": "TaskTimedOut", "Message": "gone"}}

    client("stepfunctions").meta.events.register("before-call.sfn.SendTaskSuccess", timed_out)
    upload("run_results.json", "run_results_passed.json")
    assert app.handler(state_event("SUCCEEDED"), lambda_context)["reported"] is False


def test_unexpected_sfn_error_propagates_so_the_event_goes_to_the_dlq(app, lambda_context):
    from botocore.exceptions import ClientError
    from common.aws import client

    def throttled(**_):
        return SimpleNamespace(status_code=400, headers={}), {"Error": {"Code": "ThrottlingException", "Message": "x"}}

    client("stepfunctions").meta.events.register("before-call.sfn.SendTaskSuccess", throttled)
    upload("run_results.json", "run_results_passed.json")
    with pytest.raises(ClientError):
        app.handler(copy.deepcopy(state_event("SUCCEEDED")), lambda_context)


@pytest.mark.parametrize("event, message", [
    ({}, "CodeBuild build event has no 'detail-type'"),
    ({"detail-type": "Object Created", "detail": {}}, "is not one of CodeBuild Build State Change"),
    ({"detail-type": "CodeBuild Build State Change"}, "CodeBuild build event has no 'detail'"),
    ({"detail-type": "CodeBuild Build State Change", "detail": {"project-name": PROJECT}}, "has no 'build-id'"),
])
def test_an_event_that_is_not_a_build_event_fails_loudly(app, event, message, lambda_context):
    from common.events import BadEvent

    with pytest.raises(BadEvent, match=re.escape(message)):
        app.handler(event, lambda_context)
