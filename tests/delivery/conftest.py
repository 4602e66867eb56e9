"""Delivery tests' shared fixture: the pipeline app (`cdk synth -c pipeline=true`) synthesized once per session."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="session")
def delivery_pipeline(tmp_path_factory):
    """-> (infra.pipeline.Delivery, Delivery stack template, unacknowledged nag findings, outdir)."""
    from infra import compliance
    from infra.application import new_app
    from infra.pipeline import PIPELINE_STACK_ID, build_delivery_pipeline

    outdir = tmp_path_factory.mktemp("pipeline-out")
    # Template validation off (it does not change templates; tests/infra runs it on every environment).
    app = new_app("dev", outdir=outdir, extra_context={"pipeline": "true"}, validation=False)
    built = build_delivery_pipeline(app, nag=False)
    findings = compliance.collect_findings(compliance.nag_packs(app), app, built.stack.node.path)
    app.synth()
    template = json.loads((outdir / f"{PIPELINE_STACK_ID}.template.json").read_text())
    return built, template, findings, outdir
