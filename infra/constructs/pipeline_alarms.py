"""The pipeline's alarms (all notify the alerts topic) and its CloudWatch dashboard, built into the Orchestration
construct (construct ids unchanged)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions

if TYPE_CHECKING:
    from infra.constructs.orchestration import Orchestration


def build_alarms(orch: Orchestration, workgroup_name: str, usage_limit_rpu_hours: int,
                 usage_limit_period: str) -> dict[str, cloudwatch.Alarm]:
    action = cw_actions.SnsAction(orch.topic)
    five_minutes = Duration.minutes(5)
    alarms: dict[str, cloudwatch.Alarm] = {}

    def alarm(name: str, metric: cloudwatch.IMetric, description: str, threshold: float = 1) -> None:
        created = cloudwatch.Alarm(
            orch, f"{name}Alarm", metric=metric, threshold=threshold, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING, alarm_description=description,
        )
        created.add_alarm_action(action)
        alarms[name] = created

    sm = orch.state_machine
    alarm("PipelineFailed", sm.metric_failed(period=five_minutes, statistic="Sum"),
          "A pipeline execution failed: read the SNS alert naming the step")
    alarm("PipelineTimedOut", sm.metric_timed_out(period=five_minutes, statistic="Sum"),
          "A pipeline execution hit the state machine timeout: check the Glue and dbt durations")
    alarm("PipelineAborted", sm.metric_aborted(period=five_minutes, statistic="Sum"),
          "A pipeline execution was stopped (by hand or by a deployment)")
    if orch.glue_failure_rule is not None:
        alarm("GlueJobFailed",
              cloudwatch.Metric(namespace="AWS/Events", metric_name="TriggeredRules",
                                dimensions_map={"RuleName": orch.glue_failure_rule.rule_name},
                                period=five_minutes, statistic="Sum"),
              "An ingest Glue job run failed (pipeline or backfill): see the Glue job run and the SNS message")
    for name, fn in (("StartPipeline", orch.start_pipeline), ("StartDbtBuild", orch.start_dbt_build),
                     ("DbtBuildCallback", orch.dbt_build_callback), ("PipelineTurn", orch.pipeline_turn)):
        alarm(f"{name}Errors", fn.metric_errors(period=five_minutes, statistic="Sum"),
              f"The {name} Lambda raised errors: read its log group")
    alarm("DeadLetters", orch.dead_letter_queue.metric_approximate_number_of_messages_visible(
        period=five_minutes, statistic="Maximum"),
          "Events or schedules could not be delivered to the orchestration Lambdas: inspect the DLQ messages")
    alarm("DbtTestFailures",
          cloudwatch.Metric(namespace=orch.metrics_namespace, metric_name="DbtTestFailures",
                            dimensions_map={"service": "dbt_build_callback"}, period=Duration.hours(1),
                            statistic="Maximum"),
          "dbt tests failed: the marts were not published to QuickSight; see the alert naming the tests")
    # The usage limit itself has no alarmable metric in CloudFormation: alarm when a day's RPU-hours use the
    # limit up faster than its period allows (ComputeSeconds are RPU-seconds per workgroup).
    period_days = {"daily": 1, "weekly": 7, "monthly": 30}[usage_limit_period]
    alarm("RedshiftUsage",
          cloudwatch.MathExpression(
              expression="compute / 3600", label="RPU-hours per day", period=Duration.days(1),
              using_metrics={"compute": cloudwatch.Metric(
                  namespace="AWS/Redshift-Serverless", metric_name="ComputeSeconds",
                  dimensions_map={"Workgroup": workgroup_name}, statistic="Sum", period=Duration.days(1))},
          ),
          f"Redshift Serverless used more than its {usage_limit_period} usage limit allows per day "
          f"({usage_limit_rpu_hours} RPU-hours per {usage_limit_period} period)",
          threshold=round(usage_limit_rpu_hours / period_days, 2))
    return alarms

def build_dashboard(orch: Orchestration, name_prefix: str, workgroup_name: str) -> cloudwatch.Dashboard:
    sm = orch.state_machine
    dashboard = cloudwatch.Dashboard(orch, "Dashboard", default_interval=Duration.days(7))
    dashboard.add_widgets(
        cloudwatch.TextWidget(markdown=f"# {name_prefix} analytics pipeline\nGlue → dbt (CodeBuild) → QuickSight. "
                                       "Alarms notify the alerts topic.", width=24, height=2),
    )
    dashboard.add_widgets(
        cloudwatch.GraphWidget(title="Pipeline executions", width=8, left=[
            sm.metric_started(statistic="Sum"), sm.metric_succeeded(statistic="Sum"),
            sm.metric_failed(statistic="Sum"), sm.metric_timed_out(statistic="Sum")]),
        cloudwatch.GraphWidget(title="Pipeline duration (ms)", width=8, left=[sm.metric_time(statistic="Maximum")]),
        cloudwatch.GraphWidget(title="dbt test failures", width=8, left=[orch.alarms["DbtTestFailures"].metric]),
    )
    glue_failures = [orch.alarms["GlueJobFailed"].metric] if "GlueJobFailed" in orch.alarms else []
    dashboard.add_widgets(
        cloudwatch.GraphWidget(title="Glue ingest failures", width=8, left=glue_failures),
        cloudwatch.GraphWidget(title="Lambda errors", width=8, left=[
            orch.alarms[f"{n}Errors"].metric
                for n in ("StartPipeline", "StartDbtBuild", "DbtBuildCallback", "PipelineTurn")]),
        cloudwatch.GraphWidget(title="Dead letters", width=8, left=[orch.alarms["DeadLetters"].metric]),
    )
    dashboard.add_widgets(
        cloudwatch.GraphWidget(title=f"Redshift {workgroup_name}: RPU-hours per day", width=12,
                               left=[orch.alarms["RedshiftUsage"].metric]),
        cloudwatch.AlarmStatusWidget(title="Alarms", width=12, alarms=list(orch.alarms.values())),
    )
    return dashboard
