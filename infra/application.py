"""Build the CDK app for one environment — the single code path of app.py, the tests, the demo and the bench."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App
from cdk_nag import NagPack

from infra import compliance
from infra.config import CONTEXT_KEY, EnvironmentConfig, load_config
from infra.stage import PlatformStage

REPO_ROOT = Path(__file__).resolve().parents[1]
CDK_JSON = REPO_ROOT / "cdk.json"


@dataclass
class Platform:
    app: App
    config: EnvironmentConfig
    stage: PlatformStage
    packs: list[NagPack]


def cdk_json_context() -> dict[str, Any]:
    """The context block of cdk.json (feature flags + environments): what the CDK CLI gives app.py."""
    return json.loads(CDK_JSON.read_text())["context"]


def build_platform(app: App, *, acknowledge: bool = True, nag: bool = True) -> Platform:
    """Pick the environment from ``-c env=NAME`` (default dev), validate its config, add its Stage, apply the
    acknowledgments and register the nag packs. Raises ConfigError with a one-line message on bad config."""
    config = load_config(app.node.try_get_context("env"), app.node.try_get_context(CONTEXT_KEY))
    stage = PlatformStage(app, config=config)
    if acknowledge:
        compliance.apply_acknowledgments(stage, config)
    packs = compliance.register_packs(app) if nag else []
    return Platform(app=app, config=config, stage=stage, packs=packs)


def new_app(env_name: str, *, outdir: str | Path, extra_context: dict[str, Any] | None = None,
            validation: bool = True) -> App:
    """An App configured exactly like the CLI does from cdk.json, for in-process synth (tests, demo, bench)."""
    context = {**cdk_json_context(), "env": env_name, **(extra_context or {})}
    return App(context=context, outdir=str(outdir), builtin_cloud_formation_validation=validation)
