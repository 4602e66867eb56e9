"""The models' artifact store in the artifacts bucket (KMS, versioned), and the manifest dbt's runner trusts.

    <prefix>/<model>/runs/<run id>/{card.md,card.json,model.sql,promotion.json}   every candidate, promoted or not
    <prefix>/<model>/promoted/{card.md,card.json,model.sql}                        what runs today (bucket-versioned)
    <prefix>/dbt_macros/<run id>/<model>.sql                                       what dbt scores with, per run
    <prefix>/promoted.json                                                         the manifest, written last

The manifest names, per model, the macro file's key, its SHA-256 and the version it holds ('none' before any model
was promoted). The dbt runner (infra/assets/dbt_runner/fetch_models.py) downloads exactly those keys and checks
the hashes, so a half-written run, a missing object or a corrupted one stops the dbt build with a line naming it -
never a silently empty score. Written last, the manifest switches dbt to a run's macros in one PUT.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

PREFIX = "models"  # in the artifacts bucket (infra: the trainer writes it, the dbt runner reads it)
MANIFEST = "promoted.json"
CARD_FILES = ("card.md", "card.json", "model.sql")
RUN_FILES = (*CARD_FILES, "promotion.json")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pull_promoted(s3, bucket: str, prefix: str, models_dir: Path, names) -> dict[str, str]:
    """Download each model's promoted card and SQL into <models_dir>/<model>/promoted/ (where ml.models'
    gate looks for the incumbent). -> {model: version} of those found."""
    found = {}
    for name in names:
        folder = models_dir / name / "promoted"
        objects = {}
        for file in CARD_FILES:
            try:
                objects[file] = s3.get_object(Bucket=bucket, Key=f"{prefix}/{name}/promoted/{file}")["Body"].read()
            except s3.exceptions.NoSuchKey:
                break
        if len(objects) < len(CARD_FILES):
            if objects:  # part of a promoted model: a broken store, not a first run
                missing = sorted(set(CARD_FILES) - set(objects))
                raise FileNotFoundError(f"s3://{bucket}/{prefix}/{name}/promoted/ lacks {', '.join(missing)}: "
                                        "restore the previous object versions (the bucket is versioned)")
            continue
        folder.mkdir(parents=True, exist_ok=True)
        for file, body in objects.items():
            (folder / file).write_bytes(body)
        found[name] = json.loads(objects["card.json"])["version"]
    return found


def push_run(s3, bucket: str, prefix: str, models_dir: Path, run_id: str, promoted: dict[str, bool]) -> dict:
    """Upload one retraining run (see the module's doc), the manifest last. `promoted`: {model: gate passed}.
    -> the manifest."""
    def put(key: str, body: bytes, content_type: str) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    def content_type(file: str) -> str:
        return {"md": "text/markdown", "json": "application/json"}.get(file.rsplit(".", 1)[-1], "text/plain")

    models = {}
    for name, passed in promoted.items():
        for file in RUN_FILES:
            put(f"{prefix}/{name}/runs/{run_id}/{file}", (models_dir / name / file).read_bytes(), content_type(file))
        if passed:
            for file in CARD_FILES:
                put(f"{prefix}/{name}/promoted/{file}", (models_dir / name / "promoted" / file).read_bytes(),
                    content_type(file))
        body = (models_dir / "dbt_macros" / f"{name}.sql").read_bytes()
        key = f"{prefix}/dbt_macros/{run_id}/{name}.sql"
        put(key, body, "text/plain")
        card = models_dir / name / "promoted" / "card.json"
        version = json.loads(card.read_text())["version"] if card.exists() else "none"
        models[name] = {"key": key, "sha256": sha256(body), "version": version}
    manifest = {"run": run_id, "models": models}
    put(f"{prefix}/{MANIFEST}", json.dumps(manifest, indent=2, sort_keys=True).encode(), "application/json")
    return manifest
