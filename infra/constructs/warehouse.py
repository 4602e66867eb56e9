"""Redshift Serverless: namespace + workgroup (with the lake's Spectrum role attached) and the spend guard."""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_redshiftserverless as rs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.config import WarehouseConfig

REDSHIFT_PORT = 5439
# Everything Redshift Serverless can export to CloudWatch Logs (audit logging).
LOG_EXPORTS = ["userlog", "connectionlog", "useractivitylog"]
# QuickSight's database user: the Redshift bootstrap creates it holding only the quicksight_reader role (marts).
QUICKSIGHT_USER = "quicksight"


@dataclass(frozen=True)
class DatabaseLogin:
    """A password database user: ``secret`` (encrypted with ``key``) holds ``username`` and a generated ``password``
    (the credential-pair form QuickSight data sources read); the bootstrap Lambda sets that password in Redshift."""

    username: str
    secret: secretsmanager.ISecret
    key: kms.IKey

    def read_statements(self) -> list[iam.PolicyStatement]:
        """GetSecretValue on the secret, and kms:Decrypt of its key only through Secrets Manager, for a reader that
        cannot decrypt with the key otherwise (QuickSight's role). For the reader's own policy: ``Secret.grant_read``
        writes the reader into the key's policy instead (the key lives in the Security stack, which would then
        depend on every reader: a cycle)."""
        region = Stack.of(self.secret).region
        return [
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[self.secret.secret_arn]),
            iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self.key.key_arn],
                                conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}),
        ]


