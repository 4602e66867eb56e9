"""The one S3 bucket construct every bucket of the platform uses: the secure settings are not options."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

_FIXED = dict(
    block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    enforce_ssl=True,
    minimum_tls_version=1.2,
    versioned=True,
    object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
)


def _always_rules(noncurrent_version_expiry_days: int) -> list[s3.LifecycleRule]:
    return [
        s3.LifecycleRule(
            id="expire-noncurrent-versions",
            noncurrent_version_expiration=Duration.days(noncurrent_version_expiry_days),
            abort_incomplete_multipart_upload_after=Duration.days(7),
        )
    ]


class SecureBucket(Construct):
    """KMS (with S3 bucket keys), TLS 1.2+ only, all public access blocked, ACLs disabled, versioned, server access
    logs on, non-current versions expire. Callers choose only what legitimately differs: key, lifecycle, retention
    and (for audit buckets) object lock. Use ``.bucket`` for ``grant_*``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey,
        access_logs_bucket: s3.IBucket,
        removal_policy: RemovalPolicy,
        noncurrent_version_expiry_days: int,
        lifecycle_rules: Sequence[s3.LifecycleRule] = (),
        object_lock_days: int = 0,
    ) -> None:
        super().__init__(scope, construct_id)
        # The access-log target is referenced by name only: CDK would otherwise add one statement per source
        # bucket to the target's policy, and a source in a later stack would then make the two stacks depend on
        # each other. AccessLogsBucket grants log delivery account-wide instead.
        log_target = s3.Bucket.from_bucket_name(self, "AccessLogsTarget", access_logs_bucket.bucket_name)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            server_access_logs_bucket=log_target,
            server_access_logs_prefix=f"{self.node.path.replace('/', '-')}/",
            lifecycle_rules=[*_always_rules(noncurrent_version_expiry_days), *lifecycle_rules],
            removal_policy=removal_policy,
            object_lock_enabled=object_lock_days > 0 or None,
            object_lock_default_retention=(
                # COMPLIANCE: not even the root user can shorten it, which is what an audit trail needs.
                s3.ObjectLockRetention.compliance(Duration.days(object_lock_days)) if object_lock_days else None
            ),
            **_FIXED,
        )
        Annotations.of(self.bucket).acknowledge_warning(
            "@aws-cdk/aws-s3:accessLogsPolicyNotAdded",
            "AccessLogsBucket allows log delivery for every bucket of the account in its own policy",
        )


class AccessLogsBucket(Construct):
    """Target of S3 server access logs for every bucket of the environment.

    AWS constraint: a server-access-log target bucket cannot use SSE-KMS default encryption (log delivery only
    supports SSE-S3), so this is the one bucket encrypted with S3-managed keys. Everything else is as strict as
    SecureBucket.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: RemovalPolicy,
        noncurrent_version_expiry_days: int,
        expiry_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            lifecycle_rules=[
                *_always_rules(noncurrent_version_expiry_days),
                s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(expiry_days)),
            ],
            removal_policy=removal_policy,
            **_FIXED,
        )
        # One account-wide statement instead of one per source bucket (see SecureBucket): the logging service may
        # write here only on behalf of buckets owned by this account.
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="S3ServerAccessLogsFromThisAccount",
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects("*")],
                conditions={"StringEquals": {"aws:SourceAccount": self.bucket.stack.account}},
            )
        )
