"""In-process synthesis of whole environments, with the nag results, for tests, the demo and the benchmark.

Builds exactly like ``app.py`` under the CDK CLI: cdk.json context (feature flags included), ``env`` picked the
same way, nag packs registered as validation plugins (findings fail synthesis), CDK's built-in template
validation on. Additionally records the findings *before* acknowledgments, so tests can prove every
acknowledgment still matches a real finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import compliance
from infra.application import build_platform, new_app
from infra.config import EnvironmentConfig


@dataclass
class SynthesizedEnvironment:
    name: str
    config: EnvironmentConfig
    outdir: Path
    stage: Any  # infra.stage.PlatformStage (kept for construct-level inspection)
    template_paths: dict[str, Path] = field(default_factory=dict)  # stack id (e.g. "Storage") -> template file
    stack_dependencies: dict[str, set[str]] = field(default_factory=dict)  # stack id -> stack ids it needs first
    raw_findings: list[compliance.Finding] = field(default_factory=list)  # before acknowledgments
    unacknowledged: list[compliance.Finding] = field(default_factory=list)  # after acknowledgments
    # (path, canonical rule id) of every acknowledgment applied, comparable with the findings' rule ids.
    acknowledged: set[tuple[str, str]] = field(default_factory=set)
    synth_error: str | None = None  # set when app.synth() failed (e.g. validation), templates still written
    validation_report: dict | None = None  # cdk.out/validation-report.json when synth found violations
    _templates: dict[str, dict] = field(default_factory=dict)

    def template(self, stack_id: str) -> dict:
        if stack_id not in self._templates:
            if stack_id not in self.template_paths:
                raise KeyError(f"no stack {stack_id!r} in {self.name}: have {sorted(self.template_paths)}")
            self._templates[stack_id] = json.loads(self.template_paths[stack_id].read_text())
        return self._templates[stack_id]

    @property
    def stack_ids(self) -> list[str]:
        return list(self.template_paths)

    def resources(self, resource_type: str | None = None) -> Iterator[tuple[str, str, dict]]:
        """(stack id, logical id, resource) of every resource, optionally of one CloudFormation type."""
        for stack_id in self.template_paths:
            for logical_id, resource in self.template(stack_id).get("Resources", {}).items():
                if resource_type is None or resource["Type"] == resource_type:
                    yield stack_id, logical_id, resource


@dataclass
class SynthResult:
    environments: dict[str, SynthesizedEnvironment]

    def __getitem__(self, env: str) -> SynthesizedEnvironment:
        return self.environments[env]

    def template(self, env: str, stack_id: str) -> dict:
        return self.environments[env].template(stack_id)

    def template_path(self, env: str, stack_id: str) -> Path:
        return self.environments[env].template_paths[stack_id]

    def all_templates(self) -> Iterator[tuple[str, str, dict]]:
        for env, synthesized in self.environments.items():
            for stack_id in synthesized.template_paths:
                yield env, stack_id, synthesized.template(stack_id)


def _read_stage_manifest(outdir: Path, stage_id: str) -> tuple[dict[str, Path], dict[str, set[str]]]:
    """Template file and stack dependencies of each stack of the stage, keyed by stack id ("Storage")."""
    assembly = outdir / f"assembly-{stage_id}"
    artifacts = json.loads((assembly / "manifest.json").read_text())["artifacts"]
    stacks = {aid: a for aid, a in artifacts.items() if a["type"] == "aws:cloudformation:stack"}
    stack_id = {aid: a["displayName"].split("/", 1)[1] for aid, a in stacks.items()}
    paths = {stack_id[aid]: assembly / a["properties"]["templateFile"] for aid, a in stacks.items()}
    deps = {stack_id[aid]: {stack_id[d] for d in a.get("dependencies", []) if d in stack_id}
            for aid, a in stacks.items()}
    return paths, deps


def synthesize_environment(env: str, outdir: Path, *, validation: bool = True) -> SynthesizedEnvironment:
    """Build and synthesize one environment into ``outdir``; never raises for nag/validation findings (see
    ``synth_error``, ``unacknowledged``), only for bad config or code errors."""
    app = new_app(env, outdir=outdir, validation=validation)
    platform = build_platform(app, acknowledge=False, nag=False)
    stage_path = platform.stage.node.path
    raw = compliance.collect_findings(compliance.nag_packs(app), app, stage_path)
    compliance.apply_acknowledgments(platform.stage, platform.config)
    packs = compliance.register_packs(app)
    result = SynthesizedEnvironment(name=env, config=platform.config, outdir=outdir, stage=platform.stage,
                                    raw_findings=raw)
    result.unacknowledged = compliance.collect_findings(packs, app, stage_path)
    result.acknowledged = compliance.acknowledged_rules(platform.config, compliance.ReferenceForms(app))
    try:
        app.synth()
    except RuntimeError as err:  # jsii surfaces ValidationFailed as RuntimeError; templates are already written
        result.synth_error = str(err).splitlines()[0]
    report = outdir / "validation-report.json"
    if report.exists():
        result.validation_report = json.loads(report.read_text())
    result.template_paths, result.stack_dependencies = _read_stage_manifest(outdir, platform.config.stage_id)
    return result
