"""Bring the promoted models' dbt macros down for this build (run_dbt.sh build, before dbt runs).

    python fetch_models.py --bucket B --manifest-key models/promoted.json --shipped dbt/promoted_models --out DIR

The retraining step (ml/retrain.py, ml/artifacts.py) writes the manifest last: per model, the key of its macro
file, the file's SHA-256 and its version. This script copies exactly those objects into --out (the directory
DBT_PROMOTED_MODELS_DIR names) after checking each hash and that the file defines the model's macros. Every model
the dbt project scores (one file per model in the shipped --shipped folder) must be in the manifest.
- no manifest yet (no retraining has run): the shipped state is copied (version 'none': no score, the rules alone
  alert) and the build says so;
- anything else wrong (manifest unreadable, a model missing from it, an object missing, a hash or macro mismatch):
  exit 1 with one line naming it, also written to --error-file for the pipeline's alert. dbt does not run.
Needs only boto3 (installed with the runner's requirements) and the standard library.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path


class ArtifactError(RuntimeError):
    pass


def fetch(s3, *, bucket: str, manifest_key: str, shipped: Path, out: Path) -> str:
    """-> a line saying what dbt scores with. Raises ArtifactError naming what is wrong."""
    from botocore.exceptions import ClientError

    names = sorted(p.stem for p in shipped.glob("*.sql"))
    where = f"s3://{bucket}/{manifest_key}"
    try:
        raw = s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read()
    except ClientError as err:
        if err.response["Error"]["Code"] not in ("NoSuchKey", "404"):
            raise ArtifactError(f"cannot read {where}: {err.response['Error']['Code']}") from None
        out.mkdir(parents=True, exist_ok=True)
        for path in shipped.glob("*.sql"):
            shutil.copy(path, out / path.name)
        return f"no model promoted yet ({where} does not exist): scoring with the shipped state, rules only"
    try:
        models = json.loads(raw)["models"]
    except (ValueError, KeyError, TypeError):
        raise ArtifactError(f"{where} is not a promoted-models manifest: restore its previous object version") from None
    files = {}
    for name in names:
        entry = models.get(name) if isinstance(models, dict) else None
        if not entry or not {"key", "sha256", "version"} <= set(entry):
            raise ArtifactError(f"{where} has no entry for {name}: re-run the retraining step")
        try:
            body = s3.get_object(Bucket=bucket, Key=entry["key"])["Body"].read()
        except ClientError as err:
            raise ArtifactError(f"{name} {entry['version']}: s3://{bucket}/{entry['key']} cannot be read "
                                f"({err.response['Error']['Code']}): restore it or re-run the retraining step") from None
        if hashlib.sha256(body).hexdigest() != entry["sha256"]:
            raise ArtifactError(f"{name} {entry['version']}: s3://{bucket}/{entry['key']} does not match the "
                                "manifest's SHA-256 (corrupt or overwritten): restore it or re-run the retraining step")
        text = body.decode("utf-8", errors="replace")
        for macro in ("version", "score", "reference"):
            if f"macro {name}_{macro}()" not in text:
                raise ArtifactError(f"{name} {entry['version']}: s3://{bucket}/{entry['key']} defines no "
                                    f"{name}_{macro}() macro: not a promoted-model file")
        files[name] = body
    out.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (out / f"{name}.sql").write_bytes(body)
    return "scoring with " + ", ".join(f"{n} {models[n]['version']}" for n in names) + f" ({where})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--manifest-key", required=True)
    parser.add_argument("--shipped", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--error-file", type=Path)
    args = parser.parse_args(argv)
    import boto3

    try:
        print("fetch_models:", fetch(boto3.client("s3"), bucket=args.bucket, manifest_key=args.manifest_key,
                                     shipped=args.shipped, out=args.out))
    except ArtifactError as err:
        message = f"promoted models: {err}"
        print(f"fetch_models: {message}", file=sys.stderr)
        if args.error_file:
            args.error_file.parent.mkdir(parents=True, exist_ok=True)
            args.error_file.write_text(message + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
