"""Synth cost of the whole platform (dev + staging + prod, nag packs on) against a one-bucket CDK app.

Both are timed the same way, as a fresh Python process each (what `cdk synth` runs), with cdk.json's context and
CDK's built-in template validation on, alternating the two so load from other processes on this shared machine
hits both alike; the fastest round of each is compared (the run least disturbed by other processes, as timeit
does), the median is reported alongside, and so is the ratio of CPU seconds (Python + its Node runtime), which
other processes' load hardly changes. Goal: platform <= 2x the one-bucket app, i.e. the platform
adds at most one more "empty app" worth of time on top of the fixed jsii/aws-cdk-lib start-up. Also reported:
the CDK CLI path (`cdk synth '**' -c env=prod`, what `make synth` runs) against the same one-bucket app.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import REPO_ROOT, Measurement
from infra.application import cdk_json_context
from infra.config import CONTEXT_KEY

ROUNDS = 5
GOAL_RATIO = 2.0

PLATFORM = """
from pathlib import Path
from infra.config import ENVIRONMENT_NAMES
from infra.synthesis import synthesize_environment
for env in ENVIRONMENT_NAMES:
    synthesize_environment(env, Path({outdir!r}) / env)  # findings are the tests' business; this times the work
"""

ONE_BUCKET = """
from aws_cdk import App, Stack, aws_s3 as s3
from infra.application import cdk_json_context
app = App(context=cdk_json_context(), outdir={outdir!r})
s3.Bucket(Stack(app, "OneBucket"), "Bucket")
app.synth()
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{REPO_ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(CDK_DISABLE_CLI_TELEMETRY="true", CDK_DISABLE_VERSION_CHECK="true",
               JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    env.pop("CDK_VALIDATION", None)  # the comparison is with built-in validation on, for both
    return env


_FINDINGS_ONLY = "Synthesis finished with errors"  # CLI: templates written, validation reported findings
notes: list[str] = []


cpu: dict[str, list[float]] = {}


def _children_cpu() -> float:
    # Includes grandchildren once reaped: the jsii Node runtime under Python, the app under the CDK CLI.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(cmd: list[str], cwd: Path, key: str = "") -> float:
    started, cpu_started = time.perf_counter(), _children_cpu()
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - started
    cpu.setdefault(key, []).append(_children_cpu() - cpu_started)
    if proc.returncode != 0:
        last = proc.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
        if last[0] != _FINDINGS_ONLY:
            raise RuntimeError(f"{' '.join(cmd[:3])} failed: {last[0]}")
        # Timing is still valid (all work done); the test suite is where findings fail the build.
        notes.append("CLI synth reported validation findings (see make synth)")
    return elapsed


def _python(script: str, outdir: Path) -> list[str]:
    return [sys.executable, "-c", script.format(outdir=str(outdir))]


def run() -> list[Measurement]:
    work = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    one_app = work / "one-bucket-app"
    one_app.mkdir()
    # The CLI variant: its own cdk.json with the same feature flags; the CLI passes context and outdir itself.
    (one_app / "app.py").write_text(
        "from aws_cdk import App, Stack, aws_s3 as s3\n"
        "app = App()\n"
        "s3.Bucket(Stack(app, 'OneBucket'), 'Bucket')\n"
        "app.synth()\n"
    )
    flags = {k: v for k, v in cdk_json_context().items() if k != CONTEXT_KEY}
    (one_app / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py", "notices": False,
                                                  "context": flags}))
    cdk = str(REPO_ROOT / "node_modules" / ".bin" / "cdk")
    times: dict[str, list[float]] = {"platform": [], "one_bucket": [], "cli_prod": [], "cli_one_bucket": []}
    try:
        for i in range(ROUNDS):
            times["one_bucket"].append(_timed(_python(ONE_BUCKET, work / f"one-{i}"), REPO_ROOT, "one_bucket"))
            times["platform"].append(_timed(_python(PLATFORM, work / f"platform-{i}"), REPO_ROOT, "platform"))
            times["cli_one_bucket"].append(_timed([cdk, "--no-notices", "synth", "--quiet", "-o",
                                                   str(work / f"cli-one-{i}")], one_app))
            times["cli_prod"].append(_timed([cdk, "--no-notices", "synth", "**", "-c", "env=prod", "--quiet", "-o",
                                             str(work / f"cli-prod-{i}")], REPO_ROOT))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    best = {k: min(v) for k, v in times.items()}
    median = {k: statistics.median(v) for k, v in times.items()}
    ratio = best["platform"] / best["one_bucket"]
    median_ratio = median["platform"] / median["one_bucket"]
    cli_ratio = best["cli_prod"] / best["cli_one_bucket"]
    cpu_ratio = statistics.median(cpu["platform"]) / statistics.median(cpu["one_bucket"])

    def spread(k: str) -> str:
        return f"best of {ROUNDS}; median {median[k]:.1f} s, max {max(times[k]):.1f} s"

    return [
        Measurement("one-bucket app synth (python process)", round(best["one_bucket"], 2), "s", detail=spread("one_bucket")),
        Measurement("platform synth: dev+staging+prod, nag on", round(best["platform"], 2), "s", detail=spread("platform")),
        Measurement("platform / one-bucket", round(ratio, 2), "x", goal=f"<= {GOAL_RATIO}", met=ratio <= GOAL_RATIO,
                    detail=f"ratio of medians {median_ratio:.2f}x"),
        # CPU seconds barely move with other processes' load (wall-clock does, a lot, on this shared machine).
        Measurement("platform / one-bucket, CPU time", round(cpu_ratio, 2), "x", goal=f"<= {GOAL_RATIO}",
                    met=cpu_ratio <= GOAL_RATIO,
                    detail=f"median CPU {statistics.median(cpu['platform']):.1f} s vs "
                           f"{statistics.median(cpu['one_bucket']):.1f} s"),
        Measurement("cdk CLI: synth '**' -c env=prod", round(best["cli_prod"], 2), "s",
                    detail=f"one environment; one-bucket app via CLI {best['cli_one_bucket']:.1f} s"),
        Measurement("cdk CLI: prod / one-bucket", round(cli_ratio, 2), "x", detail="; ".join(sorted(set(notes)))),
    ]
