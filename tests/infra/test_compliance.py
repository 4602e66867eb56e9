"""Compliance gates: AwsSolutions, PCI DSS 3.2.1 and NIST 800-53 R5 with zero unacknowledged findings, every
acknowledgment precise and still needed, and CDK's own template validation clean."""

from __future__ import annotations

import collections

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
    raw = {(f.path, f.rule) for f in synth[env].raw_findings}
    stale = sorted(compliance.acknowledged_rules(synth[env].config) - raw)
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