class Warehouse(Construct):
    """Attributes: ``namespace``, ``workgroup`` (L1), ``namespace_name``, ``workgroup_name``, ``database_name``,
    ``security_group`` (allow ingress from your workload's group on ``REDSHIFT_PORT``), ``spectrum_role`` (the
    default IAM role of the namespace: ``CREATE EXTERNAL SCHEMA … IAM_ROLE default``),
    ``admin_secret_arn`` (Secrets Manager secret Redshift manages), ``data_key``, ``workgroup_arn``, ``usage_limit``,
    ``quicksight_login`` (:class:`DatabaseLogin` of QuickSight's user; None unless ``quicksight_login=True``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: WarehouseConfig,
        name: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        data_key: kms.IKey,
        spectrum_role: iam.IRole,
        log_group_key: kms.IKey,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        quicksight_login: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.data_key = data_key
        self.database_name = settings.database_name
        # Namespace and workgroup names are required inputs and cannot change after creation (ARCHITECTURE.md).
        self.namespace_name = name
        self.workgroup_name = name

        self.spectrum_role = spectrum_role
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description="Redshift Serverless workgroup", allow_all_outbound=False
        )
        # Enhanced VPC routing sends Spectrum/COPY traffic to S3 through the VPC: allow HTTPS out (S3 gateway
        # endpoint and interface endpoints live in this VPC).
        # The S3 gateway endpoint has no fixed CIDR (its prefix list id needs an account lookup at synth); with
        # no internet gateway or NAT in the VPC, HTTPS egress can only reach S3 and the interface endpoints.
        self.security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "S3 and interface endpoints")

        self.namespace = rs.CfnNamespace(
            self,
            "Namespace",
            namespace_name=self.namespace_name,
            db_name=settings.database_name,
            admin_username=settings.admin_username,
            # Redshift creates and rotates the admin password in Secrets Manager; nobody ever sees it in code.
            manage_admin_password=True,
            admin_password_secret_kms_key_id=data_key.key_arn,
            kms_key_id=data_key.key_arn,
            iam_roles=[self.spectrum_role.role_arn],
            default_iam_role_arn=self.spectrum_role.role_arn,
            log_exports=LOG_EXPORTS,
        )
        # L1 resources default to DELETE: the namespace holds the warehouse's data, so it follows the environment's
        # removal policy like every bucket and key (RETAIN in prod).
        self.namespace.apply_removal_policy(removal_policy)
        self.workgroup = rs.CfnWorkgroup(
            self,
            "Workgroup",
            workgroup_name=self.workgroup_name,
            namespace_name=self.namespace_name,
            base_capacity=settings.base_rpu,
            max_capacity=settings.max_rpu,
            enhanced_vpc_routing=True,
            publicly_accessible=False,
            port=REDSHIFT_PORT,
            subnet_ids=vpc.select_subnets(subnet_type=subnets.subnet_type).subnet_ids,
            security_group_ids=[self.security_group.security_group_id],
            config_parameters=[
                rs.CfnWorkgroup.ConfigParameterProperty(parameter_key="require_ssl", parameter_value="true"),
                rs.CfnWorkgroup.ConfigParameterProperty(parameter_key="enable_user_activity_logging", parameter_value="true"),
            ],
        )
        # The workgroup names its namespace by a plain string, so CloudFormation needs the order spelled out.
        self.workgroup.node.add_dependency(self.namespace)
        self.workgroup_arn = self.workgroup.attr_workgroup_workgroup_arn

        # No CloudFormation resource exists for usage limits (ARCHITECTURE.md): CreateUsageLimit via a custom
        # resource. The period is fixed at creation (UpdateUsageLimit changes only amount and breach action).
        usage_limit_arns = stack.format_arn(service="redshift-serverless", resource="usagelimit", resource_name="*")
        custom_resource_logs = logs.LogGroup(
            self, "UsageLimitLogs", encryption_key=log_group_key, retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Both custom resources run on the stack's one AwsCustomResource Lambda: one set of provider settings.
        provider = dict(install_latest_aws_sdk=False, vpc=vpc, vpc_subnets=subnets, log_group=custom_resource_logs,
                        timeout=Duration.minutes(5))

        def serverless_call(action: str, parameters: dict, **kwargs) -> cr.AwsSdkCall:
            return cr.AwsSdkCall(service="redshift-serverless", action=action, parameters=parameters, **kwargs)

        usage_limit_id = cr.PhysicalResourceId.from_response("usageLimit.usageLimitId")
        self.usage_limit = cr.AwsCustomResource(
            self,
            "UsageLimit",
            resource_type="Custom::RedshiftServerlessUsageLimit",
            on_create=serverless_call("CreateUsageLimit", {
                "resourceArn": self.workgroup_arn,
                "usageType": "serverless-compute",
                "amount": settings.usage_limit_rpu_hours,
                "period": settings.usage_limit_period,
                "breachAction": settings.usage_limit_breach_action,
            }, physical_resource_id=usage_limit_id),
            on_update=serverless_call("UpdateUsageLimit", {
                "usageLimitId": cr.PhysicalResourceIdReference(),
                "amount": settings.usage_limit_rpu_hours,
                "breachAction": settings.usage_limit_breach_action,
            }, physical_resource_id=usage_limit_id),
            on_delete=serverless_call("DeleteUsageLimit", {"usageLimitId": cr.PhysicalResourceIdReference()}),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    # Create is authorized on the workgroup it limits and the new usage-limit resource.
                    iam.PolicyStatement(
                        actions=["redshift-serverless:CreateUsageLimit", "redshift-serverless:UpdateUsageLimit",
                                 "redshift-serverless:DeleteUsageLimit"],
                        resources=[self.workgroup_arn, usage_limit_arns],
                    ),
                ]
            ),
            **provider,
        )

        # CloudFormation does not return the managed admin secret's ARN (aws-cdk#29930, needs-cfn): read it with
        # GetNamespace through the same custom-resource provider so the Redshift bootstrap can run SQL as the admin.
        self.admin_secret_lookup = cr.AwsCustomResource(
            self,
            "AdminSecretArn",
            resource_type="Custom::RedshiftServerlessAdminSecretArn",
            on_update=serverless_call("GetNamespace", {"namespaceName": self.namespace_name},
                                      physical_resource_id=cr.PhysicalResourceId.of(self.namespace_name),
                                      output_paths=["namespace.adminPasswordSecretArn"]),
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["redshift-serverless:GetNamespace"],
                                     resources=[self.namespace.attr_namespace_namespace_arn])]
            ),
            **provider,
        )
        self.admin_secret_arn = self.admin_secret_lookup.get_response_field("namespace.adminPasswordSecretArn")

        # QuickSight signs in as its own least-privilege user, never as the admin. Only the secret knows the password:
        # generated by Secrets Manager, encrypted with the data key like the admin secret; letters and digits only
        # (valid in Redshift and in any connection string), each class present (Redshift's password rules).
        self.quicksight_login: DatabaseLogin | None = None
        if quicksight_login:
            secret = secretsmanager.Secret(
                self, "QuickSightLogin",
                description=f"Redshift user {QUICKSIGHT_USER} ({self.workgroup_name}): the QuickSight data source's login",
                encryption_key=data_key,
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    secret_string_template=json.dumps({"username": QUICKSIGHT_USER}),
                    generate_string_key="password", password_length=32, exclude_punctuation=True,
                    require_each_included_type=True,
                ),
                removal_policy=removal_policy,
            )
            self.quicksight_login = DatabaseLogin(username=QUICKSIGHT_USER, secret=secret, key=data_key)
