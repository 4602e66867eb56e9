"""Compliance gates: AwsSolutions, PCI DSS 3.2.1 and NIST 800-53 R5 with zero unacknowledged findings, every
acknowledgment precise and still needed, and CDK's own template validation clean."""

from __future__ import annotations

import collections
import json

import pytest

from infra import compliance
from infra.config import ENVIRONMENT_NAMES

ENVS = list(ENVIRONMENT_NAMES)


@pytest.mark.parametrize("env", ENVS)
def test_no_unacknowledged_nag_findings(synth, env):
    left = synth[env].unacknowledged
    assert not left, (
        f"{len(left)} new cdk-nag finding(s) in {env}. Fix the resource, or acknowledge each in infra/compliance.py "
        "with a real reason:\n" + "\n".join(f.as_ack_source() for f in left)
    )


@pytest.mark.parametrize("env", ENVS)
def test_synth_with_packs_registered_succeeds(synth, env):
    """The packs are validation plugins: an unacknowledged finding (or a CDK validation error) fails synth."""
    assert synth[env].synth_error is None, synth[env].synth_error
    report = synth[env].validation_report
    if report is not None:
        failing = [p["pluginName"] for p in report["pluginReports"] if p.get("conclusion") != "success"]
        assert not failing, f"validation plugins reported violations: {failing}"


@pytest.mark.parametrize("env", ENVS)
def test_every_acknowledgment_matches_a_real_finding(synth, env):
    # Both sides canonical (compliance.ReferenceForms): a cross-stack wildcard has one readable acknowledgment.
    raw = {(f.path, f.rule) for f in synth[env].raw_findings}
    stale = sorted(synth[env].acknowledged - raw)
    assert not stale, f"acknowledgments in infra/compliance.py that no longer match a finding in {env}: {stale}"


def test_packs_actually_run(synth):
    """Guard against a silently empty gate: without acknowledgments the packs do find things."""
    packs = {f.pack for f in synth["prod"].raw_findings}
    assert packs == {"AwsSolutions", "PCI.DSS.321", "NIST.800.53.R5"}


def test_acknowledgments_are_precise_and_unique():
    seen = collections.Counter((a.path, a.rule) for a in compliance.ACKNOWLEDGMENTS)
    assert not [k for k, n in seen.items() if n > 1], "duplicate acknowledgments"
    for ack in compliance.ACKNOWLEDGMENTS:
        assert "*" not in ack.path, f"acknowledgment paths name one construct, not a pattern: {ack.path}"
        assert ack.path.endswith("/Resource"), f"acknowledge the CloudFormation resource itself: {ack.path}"
        assert len(ack.reason) >= 60 and "<why" not in ack.reason, f"give {ack.rule} on {ack.path} a real reason"
        assert set(ack.environments) <= set(ENVIRONMENT_NAMES)


def test_acknowledging_applies_to_exactly_one_construct(synth):
    """Validations acknowledgments cover a subtree: each must sit on a leaf L1 resource, never on a parent."""
    stage = synth["dev"].stage
    for ack in compliance.acknowledgments_for("dev"):
        node = stage
        for part in ack.path.split("/"):
            node = node.node.find_child(part)
        assert not node.node.children, f"{ack.path} has children: the acknowledgment would cover them too"


def test_stale_acknowledgment_path_fails_with_one_line(monkeypatch, synth):
    bogus = compliance.Ack("Storage/Lake/Gone/Bucket/Resource", "AwsSolutions-S1", "x" * 60)
    monkeypatch.setattr(compliance, "ACKNOWLEDGMENTS", (*compliance.ACKNOWLEDGMENTS, bogus))
    with pytest.raises(compliance.StaleAcknowledgment, match=r"names 'Storage/Lake/Gone/Bucket/Resource'.*fix the path"):
        compliance.apply_acknowledgments(synth["dev"].stage, synth["dev"].config)


