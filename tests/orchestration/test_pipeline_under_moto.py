"""The synthesized state machine executed under moto with the Lambda handlers in-process (see harness.py).

Execution paths proved here:
- success: 5 Glue ingests → dbt build (task token, callback) → every QuickSight dataset ingested → success notice
- Glue failure: alert naming the ingest step, no dbt build, no QuickSight refresh, execution FAILED
- dbt test failure: alert naming the failing tests, no QuickSight refresh, execution FAILED
- dbt build failure (model error): alert with the failing model, no refresh
- QuickSight ingestion failure: alert naming the refresh step
- transient Lambda throttling on the start-dbt invoke: retried with backoff, one build, success
- backfill input (skip_ingest): no Glue run, one dbt build, refresh
"""

import json

import pytest

from tests.orchestration.harness import PipelineHarness, Scenario, stack_with_state_machine

BATCH = {"ingest_date": "2026-11-24", "skip_ingest": False, "trigger": "schedule"}


@pytest.fixture
def harness(orchestration_templates, monkeypatch):
    template = stack_with_state_machine(orchestration_templates)
    return PipelineHarness(template, list(orchestration_templates.values()), monkeypatch)


def dataset_ids(harness) -> list[str]:
    (listed,) = [s for s in harness.definition["States"].values()
                 if s.get("Type") == "Pass" and s.get("ResultPath") == "$.quicksight_datasets"]
    return listed["Result"]


def ingest_jobs(harness) -> list[str]:
    return json.loads(harness.env_of("start_pipeline")["INGEST_JOB_NAMES"])


def alerts(result) -> list[str]:
    return [message for subject, message in result.notifications if subject and "FAILED" in subject]


def test_success_runs_every_step_and_refreshes_every_dataset(harness):
    result = harness.run(Scenario(), BATCH)

    assert result.status == "SUCCEEDED", result.history[-3:]
    assert sorted(result.glue_runs) == sorted(ingest_jobs(harness))
    assert len(result.builds) == 1
    env = {v["name"]: v["value"] for v in result.builds[0]["environmentVariablesOverride"]}
    assert env["PIPELINE_EXECUTION_ID"] == "batch-2026-11-24-run01" and env["INGEST_DATE"] == "2026-11-24"
    assert sorted(result.ingestions) == sorted(dataset_ids(harness)) and len(result.ingestions) == 3
    assert "Wait for ingestion" in result.states_entered()  # the describe loop polled at least once
    ((subject, message),) = result.notifications
    assert "succeeded" in subject
    assert "2026-11-24" in message and "dbt build passed" in message
    assert alerts(result) == []


def test_glue_failure_alerts_and_stops_before_dbt_and_quicksight(harness):
    failing = ingest_jobs(harness)[2]
    result = harness.run(Scenario(failing_glue_jobs={failing}), BATCH)

    assert result.status == "FAILED"
    assert result.builds == [] and result.ingestions == []
    (alert,) = alerts(result)
    assert "[Ingest source tables] failed for batch 2026-11-24" in alert
    assert "batch-2026-11-24-run01" in alert and "States.TaskFailed" in alert


def test_dbt_test_failure_alerts_with_test_names_and_skips_quicksight(harness):
    result = harness.run(Scenario(run_results="run_results_tests_failed.json", build_status="FAILED"), BATCH)

    assert result.status == "FAILED"
    assert len(result.builds) == 1 and result.ingestions == []
    (alert,) = alerts(result)
    assert "[dbt tests] failed" in alert and "DbtTestsFailed" in alert
    assert "unique_stg_core_banking__customers_customer_id (3 failing rows)" in alert
    assert "not_null_stg_core_banking__customers_kyc_status (1 failing rows)" in alert


def test_dbt_model_error_alerts_and_skips_quicksight(harness):
    result = harness.run(Scenario(run_results="run_results_model_error.json", build_status="FAILED"), BATCH)

    assert result.status == "FAILED" and result.ingestions == []
    (alert,) = alerts(result)
    assert "[dbt build] failed" in alert and "DbtBuildFailed" in alert


def test_quicksight_ingestion_failure_alerts(harness):
    result = harness.run(Scenario(ingestion_status="FAILED"), BATCH)

    assert result.status == "FAILED"
    (alert,) = alerts(result)
    assert "[Refresh QuickSight datasets] failed" in alert and "QuickSightIngestionFailed" in alert


def test_transient_lambda_error_is_retried_and_starts_one_build(harness):
    start_dbt = harness.function("start_dbt_build")
    result = harness.run(Scenario(throttled_invocations={start_dbt: 2}), BATCH)

    assert result.status == "SUCCEEDED", result.history[-3:]
    assert result.invocations.count(start_dbt) == 3
    assert len(result.builds) == 1
    assert len(result.ingestions) == 3


def test_backfill_execution_skips_glue_and_runs_one_dbt_build(harness):
    result = harness.run(Scenario(), {"ingest_date": "2026-10-01", "skip_ingest": True, "trigger": "backfill"},
                         name="backfill-2026-10-01-jr_abc")

    assert result.status == "SUCCEEDED"
    assert result.glue_runs == [] and len(result.builds) == 1
    assert len(result.ingestions) == 3
