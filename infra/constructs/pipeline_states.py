"""The pipeline state machine's states (built into the Orchestration construct; construct ids unchanged)::

    Wait for earlier runs (Lambda pipeline_turn) ─go─► Skip ingest? ─no─► Ingest source tables (Parallel, Glue .sync)
         ▲ not yet: Wait ─┘                               │yes                  │
                                                          └──► Start dbt build (Lambda, .waitForTaskToken)
                                                                        │
                                         dbt passed? ─no─► Record failure: dbt tests ─► Send failure alert ─► Fail
                                                │yes
                                  Refresh QuickSight datasets (Map: createIngestion, bounded describe loop)
                                                │
                                  Model drift warning? ─yes─► Send drift warning (alerts topic)
                                                │no                    │
                                  Send success notice ◄────────────────┘ ─► Pipeline succeeded

Every wait is bounded, and each bound fires inside the step so its Catch names the step in the alert: the queue
(pipeline_turn raises QueueTimedOut), each Glue run (state timeout = Glue's job timeout + queueing), the dbt task
(heartbeat from the running build every few minutes, task timeout), each SPICE ingestion (a poll count), the SNS
tasks (retried). The state machine's own timeout is above the sum of them, a backstop that should never fire first.
Transient errors are retried where a retry can help: Glue's one-run limit and throttling, Lambda service errors, the
dbt build that could not start yet (BuildNotStarted), QuickSight throttling and an ingestion already running, SNS.
A success notice that cannot be sent does not turn a published batch into a failure; notices go to their own topic
and key, so a broken notices topic never takes the failure alerts with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Duration, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

if TYPE_CHECKING:
    from infra.constructs.orchestration import Orchestration

PIPELINE_MARKER_ARGUMENT = "--pipeline_execution_id"  # must match lambdas/start_pipeline/app.py

# State names the tests and the alert messages rely on.
STATE_TURN = "Wait for earlier runs"
STATE_QUEUED = "Queued behind an earlier run"
STATE_INGEST = "Ingest source tables"
STATE_DBT = "Start dbt build"
STATE_DBT_CHOICE = "dbt passed?"
STATE_REFRESH = "Refresh QuickSight datasets"
STATE_SUCCESS_NOTICE = "Send success notice"
STATE_NOTICE_NOT_SENT = "Success notice not sent"
STATE_ALERT = "Send failure alert"
STATE_DRIFT_CHOICE = "Model drift warning?"
STATE_DRIFT_WARNING = "Send drift warning"
FAILURE_STEP_DBT_TESTS = "dbt tests"

_SDK_TRANSIENT_ERRORS = ["QuickSight.ThrottlingException", "QuickSight.InternalFailureException"]
# CreateIngestion while the dataset's previous ingestion still runs (or the SPICE refresh quota is hit).
_INGESTION_BUSY_ERRORS = ["QuickSight.LimitExceededException", "QuickSight.ResourceExistsException",
                          "QuickSight.ConflictException"]
_GLUE_TRANSIENT_ERRORS = [
    "Glue.ConcurrentRunsExceededException",
    "Glue.InternalServiceException",
    "Glue.OperationTimeoutException",
    "Glue.ThrottlingException",
]
_LAMBDA_SERVICE_ERRORS = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                          "Lambda.TooManyRequestsException", "Lambda.ClientExecutionTimeoutException"]
BUILD_NOT_STARTED = "BuildNotStarted"  # lambdas/start_dbt_build raises it when CodeBuild cannot start now


@dataclass(frozen=True)
class Bounds:
    """How long each step may take; `execution` is above their sum (see timeout())."""

    glue: Duration                # Glue's own job-run timeout
    glue_queueing: Duration       # a run may wait for workers before it starts
    dbt_task: Duration            # the whole dbt task: queue + install + build + upload
    dbt_heartbeat: Duration       # longest silence from the running build (it heartbeats every few minutes)
    queue: Duration               # longest wait for earlier runs to end
    queue_poll: Duration
    ingestion_poll: Duration
    ingestion_polls: int          # SPICE ingestion polls before the refresh step gives up

    def timeout(self) -> Duration:
        refresh = Duration.seconds(self.ingestion_poll.to_seconds() * self.ingestion_polls)
        total = (self.queue.to_seconds() + self.queue_poll.to_seconds() + self.glue.to_seconds()
                 + self.glue_queueing.to_seconds() + self.dbt_task.to_seconds() + refresh.to_seconds())
        return Duration.seconds(total + Duration.minutes(30).to_seconds())  # + retries and notices


class _BoundedGlueRun(tasks.GlueStartJobRun):
    """GlueStartJobRun renders its task timeout as Glue's job-run `Timeout` only; the state gets none, so a run that
    never leaves the queue (or a .sync poll that never returns) would wait until the execution times out, which
    skips the Catch and its alert. This adds the state's own TimeoutSeconds."""

    def __init__(self, scope, construct_id, *, state_timeout: Duration, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._state_timeout_seconds = int(state_timeout.to_seconds())

    def to_state_json(self, top_level_query_language=None):
        return {**super().to_state_json(top_level_query_language), "TimeoutSeconds": self._state_timeout_seconds}


def build_state_machine(orch: Orchestration, *, name_prefix: str, ingest_jobs: Mapping[str, str],
                        ingest_date_argument: str, dataset_ids: list[str], bounds: Bounds,
                        log_group_props: dict) -> sfn.StateMachine:
    sns_retry = dict(errors=["States.TaskFailed"], interval=Duration.seconds(5), max_attempts=4, backoff_rate=2,
                     jitter_strategy=sfn.JitterType.FULL)
    alert = tasks.SnsPublish(
        orch, STATE_ALERT, topic=orch.topic, subject=f"{name_prefix}: analytics pipeline FAILED",
        message=sfn.TaskInput.from_text(sfn.JsonPath.format(
            "Pipeline step [{}] failed for batch {} (execution {}). Error: {}",
            sfn.JsonPath.string_at("$.failed_step"), sfn.JsonPath.string_at("$.ingest_date"),
            sfn.JsonPath.execution_name, sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.error")),
        )),
        result_path=sfn.JsonPath.DISCARD,
    )
    alert.add_retry(**sns_retry)
    failed = sfn.Fail(orch, "Pipeline failed", error="PipelineFailed",
                      cause="A pipeline step failed: the SNS alert and the execution history name it")
    alert.add_catch(failed, result_path="$.alert_error")
    alert.next(failed)

    def on_failure(step: str) -> sfn.IChainable:
        return sfn.Pass(orch, f"Record failure: {step}", result=sfn.Result.from_string(step),
                        result_path="$.failed_step").next(alert)

    def catch(state: sfn.TaskStateBase | sfn.Parallel | sfn.Map, step: str) -> None:
        state.add_catch(on_failure(step), errors=["States.ALL"], result_path="$.error")

    # Queue: wait while an execution started before this one still runs.
    turn = tasks.LambdaInvoke(
        orch, STATE_TURN, lambda_function=orch.pipeline_turn,
        payload=sfn.TaskInput.from_object({
            "state_machine_arn": sfn.JsonPath.string_at("$$.StateMachine.Id"),
            "execution_arn": sfn.JsonPath.execution_id,
            "started_at": sfn.JsonPath.execution_start_time,
            "max_wait_seconds": int(bounds.queue.to_seconds()),
        }),
        payload_response_only=True, result_path="$.turn", retry_on_service_exceptions=False,
        task_timeout=sfn.Timeout.duration(Duration.minutes(2)),
    )
    turn.add_retry(errors=_LAMBDA_SERVICE_ERRORS, interval=Duration.seconds(2), max_attempts=6, backoff_rate=2,
                   jitter_strategy=sfn.JitterType.FULL)
    catch(turn, STATE_TURN)
    queued = sfn.Wait(orch, STATE_QUEUED, time=sfn.WaitTime.duration(bounds.queue_poll))
    queued.next(turn)

    # Glue ingestion, one branch per source table.
    ingest = sfn.Parallel(orch, STATE_INGEST, result_path="$.ingest") if ingest_jobs else None
    for table, job_name in ingest_jobs.items():
        run = _BoundedGlueRun(
            orch, f"Ingest {table}", glue_job_name=job_name,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            arguments=sfn.TaskInput.from_object({
                ingest_date_argument: sfn.JsonPath.string_at("$.ingest_date"),
                PIPELINE_MARKER_ARGUMENT: sfn.JsonPath.execution_name,
            }),
            # The raw .sync output carries timestamps and the arguments; keep what the next steps need.
            result_selector={"job": sfn.JsonPath.string_at("$.JobName"), "run_id": sfn.JsonPath.string_at("$.Id"),
                             "state": sfn.JsonPath.string_at("$.JobRunState")},
            task_timeout=sfn.Timeout.duration(bounds.glue),
            state_timeout=bounds.glue.plus(bounds.glue_queueing),
        )
        run.add_retry(errors=_GLUE_TRANSIENT_ERRORS, interval=Duration.seconds(30), max_attempts=3,
                      backoff_rate=2, jitter_strategy=sfn.JitterType.FULL)
        ingest.branch(run)
    if ingest is not None:
        catch(ingest, STATE_INGEST)

    dbt = tasks.LambdaInvoke(
        orch, STATE_DBT, lambda_function=orch.start_dbt_build,
        integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload=sfn.TaskInput.from_object({
            "task_token": sfn.JsonPath.task_token,
            "execution_id": sfn.JsonPath.execution_name,
            "ingest_date": sfn.JsonPath.string_at("$.ingest_date"),
        }),
        heartbeat_timeout=sfn.Timeout.duration(bounds.dbt_heartbeat),
        task_timeout=sfn.Timeout.duration(bounds.dbt_task),
        result_path="$.dbt",
        retry_on_service_exceptions=False,  # explicit retry below, with jitter
    )
    dbt.add_retry(errors=_LAMBDA_SERVICE_ERRORS, interval=Duration.seconds(2), max_attempts=6, backoff_rate=2,
                  jitter_strategy=sfn.JitterType.FULL)
    # CodeBuild throttling / its one-build limit / the claim race: 1, 2, 4, 8, 16 minutes.
    dbt.add_retry(errors=[BUILD_NOT_STARTED], interval=Duration.minutes(1), max_attempts=5, backoff_rate=2,
                  jitter_strategy=sfn.JitterType.FULL)
    catch(dbt, "dbt build")

    def batch_published(state: str, topic, subject: str, text: str, detail: str) -> tasks.SnsPublish:
        """A retried SNS publish about the batch: "Batch <date> (execution <name>) is published<text> <detail path>"."""
        publish = tasks.SnsPublish(
            orch, state, topic=topic, subject=f"{name_prefix}: {subject}",
            message=sfn.TaskInput.from_text(sfn.JsonPath.format(
                "Batch {} (execution {}) is published" + text + " {}",
                sfn.JsonPath.string_at("$.ingest_date"), sfn.JsonPath.execution_name, sfn.JsonPath.string_at(detail),
            )),
            result_path=sfn.JsonPath.DISCARD,
        )
        publish.add_retry(**sns_retry)
        return publish

    success = batch_published(STATE_SUCCESS_NOTICE, orch.notices_topic, "analytics pipeline succeeded", ".",
                              "$.dbt.message")
    done = sfn.Succeed(orch, "Pipeline succeeded")
    # The batch is published either way: the execution succeeds and its output says the notice failed.
    success.add_catch(sfn.Pass(orch, STATE_NOTICE_NOT_SENT).next(done), errors=["States.ALL"],
                      result_path="$.notice_error")
    success.next(done)

    # A passed build whose drift test warned (dbt_build_callback's alert_warning): the batch is published and
    # refreshed - the marts are valid - and the alerts topic hears that a model's inputs or score drifted.
    drift_warning = batch_published(STATE_DRIFT_WARNING, orch.topic, "analytics pipeline WARNING",
                                    ", with a warning:", "$.dbt.alert_warning")
    drift_warning.add_catch(success, errors=["States.ALL"], result_path="$.warning_error")
    drift_warning.next(success)
    warned = (sfn.Choice(orch, STATE_DRIFT_CHOICE)
              .when(sfn.Condition.and_(sfn.Condition.is_present("$.dbt.alert_warning"),
                                       sfn.Condition.not_(sfn.Condition.string_equals("$.dbt.alert_warning", ""))),
                    drift_warning)
              .otherwise(success))

    after_dbt: sfn.IChainable = warned
    if dataset_ids:
        after_dbt = _quicksight_refresh(orch, dataset_ids, bounds, catch, warned)

    tests_failed = sfn.Pass(
        orch, "dbt tests failed",
        parameters={"Error": "DbtTestsFailed", "Cause": sfn.JsonPath.string_at("$.dbt.message")},
        result_path="$.error",
    ).next(on_failure(FAILURE_STEP_DBT_TESTS))
    dbt.next(
        sfn.Choice(orch, STATE_DBT_CHOICE)
        .when(sfn.Condition.string_equals("$.dbt.outcome", "passed"), after_dbt)
        .otherwise(tests_failed)
    )

    work: sfn.IChainable = dbt
    if ingest_jobs:
        work = sfn.Choice(orch, "Skip ingest?").when(
            sfn.Condition.and_(sfn.Condition.is_present("$.skip_ingest"),
                               sfn.Condition.boolean_equals("$.skip_ingest", True)),
            dbt,
        ).otherwise(ingest.next(dbt))
    turn.next(sfn.Choice(orch, "Earlier run still running?")
              .when(sfn.Condition.boolean_equals("$.turn.go", False), queued)
              .otherwise(work))

    log_group = logs.LogGroup(orch, "StateMachineLogs", **log_group_props)
    return sfn.StateMachine(
        orch, "StateMachine",
        comment=f"{name_prefix} analytics pipeline: Glue → dbt (CodeBuild) → QuickSight",
        definition_body=sfn.DefinitionBody.from_chainable(turn),
        state_machine_type=sfn.StateMachineType.STANDARD,
        # Execution data stays out of the logs: task inputs carry Step Functions task tokens.
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        tracing_enabled=True,
        timeout=bounds.timeout(),
    )


def _dataset_arns(orch: Orchestration, dataset_ids: list[str]) -> list[str]:
    # CreateIngestion/DescribeIngestion authorize on the ingestion resource, whose id the state machine
    # generates per run (States.UUID()): each dataset's ingestion/*, nothing else.
    stack = Stack.of(orch)
    return [stack.format_arn(service="quicksight", resource="dataset", resource_name=f"{d}/ingestion/*")
            for d in dataset_ids]


def _quicksight_refresh(orch: Orchestration, dataset_ids: list[str], bounds: Bounds, catch,
                        success) -> sfn.IChainable:
    account = Stack.of(orch).account
    create = tasks.CallAwsService(
        orch, "Create ingestion", service="quicksight", action="createIngestion",
        parameters={"AwsAccountId": account, "DataSetId": sfn.JsonPath.string_at("$.dataset_id"),
                    "IngestionId": sfn.JsonPath.string_at("$.ingestion_id"), "IngestionType": "FULL_REFRESH"},
        iam_resources=_dataset_arns(orch, dataset_ids),
        result_path=sfn.JsonPath.DISCARD,
    )
    create.add_retry(errors=[*_SDK_TRANSIENT_ERRORS, *_INGESTION_BUSY_ERRORS],
                     interval=Duration.seconds(30), max_attempts=4, backoff_rate=2,
                     jitter_strategy=sfn.JitterType.FULL)
    wait = sfn.Wait(orch, "Wait for ingestion", time=sfn.WaitTime.duration(bounds.ingestion_poll))
    describe = tasks.CallAwsService(
        orch, "Describe ingestion", service="quicksight", action="describeIngestion",
        parameters={"AwsAccountId": account, "DataSetId": sfn.JsonPath.string_at("$.dataset_id"),
                    "IngestionId": sfn.JsonPath.string_at("$.ingestion_id")},
        iam_resources=_dataset_arns(orch, dataset_ids),
        result_selector={"status": sfn.JsonPath.string_at("$.Ingestion.IngestionStatus")},
        result_path="$.ingestion",
    )
    describe.add_retry(errors=_SDK_TRANSIENT_ERRORS, interval=Duration.seconds(10), max_attempts=4,
                       backoff_rate=2, jitter_strategy=sfn.JitterType.FULL)
    count = sfn.Pass(orch, "Count ingestion polls",
                     parameters={"count": sfn.JsonPath.math_add(sfn.JsonPath.number_at("$.polls.count"), 1)},
                     result_path="$.polls")
    timed_out = sfn.Fail(orch, "Ingestion timed out", error="QuickSightIngestionTimedOut",
                         cause=f"A SPICE ingestion did not finish within {bounds.ingestion_polls} polls: "
                               "see the dataset's refresh history")
    finished = (
        sfn.Choice(orch, "Ingestion finished?")
        .when(sfn.Condition.string_equals("$.ingestion.status", "COMPLETED"), sfn.Succeed(orch, "Dataset refreshed"))
        .when(sfn.Condition.or_(sfn.Condition.string_equals("$.ingestion.status", "FAILED"),
                                sfn.Condition.string_equals("$.ingestion.status", "CANCELLED")),
              sfn.Fail(orch, "Ingestion failed", error="QuickSightIngestionFailed",
                       cause="A SPICE ingestion ended FAILED or CANCELLED: see the dataset's refresh history"))
        .when(sfn.Condition.number_greater_than_equals("$.polls.count", bounds.ingestion_polls), timed_out)
        .otherwise(wait)
    )
    create.next(wait).next(describe).next(count).next(finished)

    listed = sfn.Pass(orch, "List QuickSight datasets", result=sfn.Result.from_array(dataset_ids),
                      result_path="$.quicksight_datasets")
    refresh = sfn.Map(
        orch, STATE_REFRESH, items_path="$.quicksight_datasets", max_concurrency=5,
        item_selector={
            "dataset_id": sfn.JsonPath.string_at("$$.Map.Item.Value"),
            # IngestionId must be unique per dataset (ARCHITECTURE.md).
            "ingestion_id": sfn.JsonPath.uuid(),
            "polls": {"count": 0},
        },
        result_path=sfn.JsonPath.DISCARD,
    )
    refresh.item_processor(create)
    catch(refresh, STATE_REFRESH)
    return listed.next(refresh).next(success)