def _cross_stack_app(tmp_path, *, acknowledge: str | None, explicit_export: bool = False):
    """A Storage-like stack with a bucket and a consumer stack whose role has a wildcard on that bucket's
    ``raw/*`` (the Glue/orchestration pattern), gated by AwsSolutions; returns (app, consumer policy, pack)."""
    from aws_cdk import App, Stack, Stage, Validations, Acknowledgment
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_s3 as s3
    from cdk_nag import AwsSolutionsChecks

    from infra.application import cdk_json_context

    app = App(context=cdk_json_context(), outdir=str(tmp_path), builtin_cloud_formation_validation=False)
    stage = Stage(app, "Dev")
    producer = Stack(stage, "Storage", stack_name="t-storage")
    bucket = s3.Bucket(producer, "Raw", enforce_ssl=True)
    consumer = Stack(stage, "Consumer", stack_name="t-consumer")
    arn = producer.export_value(bucket.bucket_arn, name="t-raw-bucket-arn") if explicit_export else bucket.bucket_arn
    role = iam.Role(consumer, "Role", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{arn}/raw/*"]))
    policy = role.node.find_child("DefaultPolicy").node.default_child
    if acknowledge:
        Validations.of(policy).acknowledge(Acknowledgment(id=acknowledge, reason="test"))
    pack = AwsSolutionsChecks(app)
    Validations.of(app).add_plugins(compliance.AcknowledgingGate(app, pack))
    return app, policy, pack


def _readable_rule(app) -> str:
    bucket = app.node.find_child("Dev").node.find_child("Storage").node.find_child("Raw").node.default_child
    return f"AwsSolutions-IAM5[Resource::<{bucket.stack.get_logical_id(bucket)}.Arn>/raw/*]"


@pytest.mark.parametrize("explicit_export", [False, True], ids=["stack-output", "import-value"])
def test_one_readable_ack_covers_a_cross_stack_wildcard_before_and_during_synth(tmp_path, explicit_export):
    probe, policy, probe_pack = _cross_stack_app(tmp_path / "probe", acknowledge=None,
                                                 explicit_export=explicit_export)
    readable, path = _readable_rule(probe), policy.node.path

    def policy_rules(violations) -> set[str]:
        return {v.rule_name for v in violations if any(r.construct_path == path for r in v.violating_resources)}

    # Before synthesis the finding is canonical already; the gate finds it.
    assert {f.rule for f in compliance.collect_findings([probe_pack], probe, "Dev")
            if f.path == "Consumer/Role/DefaultPolicy/Resource"} == {readable}
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        probe.synth()
    # During synthesis cdk-nag itself names another form (what a single exact-id ack could not match)...
    native = policy_rules(probe_pack.validate_scope(probe).violations)
    assert len(native) == 1 and readable not in native
    assert ("Fn::GetStackOutput" in native.pop()) != explicit_export
    # ...which the gate reports in the readable form, so the message says what to acknowledge.
    report = json.loads((tmp_path / "probe" / "validation-report.json").read_text())
    assert {v["ruleName"] for p in report["pluginReports"] for v in p.get("violations", [])
            if any(r.get("constructPath") == path for r in v["violatingConstructs"])} == {readable}

    app, policy, pack = _cross_stack_app(tmp_path / "acked", acknowledge=readable, explicit_export=explicit_export)
    assert [f for f in compliance.collect_findings([pack], app, "Dev") if f.path.startswith("Consumer/")] == []
    with pytest.raises(RuntimeError, match="ValidationFailed"):  # the bucket's own findings, not the policy's
        app.synth()
    report = json.loads((tmp_path / "acked" / "validation-report.json").read_text())
    assert not [r for p in report["pluginReports"] for v in p.get("violations", []) for r in v["violatingConstructs"]
                if r.get("constructPath") == policy.node.path]


def test_reference_forms_only_rewrite_known_outputs(tmp_path):
    app, _, _ = _cross_stack_app(tmp_path, acknowledge=None, explicit_export=True)
    forms = compliance.ReferenceForms(app)
    unknown = 'AwsSolutions-IAM5[Resource::{"Fn::GetStackOutput":{"StackName":"other","OutputName":"X"}}/*]'
    assert forms.canonical(unknown) == unknown
    assert forms.canonical("AwsSolutions-IAM5[Resource::t-raw-bucket-arn/raw/*]") == _readable_rule(app)
    assert forms.canonical("AwsSolutions-S1") == "AwsSolutions-S1"
