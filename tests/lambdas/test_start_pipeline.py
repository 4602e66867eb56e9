"""start_pipeline: execution names derived from the batch; backfills get exactly one dbt-only run."""

import json
import re

import boto3
import pytest
from moto import mock_aws
from moto.moto_api import state_manager

from tests.fixtures.lambdas import ACCOUNT, REGION, load_event, reset_settings

JOBS = ["ingest-customers", "ingest-accounts", "ingest-transactions"]


@pytest.fixture
def app(lambda_env):
    from start_pipeline import app as module

    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = sfn.create_state_machine(
            name="pipeline",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/sfn",
        )["stateMachineArn"]
        glue = boto3.client("glue", region_name=REGION)
        for job in JOBS:
            glue.create_job(Name=job, Role="glue-role", Command={"Name": "glueetl", "ScriptLocation": "s3://b/job.py"})
        lambda_env.setenv("STATE_MACHINE_ARN", arn)
        lambda_env.setenv("INGEST_JOB_NAMES", json.dumps(JOBS))
        lambda_env.setenv("BACKFILL_SETTLE_SECONDS", "0")  # the lag tests below decide what each listing shows
        reset_settings(module)
        # Glue runs stay STARTING until a test finishes them (see finish()).
        state_manager.set_transition("glue::job_run", {"progression": "manual", "times": 10**9})
        yield module
        state_manager.unset_transition("glue::job_run")
    reset_settings(module)


def executions():
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    return sfn.list_executions(stateMachineArn=arn)["executions"]


def execution_input(name):
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = next(e["executionArn"] for e in executions() if e["name"] == name)
    return json.loads(sfn.describe_execution(executionArn=arn)["input"])


def start_glue_run(job, ingest_date, pipeline=False):
    args = {"--ingest_date": ingest_date} if ingest_date else {}
    if pipeline:
        args["--pipeline_execution_id"] = "batch-2026-11-24-run01"
    return boto3.client("glue", region_name=REGION).start_job_run(JobName=job, Arguments=args)["JobRunId"]


def finish(job, run_id, state="SUCCEEDED"):
    from moto.glue.models import glue_backends

    for run in glue_backends[ACCOUNT][REGION].jobs[job].job_runs:
        if run.job_run_id == run_id:
            run.status = state


def glue_event(job, run_id, state="SUCCEEDED"):
    event = load_event("glue_job_state_succeeded.json")
    event["detail"].update(jobName=job, jobRunId=run_id, state=state)
    return event


def ended_run_event(job, ingest_date, state="SUCCEEDED", pipeline=False):
    """Start a run of ``job``, end it in ``state``: the EventBridge event that run's end sends."""
    run = start_glue_run(job, ingest_date, pipeline)
    finish(job, run, state)
    return glue_event(job, run, state)


def test_schedule_starts_the_batch_named_after_its_date(app, lambda_context):
    result = app.handler(load_event("scheduler_start_pipeline.json"), lambda_context)
    assert result["started"] and result["execution_name"] == "batch-2026-11-25-run01"
    assert execution_input("batch-2026-11-25-run01") == {
        "ingest_date": "2026-11-25", "skip_ingest": False, "trigger": "schedule"
    }


def test_a_running_batch_cannot_start_again_but_a_finished_one_can(app, lambda_context):
    app.handler({"ingest_date": "2026-11-24"}, lambda_context)
    with pytest.raises(app.BatchAlreadyRunning, match="batch-2026-11-24-run01"):
        app.handler({"ingest_date": "2026-11-24"}, lambda_context)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    sfn.stop_execution(executionArn=executions()[0]["executionArn"])
    assert app.handler({"ingest_date": "2026-11-24"}, lambda_context)["execution_name"] == "batch-2026-11-24-run02"
    # another batch is independent
    assert app.handler({"ingest_date": "2026-11-23"}, lambda_context)["execution_name"] == "batch-2026-11-23-run01"


def test_bad_dates_and_unknown_events_say_what_to_send(app, lambda_context):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        app.handler({"ingest_date": "24/11/2026"}, lambda_context)
    with pytest.raises(ValueError, match="ingest_date"):
        app.handler({"hello": "world"}, lambda_context)
    assert executions() == []


@pytest.mark.parametrize("event, message", [
    ({"trigger": "schedule"}, "schedule event (EventBridge Scheduler) has no 'scheduled_time'"),
    ({"trigger": "schedule", "scheduled_time": "soon"}, "scheduled_time 'soon' is not YYYY-MM-DD"),
    ({"ingest_date": "../../x"}, "ingest_date '../../x' is not YYYY-MM-DD"),
    ({"ingest_date": "2026-11-24", "trigger": "x; rm -rf"}, "is not a trigger name"),
    ({"source": "aws.glue"}, "Glue Job State Change event has no 'detail'"),
    ({"source": "aws.glue", "detail": {"state": "SUCCEEDED", "jobRunId": "jr_1"}}, "detail has no 'jobName'"),
    ({"source": "aws.glue", "detail": {"state": "SUCCEEDED", "jobName": "ingest-accounts"}},
     "detail has no 'jobRunId'"),
    ({"source": "aws.glue", "detail": {"jobName": "ingest-accounts", "jobRunId": "jr_1"}}, "detail has no 'state'"),
])
def test_malformed_events_fail_with_one_line_before_any_effect(app, event, message, lambda_context):
    from common.events import BadEvent

    with pytest.raises(BadEvent, match=re.escape(message)):
        app.handler(event, lambda_context)
    assert executions() == []


