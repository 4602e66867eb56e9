"""Start the pipeline state machine for one batch (ingest date), whatever asked for it.

Three triggers, one rule for naming executions (Step Functions names are unique per state machine, so the name is
the lock that keeps one batch from running twice at once):
- EventBridge Scheduler (`{"trigger": "schedule", "scheduled_time": "<aws.scheduler.scheduled-time>"}`) and on-demand
  invocations (`{"ingest_date": "YYYY-MM-DD"}`) → full run, name `batch-<date>-run<NN>`, NN = previous runs of that
  batch + 1. If one is still RUNNING the request is refused; two racing requests compute the same name and
  StartExecution lets only one through.
- Glue "Job State Change" SUCCEEDED of an ingest job run started OUTSIDE the pipeline (a backfill of one date, a
  date list, or every landed date; pipeline runs carry the `--pipeline_execution_id` argument) → a dbt-only run
  (`skip_ingest`), so each backfill is followed by exactly one dbt build: while another non-pipeline run with the
  same ingest-date argument is still running the event is deferred (the last run to finish triggers), and the name
  `backfill-<latest date|all>-<last completed run id>` is the same for every event of that backfill, so duplicate and
  racing events start one execution. A deferral is confirmed by a second listing `backfill_settle_seconds` later:
  Glue's run listing can lag behind its events, and two runs that finished together would otherwise each see the
  other as running, both defer, and no dbt build follow (a deferral is a success, so nothing is redelivered).

Runs of different batches do not overlap: the state machine's first state waits until every execution started
before it has ended (lambdas/pipeline_turn), so a second run queues instead of failing on Glue's or CodeBuild's
one-run limit. Every event is validated first (common/events.py): a bad one fails with one line, before any effect.
"""

from __future__ import annotations

import functools
import json
import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from common import events
from common.aws import client
from common.observability import logger, metrics, tracer
from common.settings import load_settings

PIPELINE_MARKER_ARGUMENT = "--pipeline_execution_id"
ACTIVE_GLUE_STATES = ("STARTING", "RUNNING", "STOPPING", "WAITING")
_RUN_SUFFIX = re.compile(r"-run(\d+)$")


