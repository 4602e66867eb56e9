"""First state of every pipeline execution: may this run go, or must it wait for runs started before it?

Two runs of the pipeline at once fail half-way (Glue allows one run per ingest job, the dbt CodeBuild project one
build at a time), so executions queue in start order: a run goes when no RUNNING execution of the state machine
started before it (ties broken by name, so of two runs started in the same instant exactly one goes first). The
state machine waits and asks again while the answer is no; after `max_wait_seconds` this raises `QueueTimedOut`,
which the state machine's Catch turns into an alert naming the step and the run it waited for.

Payload (from the state machine): {"state_machine_arn": $$.StateMachine.Id, "execution_arn": $$.Execution.Id,
"started_at": $$.Execution.StartTime, "max_wait_seconds": N}: taken from the execution context, so this function
needs no reference to the state machine (which references it) in its configuration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from common import events
from common.aws import client
from common.observability import logger, tracer


class QueueTimedOut(RuntimeError):
    """This run waited longer than allowed for an earlier run to end."""


def _started(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def earlier_running(state_machine_arn: str, execution_arn: str, started_at: datetime) -> list[str]:
    """Names of RUNNING executions that started before this one (oldest first)."""
    me = execution_arn.rsplit(":", 1)[-1]
    ahead = []
    paginator = client("stepfunctions").get_paginator("list_executions")
    for page in paginator.paginate(stateMachineArn=state_machine_arn, statusFilter="RUNNING"):
        for e in page["executions"]:
            if e["executionArn"] == execution_arn:
                continue
            if (_started(e["startDate"]), e["name"]) < (started_at, me):
                ahead.append((_started(e["startDate"]), e["name"]))
    return [name for _, name in sorted(ahead)]


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    what = "pipeline turn payload"
    machine_arn = events.name(events.field(event, "state_machine_arn", what), "state_machine_arn")
    execution_arn = events.name(events.field(event, "execution_arn", what), "execution_arn")
    started_at = _started(events.field(event, "started_at", what))
    max_wait = int(events.field(event, "max_wait_seconds", what))
    ahead = earlier_running(machine_arn, execution_arn, started_at)
    waited = (datetime.now(UTC) - started_at).total_seconds()
    if not ahead:
        logger.info("no earlier run is running: this run goes", extra={"waited_seconds": round(waited)})
        return {"go": True, "waited_seconds": round(waited)}
    if waited > max_wait:
        raise QueueTimedOut(f"waited {waited / 3600:.1f} h (limit {max_wait / 3600:.1f} h) for {ahead[0]} to end: "
                            f"check that run (stop it if it hangs), then re-run this batch")
    logger.info("an earlier run is still running: waiting", extra={"waiting_for": ahead[0]})
    return {"go": False, "waiting_for": ahead[0], "waited_seconds": round(waited)}
