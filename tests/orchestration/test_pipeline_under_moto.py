"""The synthesized state machine executed under moto with the Lambda handlers in-process (see harness.py).

``harness`` runs the real app's dev template; ``glue_harness`` the app's too once its pipeline has Glue ingest
steps, and until then the Orchestration construct synthesized alone with five ingest jobs (conftest.py).

Execution paths proved here:
- success: dbt build (task token, callback) → every QuickSight dataset ingested → success notice
- QuickSight: createIngestion per dataset, Wait/describeIngestion loop until COMPLETED, then the success notice
- Glue: the ingest job of every table runs (parallel branches) before the dbt build
- Glue failure: alert naming the ingest step, no dbt build, no QuickSight refresh, execution FAILED
- dbt test failure: alert naming the failing tests, no QuickSight refresh, execution FAILED
- dbt build failure (model error): alert with the failing model, no refresh
- model drift (a warning test): published and refreshed, then a WARNING on the alerts topic
- QuickSight ingestion failure: alert naming the refresh step
- transient Lambda throttling on the start-dbt invoke: retried with backoff, one build, success
- backfill input (skip_ingest): no Glue run, one dbt build, refresh
"""

import json


from tests.orchestration.harness import Scenario

BATCH = {"ingest_date": "2026-11-24", "skip_ingest": False, "trigger": "schedule"}


def dataset_ids(harness) -> list[str]:
    """The datasets the pipeline refreshes ([] when the environment has no QuickSight)."""
    listed = [s for s in harness.definition["States"].values()
              if s.get("Type") == "Pass" and s.get("ResultPath") == "$.quicksight_datasets"]
    return listed[0]["Result"] if listed else []


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
    assert sorted(result.ingestions) == sorted(dataset_ids(harness))
    ((subject, message),) = result.notifications
    assert "succeeded" in subject
    assert "2026-11-24" in message and "dbt build passed" in message
    assert alerts(result) == []


def test_glue_ingest_of_every_table_runs_in_parallel_before_dbt(glue_harness):
    result = glue_harness.run(Scenario(), BATCH)

    assert result.status == "SUCCEEDED", result.history[-3:]
    assert sorted(result.glue_runs) == sorted(ingest_jobs(glue_harness)) and len(result.glue_runs) == 5
    entered = result.states_entered()
    assert entered.index("Start dbt build") > max(i for i, s in enumerate(entered) if s.startswith("Ingest "))
    assert len(result.builds) == 1 and sorted(result.ingestions) == sorted(dataset_ids(glue_harness))


def test_glue_failure_alerts_and_stops_before_dbt_and_quicksight(glue_harness):
    failing = ingest_jobs(glue_harness)[2]
    result = glue_harness.run(Scenario(failing_glue_jobs={failing}), BATCH)

    assert result.status == "FAILED"
    assert dataset_ids(glue_harness), "the no-refresh check needs datasets to refresh"
    assert result.builds == [] and result.ingestions == []
    (alert,) = alerts(result)
    assert "[Ingest source tables] failed for batch 2026-11-24" in alert
    assert "batch-2026-11-24-run01" in alert and "States.TaskFailed" in alert


def test_dbt_test_failure_alerts_with_test_names_and_skips_quicksight(quicksight_harness):
    harness = quicksight_harness
    result = harness.run(Scenario(run_results="run_results_tests_failed.json", build_status="FAILED"), BATCH)

    assert result.status == "FAILED"
    assert dataset_ids(harness) and len(result.builds) == 1 and result.ingestions == []
    (alert,) = alerts(result)
    assert "[dbt tests] failed" in alert and "DbtTestsFailed" in alert
    assert "unique_stg_core_banking__customers_customer_id (3 failing rows)" in alert
    assert "not_null_stg_core_banking__customers_kyc_status (1 failing rows)" in alert


def test_model_drift_publishes_and_refreshes_then_warns_on_the_alerts_topic(quicksight_harness):
    harness = quicksight_harness
    result = harness.run(Scenario(run_results="run_results_drift_warned.json"), BATCH)

    assert result.status == "SUCCEEDED", result.history[-3:]
    assert sorted(result.ingestions) == sorted(dataset_ids(harness))  # the marts are valid: dashboards refresh
    assert alerts(result) == []
    (warning,) = [m for subject, m in result.notifications if subject and "WARNING" in subject]
    assert "Batch 2026-11-24 (execution batch-2026-11-24-run01) is published, with a warning: model drift" in warning
    assert "assert_model_drift_below_alert (3 failing rows)" in warning
    entered = result.states_entered()
    assert entered.index("Send drift warning") > entered.index("Refresh QuickSight datasets")
    assert any("succeeded" in (subject or "") for subject, _ in result.notifications)


def test_dbt_model_error_alerts_and_skips_quicksight(quicksight_harness):
    harness = quicksight_harness
    result = harness.run(Scenario(run_results="run_results_model_error.json", build_status="FAILED"), BATCH)

    assert result.status == "FAILED" and dataset_ids(harness) and result.ingestions == []
    (alert,) = alerts(result)
    assert "[dbt build] failed" in alert and "DbtBuildFailed" in alert
    assert "dbt build failed: fct_transactions (error)" in alert  # the callback's cause names the model


def test_every_dataset_is_ingested_and_polled_until_complete(quicksight_harness):
    result = quicksight_harness.run(Scenario(), BATCH)

    assert result.status == "SUCCEEDED", result.history[-3:]
    datasets = dataset_ids(quicksight_harness)
    assert datasets and sorted(result.ingestions) == sorted(datasets)
    entered = result.states_entered()
    # each ingestion is RUNNING at its first poll: the Wait/describe loop ran at least twice per dataset
    assert entered.count("Describe ingestion") >= 2 * len(datasets)
    assert entered.count("Dataset refreshed") == len(datasets)
    assert entered.index("Send success notice") > max(i for i, s in enumerate(entered) if s == "Dataset refreshed")


def test_quicksight_ingestion_failure_alerts(quicksight_harness):
    result = quicksight_harness.run(Scenario(ingestion_status="FAILED"), BATCH)

    assert result.status == "FAILED"
    (alert,) = alerts(result)
    assert "[Refresh QuickSight datasets] failed" in alert and "QuickSightIngestionFailed" in alert


def test_transient_lambda_error_is_retried_and_starts_one_build(harness):
    start_dbt = harness.function("start_dbt_build")
    result = harness.run(Scenario(throttled_invocations={start_dbt: 2}), BATCH)

    assert result.status == "SUCCEEDED", result.history[-3:]
    assert result.invocations.count(start_dbt) == 3
    assert len(result.builds) == 1
    assert sorted(result.ingestions) == sorted(dataset_ids(harness))


def test_backfill_execution_skips_glue_and_runs_one_dbt_build(glue_harness):
    result = glue_harness.run(Scenario(), {"ingest_date": "2026-10-01", "skip_ingest": True, "trigger": "backfill"},
                              name="backfill-2026-10-01-jr_abc")

    assert result.status == "SUCCEEDED"
    assert result.glue_runs == [] and len(result.builds) == 1
    assert sorted(result.ingestions) == sorted(dataset_ids(glue_harness))
