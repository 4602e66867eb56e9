"""Security properties, asserted on the synthesized templates of every environment (what would be deployed)."""

from __future__ import annotations

import pytest

from infra.config import ENVIRONMENT_NAMES
from infra.constructs.network import INTERFACE_ENDPOINTS

ENVS = list(ENVIRONMENT_NAMES)


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _statements(resource: dict):
    """Every policy statement anywhere in a resource (IAM policies, inline role policies, key/bucket policies)."""
    for node in _walk(resource.get("Properties", {})):
        statements = node.get("Statement")
        if isinstance(statements, list):
            yield from statements


def _access_log_target_refs(env) -> set[str]:
    return {
        str(r["Properties"]["LoggingConfiguration"]["DestinationBucketName"])
        for _, _, r in env.resources("AWS::S3::Bucket")
        if "LoggingConfiguration" in r["Properties"]
    }


@pytest.mark.parametrize("env", ENVS)
def test_every_bucket_is_kms_ssl_only_private_versioned_and_logged(synth, env):
    e = synth[env]
    buckets = list(e.resources("AWS::S3::Bucket"))
    assert len(buckets) >= 6  # landing, raw, quarantine, artifacts, access logs, trail (+ other areas' buckets)
    ssl_denied = {
        str(next(iter(p["Properties"]["Bucket"].values())))
        for _, _, p in e.resources("AWS::S3::BucketPolicy")
        for st in p["Properties"]["PolicyDocument"]["Statement"]
        if st["Effect"] == "Deny" and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    }
    plain_sse = []
    for stack_id, logical_id, bucket in buckets:
        props = bucket["Properties"]
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        algorithm = sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
        if algorithm == "aws:kms":
            assert sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"], logical_id
            assert sse["BucketKeyEnabled"] is True, logical_id
            assert "LoggingConfiguration" in props, f"{logical_id} has no server access logs"
        else:
            plain_sse.append((logical_id, algorithm))
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True
        }, logical_id
        assert props["VersioningConfiguration"]["Status"] == "Enabled", logical_id
        assert props["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced", logical_id
        rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
        assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == \
            e.config.retention.noncurrent_version_expiry_days
        assert logical_id in ssl_denied, f"{logical_id} does not deny non-TLS requests"
    # Exactly one bucket is not KMS-encrypted: the server-access-log target (AWS supports only SSE-S3 there).
    assert len(plain_sse) == 1 and plain_sse[0][1] == "AES256"
    assert any(plain_sse[0][0] in ref for ref in _access_log_target_refs(e))


@pytest.mark.parametrize("env", ENVS)
def test_lifecycle_rules_follow_config(synth, env):
    e = synth[env]
    r = e.config.retention
    rules_by_bucket = {lid: {x["Id"]: x for x in b["Properties"]["LifecycleConfiguration"]["Rules"]}
                       for _, lid, b in e.resources("AWS::S3::Bucket")}
    landing = next(v for k, v in rules_by_bucket.items() if k.startswith("LakeLanding"))
    raw = next(v for k, v in rules_by_bucket.items() if k.startswith("LakeRaw"))
    assert landing["expire-landed-files"]["ExpirationInDays"] == r.landing_expiry_days
    transitions = raw["tier-to-infrequent-access-then-glacier"]["Transitions"]
    assert [(t["StorageClass"], t["TransitionInDays"]) for t in transitions] == [
        ("STANDARD_IA", r.raw_infrequent_access_days), ("GLACIER_IR", r.raw_glacier_days)]


@pytest.mark.parametrize("env", ENVS)
def test_every_log_group_is_encrypted_with_retention(synth, env):
    groups = list(synth[env].resources("AWS::Logs::LogGroup"))
    assert len(groups) >= 3  # trail, flow logs, custom-resource provider
    for _, logical_id, group in groups:
        assert "KmsKeyId" in group["Properties"], f"{logical_id} is not KMS-encrypted"
        assert group["Properties"]["RetentionInDays"] == synth[env].config.retention.log_retention_days, logical_id


@pytest.mark.parametrize("env", ENVS)
def test_every_key_rotates(synth, env):
    keys = list(synth[env].resources("AWS::KMS::Key"))
    assert len(keys) >= 2  # data + logs keys (other areas should reuse them)
    for _, logical_id, key in keys:
        assert key["Properties"]["EnableKeyRotation"] is True, logical_id


@pytest.mark.parametrize("env", ENVS)
def test_no_iam_statement_allows_every_action(synth, env):
    offenders = []
    for stack_id, logical_id, resource in synth[env].resources():
        for st in _statements(resource):
            actions = st.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if st.get("Effect") == "Allow" and "*" in actions:
                offenders.append(f"{stack_id}/{logical_id}")
            assert "NotAction" not in st or st.get("Effect") == "Deny", f"{stack_id}/{logical_id} allows NotAction"
    assert not offenders, offenders


@pytest.mark.parametrize("env", ENVS)
def test_logs_key_policy_scopes_service_principals(synth, env):
    """Service principals reach the logs key only for this account's log groups / trails / sources."""
    for _, _, key in synth[env].resources("AWS::KMS::Key"):
        for st in key["Properties"]["KeyPolicy"]["Statement"]:
            service = st.get("Principal", {}).get("Service")
            if service:
                assert st.get("Condition"), f"unconditioned service statement {st.get('Sid')}"


@pytest.mark.parametrize("env", ENVS)
def test_redshift_serverless_is_private_encrypted_and_sized_from_config(synth, env):
    e = synth[env]
    (_, _, ns), = e.resources("AWS::RedshiftServerless::Namespace")
    (_, _, wg), = e.resources("AWS::RedshiftServerless::Workgroup")
    w = e.config.warehouse
    assert ns["Properties"]["ManageAdminPassword"] is True and "AdminUserPassword" not in ns["Properties"]
    assert ns["Properties"]["KmsKeyId"] and ns["Properties"]["AdminPasswordSecretKmsKeyId"]
    assert sorted(ns["Properties"]["LogExports"]) == ["connectionlog", "useractivitylog", "userlog"]
    assert wg["Properties"]["PubliclyAccessible"] is False
    assert wg["Properties"]["EnhancedVpcRouting"] is True
    assert (wg["Properties"]["BaseCapacity"], wg["Properties"]["MaxCapacity"]) == (w.base_rpu, w.max_rpu)
    assert len(wg["Properties"]["SubnetIds"]) == 3
    params = {p["ParameterKey"]: p["ParameterValue"] for p in wg["Properties"]["ConfigParameters"]}
    assert params["require_ssl"] == "true"


@pytest.mark.parametrize("env", ENVS)
def test_usage_limit_custom_resource_uses_config(synth, env):
    import json

    e = synth[env]
    (_, _, limit), = e.resources("Custom::RedshiftServerlessUsageLimit")
    create = json.dumps(limit["Properties"]["Create"])
    w = e.config.warehouse
    for expected in ('\\"usageType\\":\\"serverless-compute\\"', f'\\"amount\\":{w.usage_limit_rpu_hours}',
                     f'\\"period\\":\\"{w.usage_limit_period}\\"', f'\\"breachAction\\":\\"{w.usage_limit_breach_action}\\"',
                     "CreateUsageLimit"):
        assert expected in create, (expected, create)


@pytest.mark.parametrize("env", ENVS)
def test_cloudtrail(synth, env):
    e = synth[env]
    (_, _, trail), = e.resources("AWS::CloudTrail::Trail")
    p = trail["Properties"]
    assert p["IsMultiRegionTrail"] is True and p["IncludeGlobalServiceEvents"] is True
    assert p["EnableLogFileValidation"] is True and p["KMSKeyId"] and p["CloudWatchLogsLogGroupArn"]
    selectors = p["EventSelectors"]
    data = [d for s in selectors for d in s.get("DataResources", [])]
    assert all(d["Type"] == "AWS::S3::Object" for d in data)
    values = str([d["Values"] for d in data])
    assert "LakeLanding" in values and "LakeRaw" in values and len(data[0]["Values"]) == 2
    assert any(s.get("IncludeManagementEvents") and s.get("ReadWriteType") == "All" for s in selectors)


def test_trail_bucket_object_lock_only_in_production(synth):
    for env in ENVS:
        e = synth[env]
        (_, _, bucket), = [b for b in e.resources("AWS::S3::Bucket") if b[1].startswith("TrailTrailBucket")]
        lock = bucket["Properties"].get("ObjectLockConfiguration")
        if e.config.production:
            assert lock["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE",
                                                        "Days": e.config.retention.audit_object_lock_days}
            assert bucket["DeletionPolicy"] == "Retain"
        else:
            assert lock is None


def test_removal_policy_follows_config(synth):
    stateful = ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::RedshiftServerless::Namespace",
                "AWS::Glue::Database")
    for env in ENVS:
        e = synth[env]
        policies = {r.get("DeletionPolicy") for t in stateful for _, lid, r in e.resources(t)
                    if not lid.startswith("WarehouseUsageLimitLogs")}  # provider logs: DESTROY everywhere (no data)
        if e.config.destroy_on_removal:
            assert "Delete" in policies  # dev opted in explicitly
        else:
            assert policies == {"Retain"}, (env, policies)