def test_two_runs_finishing_together_behind_a_lagging_listing_still_get_their_dbt_build(app, monkeypatch,
                                                                                       lambda_context):
    """Each of the last two runs' events first sees the other as RUNNING (Glue's listing lags its events); a
    deferral is confirmed by a second listing, so one of them starts the build instead of both deferring."""
    from common.aws import client

    runs = {job: start_glue_run(job, "2026-10-06") for job in JOBS[:2]}
    for job, run in runs.items():
        finish(job, run)
    glue = client("glue")
    original, calls = glue.get_job_runs, {"n": 0}

    def lagging(**kwargs):
        page = original(**kwargs)
        calls["n"] += 1
        if calls["n"] <= len(JOBS):  # the first full listing of each invocation still shows every run RUNNING
            page["JobRuns"] = [{**r, "JobRunState": "RUNNING"} for r in page["JobRuns"]]
        return page

    monkeypatch.setattr(glue, "get_job_runs", lagging)
    first = app.handler(glue_event(JOBS[0], runs[JOBS[0]]), lambda_context)
    calls["n"] = 0
    second = app.handler(glue_event(JOBS[1], runs[JOBS[1]]), lambda_context)
    assert first["started"] and not second["started"]
    assert len(executions()) == 1 and executions()[0]["name"].startswith("backfill-2026-10-06-")


def test_log_keys_of_one_invocation_do_not_reach_the_next(app, capsys, lambda_context):
    from common.observability import logger

    logger.append_keys(execution_id="from-the-previous-invocation")
    app.handler({"ingest_date": "2026-11-24"}, lambda_context)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert lines and not any("from-the-previous-invocation" in line for line in lines)


def test_glue_runs_started_by_the_pipeline_do_not_trigger_a_build(app, lambda_context):
    result = app.handler(ended_run_event(JOBS[0], "2026-11-24", pipeline=True), lambda_context)
    assert not result["started"] and "pipeline" in result["reason"]
    assert executions() == []


def test_a_single_backfill_run_is_followed_by_one_dbt_only_execution(app, lambda_context):
    event = ended_run_event(JOBS[2], "2026-10-01")
    result = app.handler(event, lambda_context)
    assert result["started"] and result["execution_name"].startswith("backfill-2026-10-01-")
    assert execution_input(result["execution_name"]) == {
        "ingest_date": "2026-10-01", "skip_ingest": True, "trigger": "backfill", "backfill_dates": ["2026-10-01"]
    }
    # EventBridge delivers at least once: a duplicate event starts nothing new.
    again = app.handler(event, lambda_context)
    assert not again["started"]
    assert len(executions()) == 1


def test_a_multi_job_backfill_is_followed_by_exactly_one_execution(app, lambda_context):
    runs = {job: start_glue_run(job, "2026-10-02") for job in JOBS}
    finish(JOBS[0], runs[JOBS[0]])
    assert "still running" in app.handler(glue_event(JOBS[0], runs[JOBS[0]]), lambda_context)["reason"]
    finish(JOBS[1], runs[JOBS[1]])
    finish(JOBS[2], runs[JOBS[2]])
    # The last two finished together; both events (in either order) and a late duplicate name the same execution.
    results = [app.handler(glue_event(job, runs[job]), lambda_context) for job in (JOBS[2], JOBS[1], JOBS[0])]
    assert [r["started"] for r in results] == [True, False, False]
    assert len({r["execution_name"] for r in results}) == 1
    assert len(executions()) == 1


def test_a_failed_backfill_run_triggers_nothing(app, lambda_context):
    assert not app.handler(ended_run_event(JOBS[0], "2026-10-03", "FAILED"), lambda_context)["started"]
    assert executions() == []


def test_a_multi_date_backfill_is_labelled_with_its_latest_date(app, lambda_context):
    result = app.handler(ended_run_event(JOBS[0], "2026-10-05,2026-10-04"), lambda_context)
    assert result["started"] and result["execution_name"].startswith("backfill-2026-10-05-")
    assert execution_input(result["execution_name"])["backfill_dates"] == ["2026-10-04", "2026-10-05"]


def test_a_backfill_of_every_landed_date_also_gets_its_dbt_build(app, lambda_context):
    runs = {job: start_glue_run(job, None) for job in JOBS[:2]}
    finish(JOBS[0], runs[JOBS[0]])
    assert not app.handler(glue_event(JOBS[0], runs[JOBS[0]]), lambda_context)["started"]  # JOBS[1] still running
    finish(JOBS[1], runs[JOBS[1]])
    result = app.handler(glue_event(JOBS[1], runs[JOBS[1]]), lambda_context)
    assert result["started"] and result["execution_name"].startswith("backfill-all-")
    assert execution_input(result["execution_name"])["backfill_dates"] == "all"
    assert len(executions()) == 1
