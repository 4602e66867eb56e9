"""`make demo`: run the platform end to end on this machine, as a sequence of named steps.

Each step prints its progress, fails fast with one clear line and a non-zero exit, and contributes a section to
demo_output/summary.json (key = step name). A summary table closes the run.

Adding a step (data pipeline owners): write ``def my_step(ctx: DemoContext) -> StepResult`` and insert
``Step("name", "what it does", my_step)`` into STEPS at its place in the flow
(generate → ingest → dbt → evaluate → render → synth). Raise ``DemoError("what failed: what to do")`` for a
failure the user can act on. Run a subset with ``python -m scripts.demo --steps synth``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUT_DIR = REPO_ROOT / "demo_output"


class DemoError(Exception):
    """A failure the user can act on: the message says what failed and what to do, in one line."""


@dataclass
class StepResult:
    headline: str  # one line for the summary table
    summary: Any  # JSON-serializable section of summary.json under the step's name
    table: list[list[str]] | None = None  # optional detail rows printed after the summary table
    table_header: list[str] | None = None


@dataclass
class DemoContext:
    output_dir: Path
    summary: dict[str, Any] = field(default_factory=dict)

    def log(self, message: str) -> None:
        print(f"    {message}", flush=True)


@dataclass(frozen=True)
class Step:
    name: str
    description: str
    run: Callable[[DemoContext], StepResult]


# --- steps ----------------------------------------------------------------------------------------------------


def synth_step(ctx: DemoContext) -> StepResult:
    """Synthesize dev, staging and prod with the AwsSolutions, PCI DSS 3.2.1 and NIST 800-53 R5 packs on."""
    from infra.config import ENVIRONMENT_NAMES, ConfigError
    from infra.synthesis import synthesize_environment

    per_env: dict[str, dict] = {}
    rows = []
    for env in ENVIRONMENT_NAMES:
        started = time.perf_counter()
        try:
            result = synthesize_environment(env, ctx.output_dir / "cdk.out" / env)
        except ConfigError as err:
            raise DemoError(f"config of {env}: {err}") from None
        per_stack = {s: len(result.template(s).get("Resources", {})) for s in result.stack_ids}
        per_env[env] = {
            "stacks": len(per_stack),
            "resources": sum(per_stack.values()),
            "nag_unacknowledged": len(result.unacknowledged),
            "nag_acknowledged": len(result.raw_findings) - len(result.unacknowledged),
            "resources_per_stack": per_stack,
            "seconds": round(time.perf_counter() - started, 1),
        }
        ctx.log(f"{env}: {len(per_stack)} stacks, {sum(per_stack.values())} resources, "
                f"{len(result.unacknowledged)} unacknowledged findings ({per_env[env]['seconds']} s)")
        rows += [[env, stack, str(n)] for stack, n in per_stack.items()]
        if result.unacknowledged:
            first = result.unacknowledged[0]
            raise DemoError(f"{env}: {len(result.unacknowledged)} unacknowledged cdk-nag finding(s), first "
                            f"{first.rule} on {first.path}: fix it or acknowledge it in infra/compliance.py")
        if result.synth_error:
            raise DemoError(f"{env}: synthesis failed ({result.synth_error}): see "
                            f"{result.outdir / 'validation-report.json'}")
    total = sum(v["resources"] for v in per_env.values())
    return StepResult(
        headline=f"{len(per_env)} environments, {total} resources, 0 unacknowledged findings",
        summary=per_env,
        table=rows,
        table_header=["env", "stack", "resources"],
    )


STEPS: list[Step] = [
    Step("synth", "synthesize every environment with the compliance packs", synth_step),
]


# --- driver ---------------------------------------------------------------------------------------------------


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = "  ".join("{:<%d}" % w for w in widths)
    print(line.format(*header))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))


def run(steps: list[Step], output_dir: Path) -> int:
    output_dir.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(output_dir=output_dir)
    outcomes: list[list[str]] = []
    details: list[StepResult] = []
    exit_code = 0
    for index, step in enumerate(steps, 1):
        print(f"[{index}/{len(steps)}] {step.name}: {step.description}", flush=True)
        started = time.perf_counter()
        try:
            result = step.run(ctx)
        except DemoError as err:
            outcomes.append([step.name, "FAILED", f"{time.perf_counter() - started:.1f}", str(err)])
            print(f"    FAILED: {err}", file=sys.stderr, flush=True)
            exit_code = 1
            break
        ctx.summary[step.name] = result.summary
        details.append(result)
        outcomes.append([step.name, "ok", f"{time.perf_counter() - started:.1f}", result.headline])
    (output_dir / "summary.json").write_text(json.dumps(ctx.summary, indent=2, sort_keys=True) + "\n")
    print()
    _print_table(["step", "status", "seconds", "result"], outcomes)
    for result in details:
        if result.table:
            print()
            _print_table(result.table_header or [], result.table)
    print(f"\nsummary: {output_dir / 'summary.json'}")
    return exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", nargs="+", choices=[s.name for s in STEPS], help="run only these steps")
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR)
    args = parser.parse_args(argv)
    # Same offline, quiet toolchain as the Makefile, however the demo is started.
    node_bin = REPO_ROOT / "node_modules" / ".bin"
    if node_bin.is_dir() and str(node_bin) not in os.environ.get("PATH", ""):
        os.environ["PATH"] = f"{node_bin}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    selected = [s for s in STEPS if not args.steps or s.name in args.steps]
    return run(selected, args.output_dir)


if __name__ == "__main__":
    sys.exit(main())