class BatchAlreadyRunning(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    state_machine_arn: str
    ingest_job_names: tuple[str, ...]
    ingest_date_argument: str = "--ingest_date"
    backfill_settle_seconds: int = 20


@functools.cache
def settings() -> Settings:
    return load_settings(Settings)


def _executions(cfg: Settings, prefix: str) -> list[dict[str, Any]]:
    paginator = client("stepfunctions").get_paginator("list_executions")
    found = []
    for page in paginator.paginate(stateMachineArn=cfg.state_machine_arn):
        found += [e for e in page["executions"] if e["name"].startswith(prefix)]
    return found


def _start(cfg: Settings, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    try:
        response = client("stepfunctions").start_execution(
            stateMachineArn=cfg.state_machine_arn, name=name, input=json.dumps(payload, sort_keys=True)
        )
    except ClientError as err:
        if err.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
        logger.info("execution already started by a concurrent request", extra={"execution_name": name})
        return {"started": False, "execution_name": name, "reason": "already exists"}
    metrics.add_metric(name="PipelineExecutionsStarted", unit=MetricUnit.Count, value=1)
    logger.info("started pipeline", extra={"execution_name": name, "execution_input": payload})
    return {"started": True, "execution_name": name, "execution_arn": response["executionArn"]}


def start_batch(cfg: Settings, ingest_date: str, trigger: str) -> dict[str, Any]:
    prefix = f"batch-{ingest_date}-run"
    previous = _executions(cfg, prefix)
    running = [e["name"] for e in previous if e["status"] == "RUNNING"]
    if running:
        raise BatchAlreadyRunning(
            f"batch {ingest_date} is already running as {running[0]}: wait for it to finish or stop it first"
        )
    attempt = 1 + max((int(m.group(1)) for e in previous if (m := _RUN_SUFFIX.search(e["name"]))), default=0)
    payload = {"ingest_date": ingest_date, "skip_ingest": False, "trigger": trigger}
    return _start(cfg, f"{prefix}{attempt:02d}", payload)


def _arguments(run: dict[str, Any]) -> dict[str, str]:
    return run.get("Arguments") or {}


def _active_backfill_runs(cfg: Settings, ingest_date_value: str | None,
                          completed: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(job, run id) of the non-pipeline runs with this ingest-date argument still active; SUCCEEDED ones are added
    to `completed`."""
    glue, active = client("glue"), []
    for name in cfg.ingest_job_names:
        for other in glue.get_job_runs(JobName=name, MaxResults=50)["JobRuns"]:
            other_args = _arguments(other)
            if PIPELINE_MARKER_ARGUMENT in other_args or other_args.get(cfg.ingest_date_argument) != ingest_date_value:
                continue
            if other["Id"] in completed:  # the triggering run: its event says it ended, whatever the listing says
                continue
            if other["JobRunState"] in ACTIVE_GLUE_STATES:
                active.append((name, other["Id"]))
            elif other["JobRunState"] == "SUCCEEDED":
                completed[other["Id"]] = other
    return active


def handle_glue_success(cfg: Settings, detail: dict[str, Any]) -> dict[str, Any]:
    job_name = events.name(events.field(detail, "jobName", "Glue Job State Change detail"), "jobName")
    run_id = events.name(events.field(detail, "jobRunId", "Glue Job State Change detail"), "jobRunId")
    if job_name not in cfg.ingest_job_names:
        return {"started": False, "reason": f"{job_name} is not an ingest job"}
    run = client("glue").get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
    args = _arguments(run)
    if PIPELINE_MARKER_ARGUMENT in args:
        return {"started": False, "reason": "started by the pipeline, which runs its own dbt build"}
    # The ingest job takes one date, a comma-separated list, or none (= every date in landing): runs of one
    # backfill share the same value. The execution is labelled with the latest date ("all" without one).
    ingest_date_value = args.get(cfg.ingest_date_argument)
    dates = sorted(events.iso_date(d.strip()) for d in ingest_date_value.split(",")) if ingest_date_value else []
    label = dates[-1] if dates else "all"

    backfill_runs = {run["Id"]: run}  # listings can lag behind the event; the triggering run always counts
    active = _active_backfill_runs(cfg, ingest_date_value, backfill_runs)
    if active:
        # Confirm: a run seen active only by a lagging listing has already sent (or is sending) its own event,
        # which may be deferring on THIS run right now. Defer only to a run that is still active a while later.
        time.sleep(cfg.backfill_settle_seconds)
        still = set(_active_backfill_runs(cfg, ingest_date_value, backfill_runs)) & set(active)
        if still:
            other_job, other_id = sorted(still)[0]
            logger.info("backfill deferred to a run still active", extra={"job": other_job, "run_id": other_id})
            return {"started": False, "reason": f"backfill run {other_id} of {other_job} still running; it triggers"}
    latest = max(backfill_runs.values(), key=lambda r: (r.get("CompletedOn") or datetime.min, r["Id"]))
    # Execution names: max 80 characters of [A-Za-z0-9-_].
    name = f"backfill-{label}-{re.sub(r'[^A-Za-z0-9_-]', '', latest['Id'])[-40:]}"
    completed = latest.get("CompletedOn")
    ingest_date = dates[-1] if dates else (completed.date().isoformat() if completed else date.today().isoformat())
    if any(e["name"] == name for e in _executions(cfg, name)):
        # EventBridge delivers at least once, and every event of one backfill names the same execution.
        return {"started": False, "execution_name": name, "reason": "this backfill's dbt run already started"}
    payload = {"ingest_date": ingest_date, "skip_ingest": True, "trigger": "backfill",
               "backfill_dates": dates or "all"}
    # Two events racing past the check above send the same name and input: Step Functions starts one execution.
    return _start(cfg, name, payload)


@logger.inject_lambda_context(clear_state=True)  # keys appended for one event never leak into the next
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cfg = settings()
    if not isinstance(event, dict):
        raise events.BadEvent(f"start_pipeline event: expected a JSON object, got {type(event).__name__}")
    if event.get("source") == "aws.glue":
        detail = events.field(event, "detail", "Glue Job State Change event")
        state = events.field(detail, "state", "Glue Job State Change detail")
        if state != "SUCCEEDED":
            return {"started": False, "reason": f"glue run state {state}"}
        return handle_glue_success(cfg, detail)
    if event.get("trigger") == "schedule":
        scheduled = events.field(event, "scheduled_time", "schedule event (EventBridge Scheduler)")
        return start_batch(cfg, events.iso_date(scheduled, "scheduled_time"), "schedule")
    if "ingest_date" in event:
        trigger = str(event.get("trigger") or "on_demand")
        if not re.fullmatch(r"[a-z_]{1,32}", trigger):
            raise events.BadEvent(f"trigger {trigger!r} is not a trigger name (e.g. on_demand)")
        return start_batch(cfg, events.iso_date(event["ingest_date"]), trigger)
    raise events.BadEvent('unrecognised event: invoke with {"ingest_date": "YYYY-MM-DD"} to run one batch on demand')
