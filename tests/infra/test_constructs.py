"""Construct-level Template assertions on small stacks (built-in template validation off: unit scope only;
the full synth with validation on is the session `synth` fixture)."""

from __future__ import annotations

import pytest
from aws_cdk import App, Environment, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

from infra.application import cdk_json_context
from infra.constructs.keys import PlatformKeys
from infra.constructs.secure_bucket import AccessLogsBucket, SecureBucket


@pytest.fixture
def stack() -> Stack:
    app = App(context=cdk_json_context(), builtin_cloud_formation_validation=False)
    return Stack(app, "Unit", env=Environment(account="123456789012", region="eu-west-1"))


def test_secure_bucket_fixed_settings_and_object_lock(stack):
    logs = AccessLogsBucket(stack, "Logs", removal_policy=RemovalPolicy.RETAIN, noncurrent_version_expiry_days=30,
                            expiry_days=365)
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    SecureBucket(stack, "Audit", encryption_key=key, access_logs_bucket=logs.bucket, removal_policy=RemovalPolicy.RETAIN,
                 noncurrent_version_expiry_days=30, object_lock_days=400)
    t = Template.from_stack(stack)
    t.has_resource("AWS::S3::Bucket", {
        "Properties": Match.object_like({
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{
                "BucketKeyEnabled": True,
                "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                  "KMSMasterKeyID": {"Fn::GetAtt": [Match.any_value(), "Arn"]}}}]},
            "ObjectLockEnabled": True,
            "ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled",
                                        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 400}}},
            "LoggingConfiguration": {"DestinationBucketName": {"Ref": Match.string_like_regexp("^LogsBucket")},
                                     "LogFilePrefix": "Unit-Audit/"},
        }),
        "DeletionPolicy": "Retain",
    })
    # TLS 1.2+ enforced in the bucket policy.
    t.has_resource_properties("AWS::S3::BucketPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Effect": "Deny", "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}}})])}})


def test_access_logs_bucket_accepts_log_delivery_only_from_this_account(stack):
    AccessLogsBucket(stack, "Logs", removal_policy=RemovalPolicy.DESTROY, noncurrent_version_expiry_days=7,
                     expiry_days=90)
    t = Template.from_stack(stack)
    t.has_resource_properties("AWS::S3::BucketPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Sid": "S3ServerAccessLogsFromThisAccount", "Effect": "Allow",
                           "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
                           "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}})])}})
    t.has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Delete"})


def test_platform_keys_rotate_and_scope_services(stack):
    PlatformKeys(stack, "Keys", removal_policy=RemovalPolicy.RETAIN)
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::KMS::Key", 2)
    t.all_resources_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    t.has_resource_properties("AWS::KMS::Key", {"KeyPolicy": {"Statement": Match.array_with([Match.object_like({
        "Sid": "CloudWatchLogsEncryptLogGroupsOfThisAccount",
        "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                  "arn:aws:logs:eu-west-1:123456789012:log-group:*"}}})])}})