@pytest.mark.parametrize("env", ENVS)
def test_vpc_is_isolated_with_endpoints_and_flow_logs(synth, env):
    e = synth[env]
    template = e.template("Network")
    types = [r["Type"] for r in template["Resources"].values()]
    assert "AWS::EC2::InternetGateway" not in types and "AWS::EC2::NatGateway" not in types
    assert types.count("AWS::EC2::Subnet") == 3
    for _, lid, subnet in e.resources("AWS::EC2::Subnet"):
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False, lid
    # The Network stack's own endpoints (other stacks may add theirs, e.g. a DynamoDB gateway endpoint).
    endpoints = [r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::VPCEndpoint"]
    gateways = [r for r in endpoints if r["Properties"].get("VpcEndpointType") == "Gateway"]
    interfaces = [r for r in endpoints if r["Properties"].get("VpcEndpointType") == "Interface"]
    assert len(gateways) == 1 and "s3" in str(gateways[0]["Properties"]["ServiceName"])
    assert len(interfaces) == len(INTERFACE_ENDPOINTS)
    assert all(r["Properties"]["PrivateDnsEnabled"] for r in interfaces)
    (_, _, flow), = e.resources("AWS::EC2::FlowLog")
    assert flow["Properties"]["TrafficType"] == "ALL"
    assert "Custom::VpcRestrictDefaultSG" in types  # default security group stripped of all rules
    for _, lid, sg in e.resources("AWS::EC2::SecurityGroup"):
        for rule in sg["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") != "0.0.0.0/0", lid


def test_spectrum_role_is_scoped_to_raw_prefix_and_catalog_database(synth):
    e = synth["prod"]
    policies = [r for _, lid, r in e.resources("AWS::IAM::Policy") if lid.startswith("LakeSpectrumRole")]
    statements = [st for p in policies for st in p["Properties"]["PolicyDocument"]["Statement"]]
    glue = next(st for st in statements if st.get("Sid") == "ReadRawCatalogDatabase")
    assert all(a.startswith("glue:Get") or a == "glue:BatchGetPartition" for a in glue["Action"])
    assert any(e.config.glue_database_name in str(r) for r in glue["Resource"])
    objects = next(st for st in statements if st.get("Sid") == "ReadRawObjects")
    assert objects["Action"] == "s3:GetObject" and "/raw/*" in str(objects["Resource"])


def _resolve_placeholders(value):
    """A custom resource's SDK call as JSON, with CloudFormation intrinsics replaced by a plausible ARN."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(_resolve_placeholders(p) for p in parts)
    return "arn:aws:redshift-serverless:eu-west-1:111111111111:workgroup/00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize("resource_type", ["Custom::RedshiftServerlessUsageLimit",
                                           "Custom::RedshiftServerlessAdminSecretArn"])
def test_custom_resource_sdk_calls_match_the_aws_api(synth, resource_type):
    """Every SDK call the custom resources make is a real redshift-serverless operation with valid parameters
    (botocore's bundled API model; the call cannot be exercised offline otherwise)."""
    import json

    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("redshift-serverless")
    checked = 0
    (_, _, resource), = synth["prod"].resources(resource_type)
    for phase in ("Create", "Update", "Delete"):
        if phase not in resource["Properties"]:
            continue
        call = json.loads(_resolve_placeholders(resource["Properties"][phase]))
        params = {k: (v if v != "PHYSICAL:RESOURCEID:" else "a1b2c3d4-usage-limit-id")
                  for k, v in call["parameters"].items()}
        report = ParamValidator().validate(params, model.operation_model(call["action"]).input_shape)
        assert not report.has_errors(), f"{resource_type} {phase}: {report.generate_report()}"
        checked += 1
    assert checked >= 1
