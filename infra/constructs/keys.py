"""The platform's two customer-managed KMS keys and their key policies."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class PlatformKeys(Construct):
    """``data_key`` encrypts data at rest (S3 lake, Glue catalog, Redshift, its admin and QuickSight login secrets);
    ``logs_key`` encrypts audit and operational telemetry (CloudTrail, CloudWatch Logs, SNS).

    Rotation is fixed on. Key policies keep CDK's default (the account root delegates to IAM, so principals get
    access only through their own IAM policies via ``grant_*``) and add service principals only where a service,
    not an IAM principal, calls KMS — each scoped by encryption context or source account/ARN to this account and
    region. Service statements name ARN *patterns*, never resources of other stacks, so every other stack can
    depend on this one without creating a cycle.
    """

    def __init__(self, scope: Construct, construct_id: str, *, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        account, region, partition = stack.account, stack.region, stack.partition

        def platform_key(key_id: str, description: str) -> kms.Key:
            # every key the same way: rotation fixed on, kept or destroyed with the environment's data
            return kms.Key(self, key_id, description=description, enable_key_rotation=True,
                           removal_policy=removal_policy)

        self.data_key = platform_key(
            "DataKey",
            "Data at rest: S3 lake buckets, Glue Data Catalog, Redshift Serverless and its secrets (admin, QuickSight login)",
        )
        self.logs_key = platform_key("LogsKey", "Telemetry: CloudTrail, CloudWatch Logs log groups, SNS topics")

        # CloudWatch Logs encrypts log groups with the key itself; AWS documents this statement, limited to log
        # groups of this account and region via the encryption context.
        self.logs_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsEncryptLogGroupsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account}:log-group:*"
                    }
                },
            )
        )
        # CloudTrail encrypts log files per trail; restricted to trails of this account.
        trail_arns = f"arn:{partition}:cloudtrail:*:{account}:trail/*"
        self.logs_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailEncryptTrailsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_arns},
                    "ArnLike": {"aws:SourceArn": trail_arns},
                },
            )
        )
        self.logs_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailDescribeKey",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:DescribeKey"],
                resources=["*"],
                conditions={"ArnLike": {"aws:SourceArn": trail_arns}},
            )
        )
        # CloudWatch alarms and EventBridge rules publish to KMS-encrypted SNS topics as services, so they need
        # the key in its policy (an IAM grant cannot reach a service principal); limited to this account.
        self.logs_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AlarmsAndEventsPublishToEncryptedTopics",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com"), iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
