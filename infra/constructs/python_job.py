"""What the model trainer and the report job share: a Python job in CodeBuild, in the isolated subnets, with its
packages from the dbt runner's CodeArtifact mirror (pinned closure, --no-deps), started by EventBridge Scheduler
or a rule, and alerting when a build does not succeed. Functions, not a construct: each creates its resources
directly in the caller's scope, so the callers' construct ids (and logical IDs) stay what they are."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, IgnoreMode, RemovalPolicy, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.dbt_runner import BUILD_IMAGE, PYTHON_RUNTIME, DbtRunner, build_security_group

REPO_ROOT = Path(__file__).resolve().parents[2]
FINAL_FAILURES = ["FAILED", "FAULT", "STOPPED", "TIMED_OUT"]


@dataclass
class Job:
    source: s3_assets.Asset
    security_group: ec2.SecurityGroup
    log_group: logs.LogGroup
    role: iam.Role
    project: codebuild.Project


def source_patterns(*included: str) -> list[str]:
    """Git-style patterns over the repository root: everything out, then back in only `included` (paths like
    'ml/*.py', 'dbt/dbt_project.yml'; every parent folder is re-included)."""
    patterns, folders = ["*"], []
    for path in included:
        parts = path.split("/")
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            if folder not in folders:
                folders.append(folder)
                patterns.append(f"!/{folder}/")
        patterns.append(f"!/{path}")
    return patterns


def python_job(scope: Construct, *, included: list[str], requirements: str, command: str, description: str,
               role_description: str, security_group_description: str, purpose: str, environment: dict[str, str],
               dbt_runner: DbtRunner, vpc: ec2.IVpc, subnets: ec2.SubnetSelection,
               endpoint_security_group: ec2.ISecurityGroup, workgroup_security_group: ec2.ISecurityGroup,
               data_key: kms.IKey, logs_key: kms.IKey, compute_type: codebuild.ComputeType, timeout: Duration,
               queued_timeout: Duration, log_retention: logs.RetentionDays, removal_policy: RemovalPolicy) -> Job:
    """Creates Source, SecurityGroup, BuildLogs, Role and Project in `scope`; the caller adds its own grants, then
    ``dbt_runner.grant_package_read(job.role)`` (CodeArtifact)."""
    source = s3_assets.Asset(scope, "Source", path=str(REPO_ROOT), exclude=source_patterns(*included, requirements),
                             ignore_mode=IgnoreMode.GIT)
    group = build_security_group(scope, vpc=vpc, description=security_group_description,
                                 endpoint_security_group=endpoint_security_group,
                                 workgroup_security_group=workgroup_security_group, purpose=purpose)
    log_group = logs.LogGroup(scope, "BuildLogs", encryption_key=logs_key, retention=log_retention,
                              removal_policy=removal_policy)
    role = iam.Role(scope, "Role", assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
                    description=role_description)
    variables = {**environment, "CODEARTIFACT_DOMAIN": dbt_runner.codeartifact_domain_name,
                 "CODEARTIFACT_DOMAIN_OWNER": Stack.of(scope).account,
                 "CODEARTIFACT_REPOSITORY": dbt_runner.codeartifact_repository_name}
    project = codebuild.Project(
        scope, "Project", description=description, role=role,
        source=codebuild.Source.s3(bucket=source.bucket, path=source.s3_object_key),
        environment=codebuild.BuildEnvironment(
            build_image=BUILD_IMAGE, compute_type=compute_type,
            environment_variables={k: codebuild.BuildEnvironmentVariable(value=v) for k, v in variables.items()},
        ),
        build_spec=codebuild.BuildSpec.from_object({
            "version": "0.2",
            "env": {"shell": "bash"},
            "phases": {
                "install": {
                    "runtime-versions": {"python": PYTHON_RUNTIME},
                    "commands": [
                        'aws codeartifact login --tool pip --domain "$CODEARTIFACT_DOMAIN" '
                        '--domain-owner "$CODEARTIFACT_DOMAIN_OWNER" --repository "$CODEARTIFACT_REPOSITORY"',
                        f"python -m pip install --no-cache-dir --disable-pip-version-check --no-deps -r {requirements}",
                    ],
                },
                "build": {"commands": [command]},
            },
        }),
        vpc=vpc, subnet_selection=subnets, security_groups=[group],
        encryption_key=data_key, timeout=timeout, queued_timeout=queued_timeout,
        concurrent_build_limit=1,
        logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)),
    )
    source.grant_read(role)
    return Job(source, group, log_group, role, project)


def grant_redshift_iam(role: iam.IRole, workgroup_arn: str) -> None:
    """Temporary database credentials for the role's own user IAMR:<role name> (redshift_connector, Data API)."""
    role.add_to_principal_policy(iam.PolicyStatement(
        sid="RedshiftIamAuth", actions=["redshift-serverless:GetCredentials", "redshift-serverless:GetWorkgroup"],
        resources=[workgroup_arn]))


def schedule(scope: Construct, project: codebuild.IProject, *, dead_letter_queue: sqs.IQueue, expression: str,
             enabled: bool, description: str, role_description: str,
             overrides: dict[str, str] | None = None) -> scheduler.CfnSchedule:
    """EventBridge Scheduler starts a build (universal target, no Lambda in between): SchedulerRole, Schedule."""
    role = iam.Role(scope, "SchedulerRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
                    description=role_description)
    role.add_to_policy(iam.PolicyStatement(actions=["codebuild:StartBuild"], resources=[project.project_arn]))
    role.add_to_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[dead_letter_queue.queue_arn]))
    dead_letter_queue.encryption_master_key.grant(role, "kms:GenerateDataKey", "kms:Decrypt")
    request = {"ProjectName": project.project_name}
    if overrides:
        request["EnvironmentVariablesOverride"] = [{"Name": k, "Value": v, "Type": "PLAINTEXT"}
                                                   for k, v in overrides.items()]
    return scheduler.CfnSchedule(
        scope, "Schedule", description=description,
        schedule_expression=expression, schedule_expression_timezone="UTC",
        state="ENABLED" if enabled else "DISABLED",
        flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
        target=scheduler.CfnSchedule.TargetProperty(
            arn="arn:aws:scheduler:::aws-sdk:codebuild:startBuild",
            role_arn=role.role_arn,
            input=json.dumps(request),
            retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                maximum_retry_attempts=3, maximum_event_age_in_seconds=3600),
            dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=dead_letter_queue.queue_arn),
        ),
    )


def failure_alert(scope: Construct, project: codebuild.IProject, alerts_topic: sns.ITopic, *, description: str,
                  what: str, consequence: str) -> events.Rule:
    """FailureEvents: a build that fails, times out or is stopped -> the alerts topic, naming it and its log."""
    return events.Rule(
        scope, "FailureEvents", description=description,
        event_pattern=events.EventPattern(
            source=["aws.codebuild"], detail_type=["CodeBuild Build State Change"],
            detail={"project-name": [project.project_name], "build-status": FINAL_FAILURES},
        ),
        targets=[targets.SnsTopic(alerts_topic, authorize_using_role=True, message=events.RuleTargetInput.from_text(
            f"{what} {events.EventField.from_path('$.detail.build-id')} ended "
            f"{events.EventField.from_path('$.detail.build-status')}: {consequence} Build log: "
            f"{events.EventField.from_path('$.detail.additional-information.logs.deep-link')}"))],
    )
