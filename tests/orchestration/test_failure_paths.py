"""The operator's failure paths, each on the synthesized state machine under moto (tests/orchestration/harness.py):
what happens, and what the alert says, when runs overlap, a build cannot start, the build or its callback is lost or
doubled, a SPICE ingestion waits behind another or never ends, and SNS fails for a moment. (One Glue job failing
while four succeed: test_pipeline_under_moto.py::test_glue_failure_alerts_and_stops_before_dbt_and_quicksight.)"""


from tests.orchestration.harness import Scenario
from tests.orchestration.test_pipeline_under_moto import BATCH, alerts, dataset_ids

NEXT_BATCH = {"ingest_date": "2026-11-25", "skip_ingest": False, "trigger": "on_demand"}
BACKFILL = {"ingest_date": "2026-10-01", "skip_ingest": True, "trigger": "backfill"}


def test_overlapping_runs_queue_in_start_order_and_both_complete(glue_harness):
    """A scheduled batch, an on-demand batch and a backfill started together: one at a time, none half-run."""
    first, second, third = glue_harness.run_many(Scenario(build_seconds=2), [
        ("batch-2026-11-24-run01", BATCH), ("batch-2026-11-25-run01", NEXT_BATCH),
        ("backfill-2026-10-01-jr_1", BACKFILL)])

    assert [r.status for r in (first, second, third)] == ["SUCCEEDED"] * 3, [r.history[-3:] for r in (first, second)]
    assert "Queued behind an earlier run" not in first.states_entered()
    assert "Queued behind an earlier run" in second.states_entered()
    assert "Queued behind an earlier run" in third.states_entered()
    builds = sorted(first.builds, key=lambda b: b["started"])
    executions = [{v["name"]: v["value"] for v in b["environmentVariablesOverride"]}["PIPELINE_EXECUTION_ID"]
                  for b in builds]
    assert executions == ["batch-2026-11-24-run01", "batch-2026-11-25-run01", "backfill-2026-10-01-jr_1"]
    assert all(later["started"] >= earlier["ended"] for earlier, later in zip(builds, builds[1:]))
    assert len(first.glue_runs) == 10  # five ingest jobs per full batch, none for the backfill


def test_a_run_queued_too_long_alerts_naming_the_run_it_waited_for(harness):
    harness.set_queue_limit(1)
    first, second = harness.run_many(Scenario(build_seconds=3), [
        ("batch-2026-11-24-run01", BATCH), ("batch-2026-11-25-run01", NEXT_BATCH)])

    assert first.status == "SUCCEEDED" and second.status == "FAILED"
    assert len(first.builds) == 1  # the queued run never started anything
    (alert,) = alerts(second)
    assert "[Wait for earlier runs] failed for batch 2026-11-25" in alert
    assert "QueueTimedOut" in alert and "batch-2026-11-24-run01" in alert


def test_a_build_that_cannot_start_yet_is_retried(harness):
    result = harness.run(Scenario(codebuild_refusals=2), BATCH)

    assert result.status == "SUCCEEDED", result.history[-3:]
    assert result.invocations.count(harness.function("start_dbt_build")) == 3
    assert len(result.builds) == 1 and alerts(result) == []


def test_a_lost_build_or_callback_alerts_at_the_heartbeat_naming_the_dbt_step(quicksight_harness):
    result = quicksight_harness.run(Scenario(build_calls_back=False), BATCH)

    assert result.status == "FAILED"
    assert len(result.builds) == 1 and result.ingestions == []  # no refresh of the dashboards
    (alert,) = alerts(result)
    # AWS names it States.HeartbeatTimeout; moto 5.2 reports the heartbeat as States.Timeout
    assert "[dbt build] failed for batch 2026-11-24" in alert
    assert "States.HeartbeatTimeout" in alert or "States.Timeout" in alert


def test_a_callback_delivered_twice_completes_the_task_once(quicksight_harness):
    result = quicksight_harness.run(Scenario(duplicate_callback=True), BATCH)

    assert result.status == "SUCCEEDED", result.history[-3:]
    (build,) = result.builds
    final = [c for c in build["callbacks"] if "outcome" in c]
    # AWS refuses the second SendTaskSuccess (stale token: reported False); moto 5.2 accepts it and ignores it
    assert len(final) == 2 and final[0]["reported"] is True and not [c for c in final if "raised" in c]
    assert sorted(result.ingestions) == sorted(dataset_ids(quicksight_harness))
    assert len([n for n in result.notifications if "succeeded" in (n[0] or "")]) == 1


def test_an_ingestion_queued_behind_a_running_one_is_waited_for(quicksight_harness):
    result = quicksight_harness.run(Scenario(queued_ingestion_polls=3), BATCH)

    assert result.status == "SUCCEEDED", result.history[-3:]
    datasets = dataset_ids(quicksight_harness)
    assert result.states_entered().count("Describe ingestion") >= 5 * len(datasets)


def test_an_ingestion_that_never_ends_alerts_after_its_poll_limit(quicksight_harness):
    result = quicksight_harness.run(Scenario(queued_ingestion_polls=10**6), BATCH, timeout_s=180)

    assert result.status == "FAILED"
    (alert,) = alerts(result)
    assert "[Refresh QuickSight datasets] failed" in alert and "QuickSightIngestionTimedOut" in alert
    assert "succeeded" not in " ".join(n[0] or "" for n in result.notifications)


def test_a_transient_sns_error_is_retried(harness):
    result = harness.run(Scenario(sns_failures=2), BATCH)

    assert result.status == "SUCCEEDED", result.history[-3:]
    ((subject, _),) = result.notifications
    assert "succeeded" in subject


def test_a_success_notice_that_cannot_be_sent_leaves_the_published_batch_succeeded(harness):
    result = harness.run(Scenario(sns_failures=100), BATCH)

    assert result.status == "SUCCEEDED", result.history[-3:]
    assert "Success notice not sent" in result.states_entered()
    assert "KMSThrottling" in str(result.output["notice_error"])
